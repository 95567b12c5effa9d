package rest_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// pushEnv is a server and its database file, read directly to check what
// a refused request left behind.
type pushEnv struct {
	*servertest.Env
	dir string
}

func startPush(t *testing.T) *pushEnv {
	t.Helper()
	var dir string
	e := servertest.Start(t, func(c *config.Config) { dir = c.DataDir })
	return &pushEnv{Env: e, dir: dir}
}

func (e *pushEnv) rows(t *testing.T, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, sqlite.FileName)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func webPushToken(t *testing.T, endpoint string) map[string]any {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return map[string]any{"environment": "development", "web_endpoint": endpoint,
		"web_auth": base64.RawURLEncoding.EncodeToString(auth), "web_p256dh": base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())}
}

func subscribeBody(channel, platform, udid string, token map[string]any) map[string]any {
	return map[string]any{"notification_channel": channel, "device": map[string]any{"platform": platform, "udid": udid}, "push_token": token}
}

// list returns the body of an array answer.
func list(t *testing.T, resp *servertest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(resp.Raw, &out); err != nil || out == nil {
		t.Fatalf("body is not an array: %s", resp.Raw)
	}
	return out
}

func TestPushSubscriptionsREST(t *testing.T) {
	e := startPush(t)
	alice, bob := e.NewUser(t), e.NewUser(t)
	resp := e.Do(t, req{Method: "POST", Path: "/subscriptions.json", Token: alice.Token, Body: subscribeBody("gcm", "android",
		"c0ffee00-1234", map[string]any{"environment": "development", "client_identification_sequence": "fcm-token", "bundle_identifier": "com.example"})})
	wantStatus(t, resp, http.StatusCreated)
	got := list(t, resp)
	if len(got) != 1 {
		t.Fatalf("create answered %s", resp.Raw)
	}
	sub := obj(t, got[0], "subscription")
	gcmID := num(t, sub, "id")
	if obj(t, sub, "notification_channel")["name"] != "gcm" || obj(t, sub, "device")["udid"] != "c0ffee00-1234" ||
		obj(t, obj(t, sub, "device"), "platform")["name"] != "android" {
		t.Fatalf("subscription shape: %s", resp.Raw)
	}
	resp = e.Do(t, req{Method: "POST", Path: "/subscriptions.json", Token: alice.Token,
		Body: subscribeBody("web", "web", "browser", webPushToken(t, "http://127.0.0.1:9/push/1"))})
	wantStatus(t, resp, http.StatusCreated)

	resp = e.Do(t, req{Method: "GET", Path: "/subscriptions.json", Token: alice.Token})
	wantStatus(t, resp, http.StatusOK)
	if l := list(t, resp); len(l) != 2 || obj(t, obj(t, l[1], "subscription"), "notification_channel")["name"] != "web" {
		t.Fatalf("alice's list: %s", resp.Raw)
	}
	resp = e.Do(t, req{Method: "GET", Path: "/subscriptions.json", Token: bob.Token})
	if wantStatus(t, resp, http.StatusOK); string(resp.Raw) != "[]" {
		t.Fatalf("bob's list: %s, want []", resp.Raw)
	}
	// Only the owner deletes.
	wantStatus(t, e.Do(t, req{Method: "DELETE", Path: fmtPath("/subscriptions/%d.json", gcmID), Token: bob.Token}), http.StatusForbidden)
	wantStatus(t, e.Do(t, req{Method: "DELETE", Path: "/subscriptions/999999.json", Token: alice.Token}), http.StatusNotFound)
	wantStatus(t, e.Do(t, req{Method: "DELETE", Path: "/subscriptions/abc.json", Token: alice.Token}), http.StatusNotFound)
	if n := e.rows(t, "push_subscriptions"); n != 2 {
		t.Fatalf("%d subscriptions after refused deletes", n)
	}
	resp = e.Do(t, req{Method: "DELETE", Path: fmtPath("/subscriptions/%d.json", gcmID), Token: alice.Token})
	if wantStatus(t, resp, http.StatusOK); len(resp.Raw) != 0 {
		t.Fatalf("delete body: %q", resp.Raw)
	}
	if n := e.rows(t, "push_subscriptions"); n != 1 {
		t.Fatalf("%d subscriptions after delete", n)
	}
	// An app session has no user to subscribe.
	wantStatus(t, e.Do(t, req{Method: "GET", Path: "/subscriptions.json", Token: e.AppSession(t)}), http.StatusForbidden)
	wantExpired(t, e.Do(t, req{Method: "GET", Path: "/subscriptions.json"}))
}

func TestPushSubscriptionsRESTBadInput(t *testing.T) {
	e := startPush(t)
	alice := e.NewUser(t)
	offCurve := make([]byte, 65)
	offCurve[0], offCurve[5] = 4, 9
	with := func(k string, v any) map[string]any {
		tok := webPushToken(t, "https://push.example.com/x")
		tok[k] = v
		return subscribeBody("web", "web", "b", tok)
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"malformed endpoint", with("web_endpoint", "https://"), "web_endpoint"},
		{"non-https endpoint outside loopback", with("web_endpoint", "http://push.example.com/x"), "web_endpoint"},
		{"auth of 8 bytes", with("web_auth", base64.RawURLEncoding.EncodeToString(make([]byte, 8))), "web_auth"},
		{"p256dh of 64 bytes", with("web_p256dh", base64.RawURLEncoding.EncodeToString(make([]byte, 64))), "web_p256dh"},
		{"p256dh not on the curve", with("web_p256dh", base64.RawURLEncoding.EncodeToString(offCurve)), "web_p256dh"},
		{"unknown channel", subscribeBody("mpns", "android", "u", map[string]any{"client_identification_sequence": "t"}), "notification_channel"},
		{"unknown platform", subscribeBody("gcm", "blackberry", "u", map[string]any{"client_identification_sequence": "t"}), "platform"},
		{"apns token not hex", subscribeBody("apns", "ios", "u", map[string]any{"client_identification_sequence": "not-hex"}), "client_identification_sequence"},
		{"udid a number", map[string]any{"notification_channel": "gcm", "device": map[string]any{"platform": "android", "udid": 5},
			"push_token": map[string]any{"client_identification_sequence": "t"}}, "udid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.Do(t, req{Method: "POST", Path: "/subscriptions.json", Token: alice.Token, Body: tc.body}), http.StatusUnprocessableEntity, tc.field)
		})
	}
	if n := e.rows(t, "push_subscriptions"); n != 0 {
		t.Fatalf("refused requests stored %d subscriptions", n)
	}
}

func b64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(b)
}

func TestPushEventsREST(t *testing.T) {
	e := startPush(t)
	alice, bob := e.NewUser(t), e.NewUser(t)
	wantStatus(t, e.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", bob.ID), Token: bob.Token,
		Body: map[string]any{"user": map[string]any{"tag_list": "vip,beta", "external_user_id": 4242}}}), http.StatusOK)
	wantStatus(t, e.Do(t, req{Method: "POST", Path: "/subscriptions.json", Token: bob.Token, Body: subscribeBody("gcm", "android",
		"phone", map[string]any{"environment": "development", "client_identification_sequence": "fcm-token"})}), http.StatusCreated)
	msg := b64JSON(map[string]any{"message": "Alice is calling you", "ios_badge": 1})
	// Every push an event made, whatever became of it since: the server's
	// dispatcher is running and may have sent or refused it already (no
	// FCM credentials here: dead at once).
	queued := func() int {
		st, err := e.Server.Push.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, cs := range st {
			n += cs.Queued + cs.Sent + cs.Dead
		}
		return n
	}
	for i, sel := range []map[string]any{
		{"user": map[string]any{"ids": fmt.Sprintf("%d,999999", bob.ID)}},
		{"user": map[string]any{"ids": []any{bob.ID, 12}}},
		{"user": map[string]any{"tags": map[string]any{"any": "vip,other"}}},
		{"user": map[string]any{"tags": map[string]any{"all": []string{"vip", "beta"}, "exclude": "nobody"}}},
		{"external_user": map[string]any{"ids": "4242"}},
	} {
		ev := map[string]any{"notification_type": "push", "environment": "development", "message": msg}
		for k, v := range sel {
			ev[k] = v
		}
		resp := e.Do(t, req{Method: "POST", Path: "/events.json", Token: alice.Token, Body: map[string]any{"event": ev}})
		wantStatus(t, resp, http.StatusCreated)
		got := list(t, resp)
		if len(got) != 1 {
			t.Fatalf("event answer: %s", resp.Raw)
		}
		event := obj(t, got[0], "event")
		if num(t, event, "id") == 0 || event["message"] != msg || event["event_type"] != "one_shot" || event["kind"] != "API" ||
			num(t, event, "user_id") != alice.ID || num(t, event, "application_id") != e.App.ID || event["environment"] != "development" ||
			!isoRe.MatchString(fmt.Sprint(event["created_at"])) || event["date"] != nil || num(t, event, "occured_count") != 0 {
			t.Fatalf("event shape: %s", resp.Raw)
		}
		if q := queued(); q != i+1 {
			t.Fatalf("after event %d (%v): %d pushes queued", i, sel, q)
		}
	}
	// A platform payload.
	resp := e.Do(t, req{Method: "POST", Path: "/events.json", Token: alice.Token, Body: map[string]any{"event": map[string]any{
		"notification_type": "push", "push_type": "gcm", "environment": "development", "user": map[string]any{"ids": fmt.Sprint(bob.ID)},
		"message": "payload=" + b64JSON(map[string]any{"data": map[string]any{"k": "v"}})}}})
	wantStatus(t, resp, http.StatusCreated)
	if obj(t, obj(t, list(t, resp)[0], "event"), "notification_channel")["name"] != "gcm" || queued() != 6 {
		t.Fatalf("platform event: %s, %d queued", resp.Raw, queued())
	}
}

func TestPushEventsRESTBadInput(t *testing.T) {
	e := startPush(t)
	alice, bob := e.NewUser(t), e.NewUser(t)
	wantStatus(t, e.Do(t, req{Method: "POST", Path: "/subscriptions.json", Token: bob.Token, Body: subscribeBody("gcm", "android",
		"phone", map[string]any{"client_identification_sequence": "fcm-token"})}), http.StatusCreated)
	msg := b64JSON(map[string]any{"message": "hi"})
	many := make([]string, 10001)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	// Within the 1 MiB body limit, far over the message's.
	big := b64JSON(map[string]any{"message": strings.Repeat("x", 700<<10)})
	bobIDs := map[string]any{"ids": fmt.Sprint(bob.ID)}
	for _, tc := range []struct {
		name  string
		ev    map[string]any
		field string
	}{
		{"10,001 recipient ids", map[string]any{"notification_type": "push", "message": msg, "user": map[string]any{"ids": strings.Join(many, ",")}}, "user"},
		{"no recipient", map[string]any{"notification_type": "push", "message": msg}, "user"},
		{"ids not numbers", map[string]any{"notification_type": "push", "message": msg, "user": map[string]any{"ids": "a,b"}}, "user"},
		{"700 KiB message", map[string]any{"notification_type": "push", "message": big, "user": bobIDs}, "message"},
		{"message not JSON", map[string]any{"notification_type": "push", "message": base64.StdEncoding.EncodeToString([]byte("hi")), "user": bobIDs}, "message"},
		{"not push", map[string]any{"notification_type": "email", "message": msg, "user": bobIDs}, "notification_type"},
		{"recurring", map[string]any{"notification_type": "push", "event_type": "multi_shot", "message": msg, "user": bobIDs}, "event_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.Do(t, req{Method: "POST", Path: "/events.json", Token: alice.Token, Body: map[string]any{"event": tc.ev}}),
				http.StatusUnprocessableEntity, tc.field)
		})
	}
	// A 1 MiB message is over the body limit itself.
	huge := b64JSON(map[string]any{"message": strings.Repeat("x", 1<<20)})
	resp := e.Do(t, req{Method: "POST", Path: "/events.json", Token: alice.Token, Body: map[string]any{"event": map[string]any{
		"notification_type": "push", "message": huge, "user": bobIDs}}})
	if resp.Status != http.StatusRequestEntityTooLarge && resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("1 MiB message: %d %s", resp.Status, resp.Raw)
	}
	if ev, out := e.rows(t, "push_events"), e.rows(t, "push_outbox"); ev != 0 || out != 0 {
		t.Fatalf("refused events stored %d events, %d pushes", ev, out)
	}
}

func TestPushVAPIDPublicKeyREST(t *testing.T) {
	e := startPush(t)
	app := e.AppSession(t)
	wantError(t, e.Do(t, req{Method: "GET", Path: "/push/vapid_public_key.json", Token: app}), http.StatusNotFound, "base")
	subject := "mailto:ops@example.com"
	v, err := e.Server.Push.UpdateSettings(t.Context(), e.App.ID, push.SettingsInput{VAPIDGenerate: true, VAPIDSubject: &subject})
	if err != nil {
		t.Fatal(err)
	}
	resp := e.Do(t, req{Method: "GET", Path: "/push/vapid_public_key.json", Token: app})
	wantStatus(t, resp, http.StatusOK)
	if resp.JSON["vapid_public_key"] != v.VAPIDPublicKey || !strings.HasPrefix(v.VAPIDPublicKey, "B") {
		t.Fatalf("key %s, want %s", resp.Raw, v.VAPIDPublicKey)
	}
	wantExpired(t, e.Do(t, req{Method: "GET", Path: "/push/vapid_public_key.json"}))
}
