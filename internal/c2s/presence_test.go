package c2s_test

import (
	"context"
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

// REALTIME.md §16.2 (last activity), §16.3 (status streaming), §20.6;
// REST.md §4.8 (online users).

func lastQuery(id, to string) string {
	return `<iq type="get" id="` + id + `" to="` + to + `" xmlns="jabber:client"><query xmlns="jabber:iq:last"/></iq>`
}

// lastActivity asks c for the last activity of to and returns the answer.
func (c *client) lastActivity(to string) *xmpp.Element {
	c.t.Helper()
	c.send(lastQuery("la", to))
	r := c.skipTo("iq")
	if r.Attr("id") != "la" {
		c.t.Fatalf("last activity of %s: got %s", to, r.AppendXML(nil))
	}
	return r
}

// wantSeconds checks a last-activity answer (or push) from the user JID
// from to c's full JID.
func wantSeconds(t *testing.T, r *xmpp.Element, from string, to xmpp.JID, seconds int64) {
	t.Helper()
	q := r.Child("query", xmpp.NSLast)
	if r.Attr("type") != "result" || r.Attr("from") != from || r.Attr("to") != to.String() || q == nil ||
		q.Attr("seconds") != fmt.Sprint(seconds) {
		t.Fatalf("got %s; want a result from %s to %s with seconds=%d", r.AppendXML(nil), from, to, seconds)
	}
}

// wantIQError checks an IQ error's condition and legacy code.
func wantIQError(t *testing.T, r *xmpp.Element, id, cond, code string) {
	t.Helper()
	e := r.Child("error", "")
	if r.Name != "iq" || r.Attr("type") != "error" || r.Attr("id") != id || e == nil || e.Child(cond, xmpp.NSStanzas) == nil || e.Attr("code") != code {
		t.Fatalf("got %s; want an IQ error %s (%s) for %s", r.AppendXML(nil), cond, code, id)
	}
	// The SDK rejects with the text as info (REALTIME.md §19); a user's
	// absence reads the same whatever the reason.
	texts := map[string]string{"item-not-found": "User not found", "service-unavailable": "Service not available."}
	if want, ok := texts[cond]; ok {
		if txt := e.Child("text", xmpp.NSStanzas); txt == nil || txt.Text() != want {
			t.Fatalf("got %s; want the text %q", r.AppendXML(nil), want)
		}
	}
}

// onlineCount is GET /users/online?count=true as u sees it.
func onlineCount(t *testing.T, env *servertest.Env, u *servertest.User) int {
	t.Helper()
	return int(restJSON(t, env, servertest.Req{Method: "GET", Path: "/users/online.json?count=true", Token: u.Token}, http.StatusOK)["count"].(float64))
}

// closeStream ends c's stream cleanly: both closing elements, then the
// WebSocket closing handshake, which the server waits for before the
// session finishes.
func (c *client) closeStream() {
	c.t.Helper()
	c.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
	c.skipTo("close")
	c.c.Close(websocket.StatusNormalClosure, "")
}

func TestLastActivity(t *testing.T) {
	env := servertest.Start(t)
	env.Clock.Freeze()
	alice, bob, never := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	a, aJID := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	bobJID := userJID(env, bob)

	wantSeconds(t, a.lastActivity(bobJID), bobJID, aJID, 0)
	// A full JID is answered for the user, from the bare JID.
	wantSeconds(t, a.lastActivity(bobJID+"/somewhere"), bobJID, aJID, 0)

	// Never connected, unknown, another app: the same answer.
	app2, err := env.Server.Auth.CreateApp(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{userJID(env, never), fmt.Sprintf("%d-%d@localhost", never.ID+1000, env.App.ID),
		fmt.Sprintf("%d-%d@localhost", bob.ID, app2.ID)} {
		wantIQError(t, a.lastActivity(to), "la", "item-not-found", "404")
	}
	// Not a user's JID: bad-request.
	for _, to := range []string{"localhost", "nobody@localhost", fmt.Sprintf("%d-%d@elsewhere", bob.ID, env.App.ID),
		fmt.Sprintf("%d_65a1f0c2e4b0a1b2c3d4e5f7@muc.localhost", env.App.ID), "a@b@c", ""} {
		a.send(`<iq type="get" id="bad" to="` + to + `" xmlns="jabber:client"><query xmlns="jabber:iq:last"/></iq>`)
		wantIQError(t, a.skipTo("iq"), "bad", "bad-request", "400")
	}

	// Offline: seconds since the last session went away.
	b.closeStream()
	servertest.Eventually(t, 5*time.Second, "bob offline", func() bool { return onlineCount(t, env, alice) == 1 })
	env.Clock.Advance(90 * time.Second)
	wantSeconds(t, a.lastActivity(bobJID), bobJID, aJID, 90)
	env.Clock.Advance(time.Hour)
	wantSeconds(t, a.lastActivity(bobJID), bobJID, aJID, 3690)

	// Online again: 0.
	login(t, env, bob, bob.Password)
	wantSeconds(t, a.lastActivity(bobJID), bobJID, aJID, 0)
}

func TestLastSeenSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	env := servertest.Start(t, func(c *config.Config) { c.DataDir = dir })
	alice, left, stayed := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	l, _ := login(t, env, left, left.Password)
	l.closeStream()
	servertest.Eventually(t, 5*time.Second, "left offline", func() bool { return onlineCount(t, env, alice) == 0 })
	login(t, env, stayed, stayed.Password) // online when the server stops: its end is a leave
	if err := env.Server.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	env2 := servertest.Start(t, func(c *config.Config) { c.DataDir = dir })
	env2.Clock.Advance(2 * time.Hour)
	a, aJID := login(t, env2, alice, alice.Password)
	for _, u := range []*servertest.User{left, stayed} {
		r := a.lastActivity(userJID(env2, u))
		q := r.Child("query", xmpp.NSLast)
		if r.Attr("type") != "result" || q == nil {
			t.Fatalf("user %d after a restart: %s; want a result", u.ID, r.AppendXML(nil))
		}
		var n int64
		fmt.Sscan(q.Attr("seconds"), &n)
		if n < 7200 || n > 7200+60 || r.Attr("to") != aJID.String() {
			t.Fatalf("user %d after a restart: %s; want about 7200 seconds", u.ID, r.AppendXML(nil))
		}
	}
}

func subscribeStanza(id, jid string, enable bool) string {
	return fmt.Sprintf(`<iq id="%s" type="set" xmlns="jabber:client"><subscribe xmlns="https://connectycube.com/protocol/status_streaming" user_jid="%s" enable="%t"/></iq>`, id, jid, enable)
}

// subscribe subscribes c to jid (or unsubscribes) and checks the result.
func (c *client) subscribe(jid string, enable bool) {
	c.t.Helper()
	c.send(subscribeStanza("sub", jid, enable))
	if r := c.skipTo("iq"); r.Attr("type") != "result" || r.Attr("id") != "sub" {
		c.t.Fatalf("subscribe %s (%t): got %s", jid, enable, r.AppendXML(nil))
	}
}

// wantPush reads a status push about from with seconds.
func (c *client) wantPush(from string, to xmpp.JID, seconds int64) {
	c.t.Helper()
	r := c.skipTo("iq")
	if !strings.HasPrefix(r.Attr("id"), "status-") {
		c.t.Fatalf("got %s; want a status push", r.AppendXML(nil))
	}
	wantSeconds(c.t, r, from, to, seconds)
}

func TestStatusStreaming(t *testing.T) {
	env := servertest.Start(t)
	env.Clock.Freeze()
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	bobJID := userJID(env, bob)

	// Bob was online once, and went away 30 seconds ago.
	b, _ := login(t, env, bob, bob.Password)
	b.closeStream()
	a0, _ := login(t, env, alice, alice.Password)
	servertest.Eventually(t, 5*time.Second, "bob offline", func() bool { return onlineCount(t, env, alice) == 1 })
	env.Clock.Advance(30 * time.Second)

	// Two sessions of Alice subscribe: each gets the current value.
	a1, a1JID := login(t, env, alice, alice.Password)
	a2, a2JID := login(t, env, alice, alice.Password)
	a1.subscribe(bobJID, true)
	a1.wantPush(bobJID, a1JID, 30)
	a2.subscribe(bobJID, true)
	a2.wantPush(bobJID, a2JID, 30)
	a2.subscribe(bobJID, true) // again: the current value again, one subscription
	a2.wantPush(bobJID, a2JID, 30)
	if bySession, byUser := env.Server.StatusWatches(); bySession != 2 || byUser != 2 {
		t.Fatalf("watches = %d by session, %d by user; want 2", bySession, byUser)
	}

	// Bob comes online: one push of 0 to each subscribed session, none to
	// Alice's other session.
	b1, _ := login(t, env, bob, bob.Password)
	a1.wantPush(bobJID, a1JID, 0)
	a2.wantPush(bobJID, a2JID, 0)
	a1.nothingQueued("after the online push")
	a2.nothingQueued("after the online push")
	a0.nothingQueued("unsubscribed session")

	// A second session of Bob, coming and going: no transition.
	b2, _ := login(t, env, bob, bob.Password)
	b2.send(`<presence type="unavailable" xmlns="jabber:client"/>`)
	b2.sync("gone") // processed, with every push it caused queued
	a1.nothingQueued("a second session came and went")
	b2.closeStream()

	// Bob's last session goes: the push counts from his last activity
	// (a message), not from his pings.
	env.Clock.Advance(10 * time.Second)
	b1.send(chatTo(userJID(env, carol), "m1", "hello"))
	b1.sync("after-message")
	env.Clock.Advance(25 * time.Second)
	b1.sync("ping-is-not-activity")
	b1.send(`<r xmlns="urn:xmpp:sm:3"/>`) // neither is an ack request
	b1.skipTo("a")
	b1.closeStream()
	a1.wantPush(bobJID, a1JID, 25)
	a2.wantPush(bobJID, a2JID, 25)

	// Alice's second session unsubscribes; Bob comes and goes again, in
	// order, to the first only.
	a2.subscribe(bobJID, false)
	b3, _ := login(t, env, bob, bob.Password)
	a1.wantPush(bobJID, a1JID, 0)
	b3.closeStream()
	a1.wantPush(bobJID, a1JID, 0)
	a2.nothingQueued("unsubscribed")
	a1.nothingQueued("each transition once")

	// The subscription ends with the session.
	a1.closeStream()
	servertest.Eventually(t, 5*time.Second, "subscriptions dropped", func() bool {
		bySession, byUser := env.Server.StatusWatches()
		return bySession == 0 && byUser == 0
	})
}

func TestStatusStreamingRefusals(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxWatched = 3 })
	alice := env.NewUser(t)
	users := []*servertest.User{env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t)}
	a, _ := login(t, env, alice, alice.Password)
	app2, err := env.Server.Auth.CreateApp(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ stanza, cond, code string }{
		{subscribeStanza("x", fmt.Sprintf("%d-%d@localhost", users[0].ID, app2.ID), true), "item-not-found", "404"},
		{subscribeStanza("x", fmt.Sprintf("%d-%d@localhost", users[3].ID+1000, env.App.ID), true), "item-not-found", "404"},
		{subscribeStanza("x", "not-a-user@localhost", true), "bad-request", "400"},
		{subscribeStanza("x", "", true), "bad-request", "400"},
		{`<iq id="x" type="set" xmlns="jabber:client"><subscribe xmlns="https://connectycube.com/protocol/status_streaming" user_jid="` + userJID(env, users[0]) + `" enable="maybe"/></iq>`, "bad-request", "400"},
		{`<iq id="x" type="get" xmlns="jabber:client"><subscribe xmlns="https://connectycube.com/protocol/status_streaming" user_jid="` + userJID(env, users[0]) + `" enable="true"/></iq>`, "bad-request", "400"},
	} {
		a.send(tc.stanza)
		wantIQError(t, a.skipTo("iq"), "x", tc.cond, tc.code)
	}
	if bySession, byUser := env.Server.StatusWatches(); bySession != 0 || byUser != 0 {
		t.Fatalf("refused subscriptions left %d/%d watches", bySession, byUser)
	}

	// The cap: three users; subscribing again does not count twice.
	for _, u := range users[:3] {
		a.subscribe(userJID(env, u), true)
	}
	a.subscribe(userJID(env, users[0]), true)
	a.send(subscribeStanza("over", userJID(env, users[3]), true))
	r := a.skipTo("iq")
	wantIQError(t, r, "over", "resource-constraint", "500")
	if text := r.Child("error", "").Child("text", xmpp.NSStanzas); text == nil || !strings.Contains(text.Text(), "3") {
		t.Fatalf("over the cap: %s; want a text naming the limit", r.AppendXML(nil))
	}
	a.subscribe(userJID(env, users[1]), false)
	a.subscribe(userJID(env, users[3]), true)
	if bySession, byUser := env.Server.StatusWatches(); bySession != 3 || byUser != 3 {
		t.Fatalf("watches = %d/%d; want 3", bySession, byUser)
	}
}

// A subscription flood (10,000 subscribe IQs from one session) leaves the
// watcher index at most --max-watched entries, and nothing once the
// session has ended.
func TestStatusSubscriptionFlood(t *testing.T) {
	const maxWatched = 5
	env := servertest.Start(t, func(c *config.Config) { c.MaxWatched = maxWatched; c.MaxStanzaRate = 0 })
	alice := env.NewUser(t)
	var targets []string
	for range maxWatched + 3 {
		targets = append(targets, userJID(env, env.NewUser(t))) // never connected: no pushes
	}
	targets = append(targets, fmt.Sprintf("%d-%d@localhost", 1<<40, env.App.ID)) // unknown
	a, _ := login(t, env, alice, alice.Password)
	const n, batch = 10000, 200
	for i := 0; i < n; i += batch {
		for j := i; j < i+batch; j++ {
			a.send(subscribeStanza(fmt.Sprint("f", j), targets[j%len(targets)], j%7 != 0))
		}
		for j := i; j < i+batch; j++ {
			if r := a.skipTo("iq"); r.Attr("id") != fmt.Sprint("f", j) {
				t.Fatalf("flood answer %d: %s", j, r.AppendXML(nil))
			}
		}
		if bySession, byUser := env.Server.StatusWatches(); bySession > maxWatched || bySession != byUser {
			t.Fatalf("after %d subscribe IQs: %d watches by session, %d by user; want at most %d, equal", i+batch, bySession, byUser, maxWatched)
		}
	}
	a.closeStream()
	servertest.Eventually(t, 5*time.Second, "subscriptions dropped", func() bool {
		bySession, byUser := env.Server.StatusWatches()
		return bySession == 0 && byUser == 0
	})
}

func TestUsersOnline(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	login(t, env, a, a.Password)
	login(t, env, a, a.Token) // two sessions: listed once
	login(t, env, b, b.Password)
	loginToPresence(t, env, c, c.Password)
	// Bound, without its initial presence: not online.
	d := env.NewUser(t)
	x := openSASL(t, env)
	if r := x.auth(fmt.Sprintf("%d-%d", d.ID, env.App.ID), d.Password); r.Name != "success" {
		t.Fatalf("auth: %s", r.AppendXML(nil))
	}
	x.send(openFrame)
	x.expect("open")
	x.expect("stream:features")
	x.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	x.expect("iq")
	x.sync("bound")
	ids := func(path string, token string) []int64 {
		t.Helper()
		body := restJSON(t, env, servertest.Req{Method: "GET", Path: path, Token: token}, http.StatusOK)
		var out []int64
		for _, u := range body["users"].([]any) {
			m := u.(map[string]any)
			if m["login"] == nil {
				t.Fatalf("user without the User shape: %v", m)
			}
			out = append(out, int64(m["id"].(float64)))
		}
		return out
	}
	servertest.Eventually(t, 5*time.Second, "c online", func() bool { return onlineCount(t, env, a) == 3 })
	if got := ids("/users/online.json", a.Token); fmt.Sprint(got) != fmt.Sprint([]int64{a.ID, b.ID, c.ID}) {
		t.Fatalf("online = %v; want %v", got, []int64{a.ID, b.ID, c.ID})
	}
	if got := ids("/users/online.json?limit=1&offset=1", a.Token); fmt.Sprint(got) != fmt.Sprint([]int64{b.ID}) {
		t.Fatalf("page 2 of 1 = %v; want [%d]", got, b.ID)
	}
	if got := ids("/users/online.json?offset=3", a.Token); len(got) != 0 {
		t.Fatalf("past the end = %v", got)
	}
	if got := ids("/users/online.json?limit=2", env.AppSession(t)); fmt.Sprint(got) != fmt.Sprint([]int64{a.ID, b.ID}) {
		t.Fatalf("app session, limit 2 = %v", got)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "offset=-1", "count=maybe"} {
		resp := env.Do(t, servertest.Req{Method: "GET", Path: "/users/online.json?" + q, Token: a.Token})
		if resp.Status != http.StatusUnprocessableEntity {
			t.Errorf("?%s: %d %s; want 422", q, resp.Status, resp.Raw)
		}
	}
	if resp := env.Do(t, servertest.Req{Method: "GET", Path: "/users/online.json"}); resp.Status != http.StatusUnauthorized {
		t.Errorf("without a session: %d", resp.Status)
	}
}

// A session parked for resumption stays available: a lost connection that
// the client resumes is no transition, and the user goes offline when the
// resumed session ends.
func TestParkedSessionStaysOnline(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	bobJID := userJID(env, bob)
	a, aJID := login(t, env, alice, alice.Password)
	b, _, id := resumable(t, env, bob)
	a.subscribe(bobJID, true)
	a.wantPush(bobJID, aJID, 0)
	b.c.CloseNow() // lost: parked
	c := authenticated(t, env, bob)
	servertest.Eventually(t, 5*time.Second, "resumed", func() bool {
		c.send(`<resume xmlns="urn:xmpp:sm:3" previd="` + id + `" h="0"/>`)
		return c.recv().Name == "resumed" // a resume before the loss was seen is retried
	})
	c.sync("resumed")
	a.nothingQueued("a parked and resumed session")
	if n := onlineCount(t, env, alice); n != 2 {
		t.Fatalf("online = %d; want 2", n)
	}
	c.closeStream()
	r := a.skipTo("iq")
	if !strings.HasPrefix(r.Attr("id"), "status-") || r.Attr("from") != bobJID || r.Child("query", xmpp.NSLast) == nil {
		t.Fatalf("got %s; want the offline push", r.AppendXML(nil))
	}
}
