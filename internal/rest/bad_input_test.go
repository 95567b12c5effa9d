package rest_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/servertest"
)

// Client mistakes that used to reach SQLite (or the body reader) and come
// back as 500 (issue 10, item 10). Each must be a 4xx with the ConnectyCube
// error body naming the field.

func manyValues(n int, f func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, ",")
}

func TestSearchTextWithNUL(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	resp := env.Do(t, req{Method: "GET", Path: "/chat/search.json?search_text=hello%00world", Token: a.Token})
	wantError(t, resp, http.StatusUnprocessableEntity, "search_text")
}

func TestUsersByTagsTooMany(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	tags := manyValues(1000, func(i int) string { return fmt.Sprintf("tag%d", i) })
	resp := env.Do(t, req{Method: "GET", Path: "/users/by_tags.json?tags=" + url.QueryEscape(tags), Token: a.Token})
	wantError(t, resp, http.StatusUnprocessableEntity, "tags")
	// The documented limit itself is accepted.
	tags = manyValues(100, func(i int) string { return fmt.Sprintf("tag%d", i) })
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/users/by_tags.json?tags=" + url.QueryEscape(tags), Token: a.Token}), http.StatusOK)
}

func TestUsersFilterTagsTooMany(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	tags := manyValues(1000, func(i int) string { return fmt.Sprintf("tag%d", i) })
	resp := env.Do(t, req{Method: "GET", Path: "/users.json?filter[]=" + url.QueryEscape("string user_tags in "+tags), Token: a.Token})
	wantError(t, resp, http.StatusUnprocessableEntity, "filter[]")
	resp = env.Do(t, req{Method: "GET", Path: "/users/v2.json?user_tags[in]=" + url.QueryEscape(tags), Token: a.Token})
	wantError(t, resp, http.StatusUnprocessableEntity, "user_tags[in]")
	resp = env.Do(t, req{Method: "GET", Path: "/users/v2.json?login[in]=x&user_tags[nin]=" + url.QueryEscape(tags), Token: a.Token})
	wantError(t, resp, http.StatusUnprocessableEntity, "user_tags[nin]")
	ids := manyValues(1000, func(i int) string { return fmt.Sprint(i + 1) })
	resp = env.Do(t, req{Method: "GET", Path: "/users/v2.json?id[in]=" + ids, Token: a.Token})
	wantError(t, resp, http.StatusUnprocessableEntity, "id[in]")
}

func TestDialogFilterListsTooLong(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	ids := manyValues(1000, func(i int) string { return fmt.Sprint(i + 1) })
	for _, q := range []string{"occupants_ids[all]=" + ids, "occupants_ids[in]=" + ids, "type[nin]=" + ids} {
		resp := env.Do(t, req{Method: "GET", Path: "/chat/Dialog.json?" + q, Token: a.Token})
		wantError(t, resp, http.StatusUnprocessableEntity, strings.SplitN(q, "=", 2)[0])
	}
	// The documented limit itself is accepted.
	ids = manyValues(100, func(i int) string { return fmt.Sprint(i + 1) })
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog.json?occupants_ids[all]=" + ids, Token: a.Token}), http.StatusOK)
}

func TestReactionWithNUL(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	b := env.NewUser(t)
	d := newPrivate(t, env, a, b)
	m := send(t, env, a, d, "hello")["_id"].(string)
	for _, field := range []string{"add", "remove"} {
		resp := env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m + "/reactions.json", Token: b.Token,
			Body: map[string]any{field: "a\x00b"}})
		wantError(t, resp, http.StatusUnprocessableEntity, field)
	}
}

// rawRequest sends head and body over a plain connection, then closes the
// writing side: a body shorter than its Content-Length.
func rawRequest(t *testing.T, env *servertest.Env, head, body string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(head + body)); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestBodyCutShort(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	for name, c := range map[string]struct{ ct, body string }{
		"json":      {"application/json", `{"type":2,"name":"x","occupants_ids":[1]}`},
		"form":      {"application/x-www-form-urlencoded", `type=2&name=x`},
		"truncated": {"application/json", `{"type":2,"name":"x`},
	} {
		t.Run(name, func(t *testing.T) {
			length := len(c.body) + 50
			if name == "truncated" {
				length = len(c.body)
			}
			head := fmt.Sprintf("POST /chat/Dialog.json HTTP/1.1\r\nHost: x\r\nCB-Token: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
				a.Token, c.ct, length)
			resp := rawRequest(t, env, head, c.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
		})
	}
}

// Many conditions, each small (as many as the parameter limit allows), are
// no 500 either: SQLite takes a long AND chain, unlike a long OR of LIKEs.
func TestTooManyConditions(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	var ext, filters []string
	for i := range 900 {
		ext = append(ext, fmt.Sprintf("extensions[f%d]=x", i))
		filters = append(filters, "filter[]="+url.QueryEscape(fmt.Sprintf("string login eq u%d", i)))
	}
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Dialog.json?" + strings.Join(ext, "&"), Token: a.Token})
	if resp.Status >= 500 {
		t.Fatalf("dialogs: %d %s", resp.Status, resp.Raw)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/users.json?" + strings.Join(filters, "&"), Token: a.Token})
	if resp.Status >= 500 {
		t.Fatalf("users: %d %s", resp.Status, resp.Raw)
	}
}

// Messages have no extensions: filtering on them is a mistake to name, not
// a column the store lacks (found by FuzzRESTQuery).
func TestMessageExtensionsFilter(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	b := env.NewUser(t)
	d := newPrivate(t, env, a, b)
	for _, q := range []string{"extensions[location]=x", "extensions[location][ne]=x"} {
		resp := env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + d + "&" + q, Token: a.Token})
		wantError(t, resp, http.StatusUnprocessableEntity, "base")
	}
}

// A value longer than SQLite's LIKE pattern limit (50,000 bytes) made the
// LIKE of a user filter fail ("LIKE or GLOB pattern too complex").
func TestUsersFilterValueTooLong(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	long := strings.Repeat("a", 50_001)
	for _, c := range []struct{ path, field string }{
		{"/users/by_full_name.json?full_name=" + long, "full_name"},
		{"/users/v2.json?login[start_with]=" + long, "login[start_with]"},
		{"/users/v2.json?user_tags=" + long, "user_tags[eq]"},
		{"/users/by_tags.json?tags=" + long, "tags"},
	} {
		resp := env.Do(t, req{Method: "GET", Path: c.path, Token: a.Token})
		wantError(t, resp, http.StatusUnprocessableEntity, c.field)
	}
}
