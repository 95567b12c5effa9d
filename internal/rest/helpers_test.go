package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

type req = servertest.Req

var (
	isoRe   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	tokenRe = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

const expiredBody = `{"errors":{"base":["Required session does not exist"]}}`

// wantError asserts status and that errors[field] holds a message.
func wantError(t *testing.T, resp *servertest.Response, status int, field string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status = %d, want %d; body %s", resp.Status, status, resp.Raw)
	}
	errs, ok := resp.JSON["errors"].(map[string]any)
	if !ok {
		t.Fatalf("body has no errors object: %s", resp.Raw)
	}
	msgs, ok := errs[field].([]any)
	if !ok || len(msgs) == 0 {
		t.Fatalf("errors has no %q entry: %s", field, resp.Raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("error Content-Type = %q", ct)
	}
}

func wantExpired(t *testing.T, resp *servertest.Response) {
	t.Helper()
	if resp.Status != http.StatusUnauthorized || string(resp.Raw) != expiredBody {
		t.Fatalf("got %d %s, want 401 %s", resp.Status, resp.Raw, expiredBody)
	}
}

func wantStatus(t *testing.T, resp *servertest.Response, status int) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status = %d, want %d; body %s", resp.Status, status, resp.Raw)
	}
}

func obj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is not an object in %v", key, m)
	}
	return v
}

func num(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%q is not a number in %v", key, m)
	}
	return int64(v)
}

// userKeys is the User model of REST.md §2.1.
var userKeys = []string{"id", "full_name", "email", "login", "phone", "website", "created_at", "updated_at",
	"last_request_at", "external_user_id", "external_id", "facebook_id", "twitter_id", "blob_id",
	"custom_data", "avatar", "user_tags", "timezone"}

func checkUserShape(t *testing.T, u map[string]any) {
	t.Helper()
	for _, k := range userKeys {
		if _, ok := u[k]; !ok {
			t.Errorf("user lacks %q: %v", k, u)
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := u[k].(string); !isoRe.MatchString(s) {
			t.Errorf("user %s = %v, want ISO seconds with Z", k, u[k])
		}
	}
	for _, k := range []string{"password", "password_hash", "old_password"} {
		if _, ok := u[k]; ok {
			t.Errorf("user exposes %q", k)
		}
	}
}

func ids(t *testing.T, items []any, wrapped bool) []int64 {
	t.Helper()
	out := []int64{}
	for _, it := range items {
		m := it.(map[string]any)
		if wrapped {
			m = obj(t, m, "user")
		}
		out = append(out, num(t, m, "id"))
	}
	return out
}

func sameIDs(t *testing.T, got, want []int64) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func fmtPath(format string, args ...any) string { return fmt.Sprintf(format, args...) }
