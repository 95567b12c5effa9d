package c2s_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// openSASL opens a stream up to the SASL features.
func openSASL(t *testing.T, env *servertest.Env) *client {
	t.Helper()
	c := dial(t, env.WSURL)
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	return c
}

func (c *client) auth(local, password string) *xmpp.Element {
	c.t.Helper()
	c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + plain("", local, password) + `</auth>`)
	return c.recv()
}

// Guessing a password over SASL: five wrong passwords are answered
// not-authorized, then even the right one is refused unchecked with
// temporary-auth-failure (RFC 6120 §6.5.12), and the sixth failure on one
// stream ends it with policy-violation. The backoff outlives the stream
// and is the same one REST logins see; it ends when its window has passed
// (the server's clock is moved, nobody sleeps). Each failure is logged,
// without the password.
func TestSASLGuessingBacksOffAndEndsTheStream(t *testing.T) {
	var logs servertest.Log
	env := servertest.StartLogged(t, &logs)
	env.Clock.Freeze()
	u := env.NewUser(t)
	local := fmt.Sprintf("%d-%d", u.ID, env.App.ID)
	c := openSASL(t, env)
	for i := range 5 {
		if f := c.auth(local, fmt.Sprintf("guess-%d-secret", i)); f.Name != "failure" || f.Child("not-authorized", "") == nil {
			t.Fatalf("wrong password %d answered %s", i+1, f.AppendXML(nil))
		}
	}
	f := c.auth(local, u.Password)
	if f.Name != "failure" || f.Child("temporary-auth-failure", "") == nil ||
		!strings.Contains(f.Child("text", "").Text(), "retry in 1 seconds") {
		t.Fatalf("the right password while backed off answered %s; want temporary-auth-failure naming the wait", f.AppendXML(nil))
	}
	if e := c.recv(); e.Name != "stream:error" || e.Child("policy-violation", "") == nil {
		t.Fatalf("after six failures on one stream: %s; want a policy-violation stream error", e.AppendXML(nil))
	}

	// A new stream, and REST, are refused too: the count is the account's.
	c = openSASL(t, env)
	if f := c.auth(local, u.Password); f.Child("temporary-auth-failure", "") == nil {
		t.Fatalf("on a new stream while backed off: %s", f.AppendXML(nil))
	}
	resp := env.Do(t, servertest.Req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": env.App.ID, "auth_key": env.App.AuthKey,
		"user": map[string]any{"login": u.Login, "password": u.Password}}})
	if resp.Status != http.StatusTooManyRequests {
		t.Fatalf("REST login while backed off over XMPP: %d %s; want 429", resp.Status, resp.Raw)
	}

	env.Clock.Advance(time.Second)
	if s := c.auth(local, u.Password); s.Name != "success" {
		t.Fatalf("after the backoff: %s; want success", s.AppendXML(nil))
	}

	out := logs.String()
	if strings.Contains(out, "-secret") || strings.Contains(out, u.Password) {
		t.Fatalf("the log holds a password:\n%s", out)
	}
	var failed int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] != "login failed" {
			continue
		}
		failed++
		if rec["level"] != "WARN" || rec["via"] != "xmpp" || rec["user"] != fmt.Sprint(u.ID) ||
			rec["app"] != float64(env.App.ID) || rec["addr"] != "127.0.0.1" || rec["reason"] != "wrong password" {
			t.Errorf("failure logged as %s", line)
		}
	}
	if failed != 5 {
		t.Fatalf("%d failures logged; want 5 (refused attempts are not failures):\n%s", failed, out)
	}
}

// A session that sends faster than --max-stanza-rate gets resource-
// constraint (code 500, type wait) for what is over, and what is refused
// is neither delivered nor stored; one that keeps flooding is closed with
// policy-violation.
func TestStanzaFloodIsRefusedThenClosed(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate, c.MaxStanzaBurst = 1, 10 })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	saved := func(id string) string {
		return `<message type="chat" to="` + userJID(env, bob) + `" id="` + id + `" xmlns="jabber:client"><body>flood</body>` +
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`
	}
	a.send(saved("65a1f3d9c81a4f0e2b000000"))
	dialogID := extra(t, b.expect("message"), "dialog_id")

	// Far more than the burst, as fast as the socket takes them; the
	// server may close the stream before the last ones are written.
	const flood = 400
	for i := 1; i <= flood; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := a.c.Write(ctx, websocket.MessageText, []byte(saved(fmt.Sprintf("65a1f3d9c81a4f0e2b%06x", i))))
		cancel()
		if err != nil {
			break
		}
	}
	refused := map[string]bool{}
	for {
		el := a.recv()
		if el.Name == "stream:error" {
			if el.Child("policy-violation", "") == nil {
				t.Fatalf("stream error %s; want policy-violation", el.AppendXML(nil))
			}
			break
		}
		e := el.Child("error", "")
		if el.Name != "message" || el.Attr("type") != "error" || e == nil || e.Attr("code") != "500" || e.Attr("type") != "wait" ||
			e.Child("resource-constraint", xmpp.NSStanzas) == nil {
			t.Fatalf("alice got %s; want resource-constraint errors, then the stream error", el.AppendXML(nil))
		}
		refused[el.Attr("id")] = true
	}
	if len(refused) < 100 {
		t.Fatalf("%d stanzas refused before the stream ended; want at least the 100 tolerated", len(refused))
	}

	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&limit=1000&chat_dialog_id=" + dialogID,
		Token: bob.Token}, http.StatusOK)
	items := hist["items"].([]any)
	for _, it := range items {
		if id := it.(map[string]any)["_id"].(string); refused[id] {
			t.Fatalf("refused message %s was stored", id)
		}
	}
	// Every message was stored, refused or never read: none twice.
	if len(items)+len(refused) > 1+flood {
		t.Fatalf("%d messages stored and %d refused of %d sent", len(items), len(refused), 1+flood)
	}
	// Bob got no refused message either.
	b.send(`<iq type="get" id="done" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	for {
		el := b.recv()
		if el.Name == "iq" && el.Attr("id") == "done" {
			break
		}
		if refused[el.Attr("id")] {
			t.Fatalf("refused message %s was delivered", el.Attr("id"))
		}
	}
}
