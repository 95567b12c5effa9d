package rest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

func sessionWith(env *servertest.Env, login, password string) req {
	return req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": env.App.ID, "auth_key": env.App.AuthKey,
		"user": map[string]any{"login": login, "password": password}}}
}

// wantLimited asserts a 429 with the ConnectyCube error body naming the
// wait, and a Retry-After of that many seconds.
func wantLimited(t *testing.T, resp *servertest.Response, retryAfter string) {
	t.Helper()
	wantError(t, resp, 429, "base")
	if got := resp.Header.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After = %q; want %q", got, retryAfter)
	}
	msg := resp.JSON["errors"].(map[string]any)["base"].([]any)[0].(string)
	if !strings.Contains(msg, "retry in "+retryAfter+" seconds") {
		t.Fatalf("message %q does not name the wait", msg)
	}
}

// The loop of issue 10: wrong passwords as fast as possible, then the
// right one. Five wrong ones are checked; after that attempts are refused
// unchecked (429), the right password too, until the backoff window has
// passed, and each failure doubles it. A success resets the count.
func TestLoginGuessingBacksOff(t *testing.T) {
	env := servertest.Start(t)
	env.Clock.Freeze()
	u := env.NewUser(t)
	var checked int
	for i := range 50 {
		resp := env.Do(t, sessionWith(env, u.Login, fmt.Sprintf("wrong-%d", i)))
		switch resp.Status {
		case 401:
			checked++
		case 429:
		default:
			t.Fatalf("wrong password %d: %d %s", i, resp.Status, resp.Raw)
		}
	}
	if checked != 5 {
		t.Fatalf("%d of 50 wrong passwords were checked; want 5", checked)
	}
	wantLimited(t, env.Do(t, sessionWith(env, u.Login, u.Password)), "1")

	// After 1 s one more attempt; it fails, and the next wait is 2 s.
	env.Clock.Advance(time.Second)
	wantStatus(t, env.Do(t, sessionWith(env, u.Login, "wrong-again")), 401)
	wantLimited(t, env.Do(t, sessionWith(env, u.Login, u.Password)), "2")
	env.Clock.Advance(2 * time.Second)
	wantStatus(t, env.Do(t, sessionWith(env, u.Login, u.Password)), 201)

	// The success reset the count: five free failures again.
	for i := range 5 {
		wantStatus(t, env.Do(t, sessionWith(env, u.Login, fmt.Sprintf("typo-%d", i))), 401)
	}
	wantLimited(t, env.Do(t, sessionWith(env, u.Login, u.Password)), "1")
}

// POST /login shares the count: it is the account's, whichever way in.
func TestLoginToSessionSharesTheBackoff(t *testing.T) {
	env := servertest.Start(t)
	env.Clock.Freeze()
	u := env.NewUser(t)
	app := env.AppSession(t)
	for i := range 5 {
		wantStatus(t, env.Do(t, req{Method: "POST", Path: "/login.json", Token: app,
			Body: map[string]any{"login": u.Login, "password": fmt.Sprintf("wrong-%d", i)}}), 401)
	}
	wantLimited(t, env.Do(t, req{Method: "POST", Path: "/login.json", Token: app,
		Body: map[string]any{"login": u.Login, "password": u.Password}}), "1")
	wantLimited(t, env.Do(t, sessionWith(env, u.Login, u.Password)), "1")
	env.Clock.Advance(time.Second)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/login.json", Token: app,
		Body: map[string]any{"login": u.Login, "password": u.Password}}), 202)
}

// One address trying many accounts, one password each, is not slowed by
// any account's count; it is by the address's: --login-failures-per-ip a
// minute, then one every 60/n seconds. Successes are not charged.
func TestLoginFailuresPerAddress(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.LoginFailuresPerIP = 3 })
	env.Clock.Freeze()
	u := env.NewUser(t)
	for range 5 {
		wantStatus(t, env.Do(t, sessionWith(env, u.Login, u.Password)), 201)
	}
	for i := range 3 {
		// An unknown login is 404 (REST.md §1.8) but still a failure
		// charged to the address.
		wantStatus(t, env.Do(t, sessionWith(env, fmt.Sprintf("nobody%d", i), "password-1")), 404)
	}
	wantLimited(t, env.Do(t, sessionWith(env, "nobody9", "password-1")), "20")
	wantLimited(t, env.Do(t, sessionWith(env, u.Login, u.Password)), "20")
	env.Clock.Advance(20 * time.Second)
	wantStatus(t, env.Do(t, sessionWith(env, u.Login, u.Password)), 201)
}

// Application sessions take no password but each is a stored row: one
// address may create --app-sessions-per-ip a minute. User sessions are
// not counted.
func TestAppSessionsPerAddress(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.AppSessionsPerIP = 3 })
	env.Clock.Freeze()
	app := req{Method: "POST", Path: "/session.json", Body: map[string]any{"application_id": env.App.ID, "auth_key": env.App.AuthKey}}
	for range 3 {
		wantStatus(t, env.Do(t, app), 201)
	}
	resp := env.Do(t, app)
	wantError(t, resp, 429, "base")
	if resp.Header.Get("Retry-After") != "20" || !strings.Contains(string(resp.Raw), "retry in 20 seconds") {
		t.Fatalf("refused app session: %v %s", resp.Header, resp.Raw)
	}
	u := env.NewUser(t) // signs up with CB-AuthKey and logs in: no app session
	wantStatus(t, env.Do(t, sessionWith(env, u.Login, u.Password)), 201)
	env.Clock.Advance(20 * time.Second)
	wantStatus(t, env.Do(t, app), 201)
}

// A failed login is logged at warn with the app, the login, the address
// and the reason, never the password; refused attempts at info.
func TestFailedLoginIsLoggedWithoutPassword(t *testing.T) {
	var logs servertest.Log
	env := servertest.StartLogged(t, &logs)
	env.Clock.Freeze()
	u := env.NewUser(t)
	for i := range 6 {
		env.Do(t, sessionWith(env, u.Login, fmt.Sprintf("hunter%d-secret", i)))
	}
	env.Do(t, sessionWith(env, "nosuchlogin", "hunter9-secret"))
	out := logs.String()
	if strings.Contains(out, "-secret") || strings.Contains(out, u.Password) {
		t.Fatalf("the log holds a password:\n%s", out)
	}
	var failed, refused int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		switch rec["msg"] {
		case "login failed":
			failed++
			want := map[string]any{"level": "WARN", "app": float64(env.App.ID), "addr": "127.0.0.1", "via": "rest",
				"login": u.Login, "reason": "wrong password"}
			if rec["login"] == "nosuchlogin" {
				want["login"], want["reason"] = "nosuchlogin", "unknown user"
			}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("failure line has %s=%v; want %v: %s", k, rec[k], v, line)
				}
			}
		case "login refused":
			refused++
			if rec["level"] != "INFO" || rec["login"] != u.Login || rec["addr"] != "127.0.0.1" {
				t.Errorf("refusal line: %s", line)
			}
		}
	}
	if failed != 6 || refused != 1 {
		t.Fatalf("%d failures and %d refusals logged; want 6 and 1:\n%s", failed, refused, out)
	}
}

// An unknown login answers 404 (REST.md §1.8) yet is a failure like a
// wrong password: guessing one login backs off after the same five
// checked attempts, so a 404 is no way around the guard.
func TestUnknownLoginBacksOff(t *testing.T) {
	env := servertest.Start(t)
	env.Clock.Freeze()
	var checked int
	for i := range 20 {
		resp := env.Do(t, sessionWith(env, "nosuchlogin", fmt.Sprintf("guess-%d", i)))
		switch resp.Status {
		case 404:
			checked++
		case 429:
		default:
			t.Fatalf("attempt %d: %d %s", i, resp.Status, resp.Raw)
		}
	}
	if checked != 5 {
		t.Fatalf("%d of 20 attempts on an unknown login were checked; want 5", checked)
	}
	wantLimited(t, env.Do(t, sessionWith(env, "nosuchlogin", "guess-again")), "1")
}
