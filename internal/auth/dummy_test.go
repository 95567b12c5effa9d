package auth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// verifications records the hashes passwords were verified against.
type verifications struct {
	mu     sync.Mutex
	hashes []string
}

func (v *verifications) add(h string) { v.mu.Lock(); v.hashes = append(v.hashes, h); v.mu.Unlock() }

// take returns what was recorded since the last call.
func (v *verifications) take() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.hashes
	v.hashes = nil
	return out
}

// saslAttempt opens an XMPP stream over WebSocket and tries one SASL PLAIN
// login, returning the server's answer.
func saslAttempt(t *testing.T, env *servertest.Env, local, password string) *xmpp.Element {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, env.WSURL, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	send := func(s string) {
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	recv := func() *xmpp.Element {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		el, err := xmpp.ParseElement(b, xmpp.Limits{})
		if err != nil {
			t.Fatalf("recv %q: %v", b, err)
		}
		return el
	}
	send(`<open version="1.0" xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost"/>`)
	recv() // open
	recv() // features
	send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00"+local+"\x00"+password)) + `</auth>`)
	return recv()
}

// A login for a user who does not exist costs what one for a user who
// does: exactly one password verification, against a hash of the
// configured cost, on REST (POST /session) and on SASL PLAIN alike. So
// timing cannot tell whether a user exists. (Counted through a hook, not
// timed.)
func TestUnknownUserCostsOneHashOfTheConfiguredCost(t *testing.T) {
	const iterations = 5000 // not the default, to see the configured cost is used
	env := servertest.Start(t, func(c *config.Config) { c.PasswordIterations = iterations })
	u := env.NewUser(t)
	var v verifications
	auth.OnVerify(env.Server.Auth, v.add)
	cost := fmt.Sprintf("pbkdf2-sha256$%d$", iterations)

	check := func(what string, answer func() string, want string) {
		t.Helper()
		if got := answer(); got != want {
			t.Fatalf("%s answered %s; want %s", what, got, want)
		}
		hashes := v.take()
		if len(hashes) != 1 || !strings.HasPrefix(hashes[0], cost) {
			t.Fatalf("%s verified against %q; want one hash of cost %d", what, hashes, iterations)
		}
	}
	rest := func(login string) func() string {
		return func() string {
			resp := env.Do(t, servertest.Req{Method: "POST", Path: "/session.json", Body: map[string]any{
				"application_id": env.App.ID, "auth_key": env.App.AuthKey,
				"user": map[string]any{"login": login, "password": "not-the-password"}}})
			switch resp.Status {
			case 401:
				return "wrong password"
			case 404: // REST.md §1.8: an unknown login is 404
				return "unknown login"
			}
			return fmt.Sprint(resp.Status, string(resp.Raw))
		}
	}
	sasl := func(local string) func() string {
		return func() string {
			f := saslAttempt(t, env, local, "not-the-password")
			if f.Child("not-authorized", "") == nil {
				return string(f.AppendXML(nil))
			}
			return "not-authorized"
		}
	}
	check("REST, existing user", rest(u.Login), "wrong password")
	check("REST, unknown user", rest("nosuchuser"), "unknown login")
	check("SASL, existing user", sasl(fmt.Sprintf("%d-%d", u.ID, env.App.ID)), "not-authorized")
	check("SASL, unknown user", sasl(fmt.Sprintf("%d-%d", u.ID+1000, env.App.ID)), "not-authorized")
	check("SASL, unknown app", sasl(fmt.Sprintf("%d-%d", u.ID, env.App.ID+1000)), "not-authorized")
}

// An ended token that an SDK keeps retrying (it reconnects after every
// closed stream, and logs in with the token it was given) is an everyday
// failure, not guessing: however often it fails, the user's own password
// logins from that address are not held back, and a live token gets in
// while the account backs off from a password guesser.
func TestEndedTokenRetriesDoNotBackOffTheAccount(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	local := fmt.Sprintf("%d-%d", u.ID, env.App.ID)
	if r := env.Do(t, servertest.Req{Method: "DELETE", Path: "/session.json", Token: u.Token}); r.Status != 200 {
		t.Fatalf("DELETE /session: %d", r.Status)
	}
	for i := range 12 {
		if got := saslAttempt(t, env, local, u.Token); got.Name != "failure" || got.Child("not-authorized", "") == nil {
			t.Fatalf("retry %d with the ended token: %s; want <failure><not-authorized/>", i+1, got.Encode())
		}
	}
	env.Login(t, u.Login, u.Password) // 201, not 429

	// A password guesser puts the account from this address into backoff;
	// a live token still logs in.
	live := env.Login(t, u.Login, u.Password)
	for range 6 {
		saslAttempt(t, env, local, "not-the-password")
	}
	if got := saslAttempt(t, env, local, "not-the-password"); got.Child("temporary-auth-failure", "") == nil {
		t.Fatalf("guessing past the free failures: %s; want temporary-auth-failure", got.Encode())
	}
	if got := saslAttempt(t, env, local, live); got.Name != "success" {
		t.Fatalf("a live token during the backoff: %s; want <success/>", got.Encode())
	}
}
