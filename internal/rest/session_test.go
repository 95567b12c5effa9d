package rest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/servertest"
)

func TestCreateApplicationSession(t *testing.T) {
	env := servertest.Start(t)
	// application_id as a string, as the SDK sends it when init got a string.
	resp := env.Do(t, req{Method: "POST", Path: "/session.json",
		Body: map[string]any{"application_id": "1", "auth_key": env.App.AuthKey, "nonce": 1, "signature": "ignored"}})
	wantStatus(t, resp, http.StatusCreated)
	s := obj(t, resp.JSON, "session")
	if num(t, s, "user_id") != 0 || num(t, s, "application_id") != env.App.ID || num(t, s, "id") <= 0 {
		t.Fatalf("session = %v", s)
	}
	if _, ok := s["user"]; ok {
		t.Fatalf("application session carries a user: %v", s)
	}
	if tok, _ := s["token"].(string); !tokenRe.MatchString(tok) {
		t.Fatalf("token %q is not 40 lowercase hex", s["token"])
	}
	if ts := num(t, s, "ts"); ts < time.Now().Add(-time.Minute).Unix() || ts > time.Now().Add(time.Minute).Unix() {
		t.Fatalf("ts = %d", ts)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if !isoRe.MatchString(s[k].(string)) {
			t.Fatalf("%s = %v", k, s[k])
		}
	}
}

func TestCreateUserSessionByLoginAndEmail(t *testing.T) {
	env := servertest.Start(t)
	resp := env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": env.App.AuthKey},
		Body: map[string]any{"user": map[string]any{"login": "mira", "email": "Mira@Example.org", "password": "awesomepwd"}}})
	wantStatus(t, resp, http.StatusCreated)
	id := num(t, obj(t, resp.JSON, "user"), "id")

	for _, creds := range []map[string]any{
		{"login": "mira", "password": "awesomepwd"},
		{"email": "mira@example.org", "password": "awesomepwd"},
		{"email": "MIRA@example.org", "password": "awesomepwd"},
	} {
		resp := env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{
			"application_id": env.App.ID, "auth_key": env.App.AuthKey, "user": creds}})
		wantStatus(t, resp, http.StatusCreated)
		s := obj(t, resp.JSON, "session")
		if num(t, s, "user_id") != id {
			t.Fatalf("user_id = %v, want %d", s["user_id"], id)
		}
		u := obj(t, s, "user")
		checkUserShape(t, u)
		if u["login"] != "mira" || u["last_request_at"] == nil {
			t.Fatalf("nested user = %v", u)
		}
	}
}

func TestCreateSessionRejects(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	good := func(extra map[string]any) map[string]any {
		m := map[string]any{"application_id": env.App.ID, "auth_key": env.App.AuthKey}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"wrong auth key", map[string]any{"application_id": env.App.ID, "auth_key": "nope"}, 401, "base"},
		{"unknown app", map[string]any{"application_id": 999, "auth_key": env.App.AuthKey}, 401, "base"},
		{"wrong password", good(map[string]any{"user": map[string]any{"login": u.Login, "password": "wrongwrong"}}), 401, "base"},
		{"unknown login", good(map[string]any{"user": map[string]any{"login": "ghost", "password": "whatever1"}}), 404, "base"},
		{"unknown email", good(map[string]any{"user": map[string]any{"email": "ghost@example.com", "password": "whatever1"}}), 404, "base"},
		{"missing application_id", map[string]any{"auth_key": env.App.AuthKey}, 422, "application_id"},
		{"application_id not a number", map[string]any{"application_id": "one", "auth_key": env.App.AuthKey}, 422, "application_id"},
		{"missing auth_key", map[string]any{"application_id": env.App.ID}, 422, "auth_key"},
		{"auth_key not a string", map[string]any{"application_id": env.App.ID, "auth_key": 5}, 422, "auth_key"},
		{"user without password", good(map[string]any{"user": map[string]any{"login": "user1"}}), 422, "user[password]"},
		{"user without login or email", good(map[string]any{"user": map[string]any{"password": "x"}}), 422, "user[login]"},
		{"user not an object", good(map[string]any{"user": "mira"}), 422, "user"},
		{"provider login", good(map[string]any{"provider": "facebook"}), 422, "base"},
		{"malformed JSON", `{"application_id": 1,`, 400, "base"},
		{"JSON array", `[1,2]`, 400, "base"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, env.Do(t, req{Method: "POST", Path: "/session.json", Body: c.body, ContentType: "application/json"}), c.status, c.field)
		})
	}
}

func TestGetAndDestroySession(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	resp := env.Do(t, req{Method: "GET", Path: "/session.json?", Token: u.Token, ContentType: "application/x-www-form-urlencoded; charset=UTF-8"})
	wantStatus(t, resp, 200)
	s := obj(t, resp.JSON, "session")
	if s["token"] != u.Token || num(t, s, "user_id") != u.ID || obj(t, s, "user")["login"] != u.Login {
		t.Fatalf("session = %v", s)
	}
	resp = env.Do(t, req{Method: "DELETE", Path: "/session.json", Token: u.Token, Body: ""})
	wantStatus(t, resp, 200)
	if len(resp.Raw) != 0 {
		t.Fatalf("destroy answered %q, want an empty body", resp.Raw)
	}
	wantExpired(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", u.ID), Token: u.Token}))
	wantExpired(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: u.Token}))
}

func TestLoginAndLogout(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	tok := env.AppSession(t)
	// An application session may not call user endpoints.
	wantError(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", u.ID), Token: tok}), 403, "base")
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/login.json", Token: tok}), 403, "base")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/login.json", Token: tok,
		Body: map[string]any{"login": u.Login, "password": "wrong-password"}}), 401, "base")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/login.json", Token: tok,
		Body: map[string]any{"login": "ghost", "password": "wrong-password"}}), 404, "base")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/login.json", Token: tok, Body: map[string]any{"login": u.Login}}), 422, "password")

	resp := env.Do(t, req{Method: "POST", Path: "/login.json", Token: tok, Body: map[string]any{"login": u.Login, "password": u.Password}})
	wantStatus(t, resp, http.StatusAccepted)
	if num(t, obj(t, resp.JSON, "user"), "id") != u.ID {
		t.Fatalf("login answered %s", resp.Raw)
	}
	s := obj(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: tok}).JSON, "session")
	if num(t, s, "user_id") != u.ID || s["token"] != tok {
		t.Fatalf("after login session = %v", s)
	}
	wantStatus(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", u.ID), Token: tok}), 200)

	resp = env.Do(t, req{Method: "DELETE", Path: "/login.json", Token: tok})
	wantStatus(t, resp, 200)
	if len(resp.Raw) != 0 {
		t.Fatalf("logout answered %q", resp.Raw)
	}
	s = obj(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: tok}).JSON, "session")
	if num(t, s, "user_id") != 0 {
		t.Fatalf("after logout session = %v", s)
	}
}

func TestMissingAndBogusTokens(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	for _, tok := range []string{"", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", "x", string(make([]byte, 200))} {
		for _, r := range []req{
			{Method: "GET", Path: "/session.json"},
			{Method: "GET", Path: fmtPath("/users/%d.json", u.ID)},
			{Method: "GET", Path: "/users/v2.json?login=" + u.Login},
			{Method: "PUT", Path: fmtPath("/users/%d.json", u.ID), Body: map[string]any{"user": map[string]any{"full_name": "x"}}},
			{Method: "DELETE", Path: "/session.json"},
		} {
			r.Token = tok
			if tok == string(make([]byte, 200)) {
				r.Token = ""
				r.Header = map[string]string{"CB-Token": "zzzz"}
			}
			wantExpired(t, env.Do(t, r))
		}
	}
}

func TestSessionExpiresAfterTTLAndSlidesWithUse(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	// Used every 90 minutes, a 2-hour session stays alive for 6 hours.
	for range 4 {
		env.Clock.Advance(90 * time.Minute)
		wantStatus(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: u.Token}), 200)
	}
	// Left alone for 2 hours, it is gone, with the body the SDK recognises.
	env.Clock.Advance(2*time.Hour + time.Second)
	wantExpired(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", u.ID), Token: u.Token}))
	wantExpired(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: u.Token}))
	// A new session works.
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: env.Login(t, u.Login, u.Password)}), 200)
}

func TestAppsAreIsolated(t *testing.T) {
	env := servertest.Start(t)
	a := env.NewUser(t)
	other, err := env.Server.Auth.CreateApp(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same login may exist in both apps.
	resp := env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": other.AuthKey},
		Body: map[string]any{"user": map[string]any{"login": a.Login, "password": "password-b"}}})
	wantStatus(t, resp, http.StatusCreated)
	bID := num(t, obj(t, resp.JSON, "user"), "id")
	// A's password does not open B's user, and A's credentials do not work with B's key.
	wantError(t, env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{"application_id": other.ID,
		"auth_key": other.AuthKey, "user": map[string]any{"login": a.Login, "password": a.Password}}}), 401, "base")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{"application_id": env.App.ID,
		"auth_key": other.AuthKey}}), 401, "base")
	resp = env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{"application_id": other.ID,
		"auth_key": other.AuthKey, "user": map[string]any{"login": a.Login, "password": "password-b"}}})
	wantStatus(t, resp, http.StatusCreated)
	bTok := obj(t, resp.JSON, "session")["token"].(string)

	// B's token sees nothing of app A, and A's token nothing of B.
	wantStatus(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", a.ID), Token: bTok}), 404)
	wantStatus(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", bID), Token: a.Token}), 404)
	resp = env.Do(t, req{Method: "GET", Path: "/users/by_login.json?login=" + a.Login, Token: bTok})
	if num(t, obj(t, resp.JSON, "user"), "id") != bID {
		t.Fatalf("by_login in app B found %s", resp.Raw)
	}
	resp = env.Do(t, req{Method: "GET", Path: fmtPath("/users/v2.json?id[in][]=%d&id[in][]=%d", a.ID, bID), Token: bTok})
	sameIDs(t, ids(t, resp.JSON["items"].([]any), false), []int64{bID})
	wantError(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", a.ID), Token: bTok,
		Body: map[string]any{"user": map[string]any{"full_name": "hijack"}}}), 404, "base")
	wantError(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/users/%d.json", a.ID), Token: bTok}), 404, "base")
	resp = env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", a.ID), Token: a.Token})
	if obj(t, resp.JSON, "user")["full_name"] != nil {
		t.Fatalf("user of app A changed: %s", resp.Raw)
	}
}
