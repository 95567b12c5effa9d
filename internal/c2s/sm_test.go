package c2s_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// authenticated opens a stream and authenticates, stopping where a client
// binds or resumes.
func authenticated(t *testing.T, env *servertest.Env, u *servertest.User) *client {
	t.Helper()
	c := dial(t, env.WSURL)
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + plain("", fmt.Sprintf("%d-%d", u.ID, env.App.ID), u.Password) + `</auth>`)
	c.expect("success")
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	return c
}

// resumable logs in like login but enables resumption; it returns the
// stream management id the server gave.
func resumable(t *testing.T, env *servertest.Env, u *servertest.User) (*client, xmpp.JID, string) {
	t.Helper()
	c := authenticated(t, env, u)
	c.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	jid, err := xmpp.ParseJID(c.expect("iq").Child("bind", xmpp.NSBind).Child("jid", "").Text())
	if err != nil {
		t.Fatal(err)
	}
	c.send(`<enable xmlns="urn:xmpp:sm:3" resume="true"/>`)
	en := c.expect("enabled")
	if en.Attr("id") == "" || en.Attr("resume") != "true" || en.Attr("max") == "" {
		t.Fatalf("enabled = %s", en.AppendXML(nil))
	}
	c.send(`<presence xmlns="jabber:client"/>`)
	c.send(`<iq type="get" id="ready" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	c.expect("iq")
	return c, jid, en.Attr("id")
}

func chatTo(to, id, body string) string {
	return fmt.Sprintf(`<message type="chat" to="%s" id="%s" xmlns="jabber:client"><body>%s</body></message>`, to, id, body)
}

// sync makes sure every stanza c sent before is processed.
func (c *client) sync(id string) {
	c.t.Helper()
	c.send(`<iq type="get" id="` + id + `" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	for {
		if el := c.recv(); el.Name == "iq" && el.Attr("id") == id {
			return
		}
	}
}

// untilMessage reads until a message, answering the server's requests
// with what the client has (manual acks).
func (c *client) untilMessage() *xmpp.Element {
	c.t.Helper()
	for {
		el := c.recv()
		if el.Name == "r" {
			c.ack()
			continue
		}
		if el.Name == "message" {
			return el
		}
	}
}

// ackNext waits for the server's next request and answers it.
func (c *client) ackNext() {
	c.t.Helper()
	for c.recv().Name != "r" {
	}
	c.ack()
}

func (c *client) ack() {
	c.send(fmt.Sprintf(`<a xmlns="urn:xmpp:sm:3" h="%d"/>`, c.received))
}

// skipTo reads until an element named name, leaving requests unanswered.
func (c *client) skipTo(name string) *xmpp.Element {
	c.t.Helper()
	if name == "a" && !c.showAcks {
		c.showAcks = true
		defer func() { c.showAcks = false }()
	}
	for {
		if el := c.recv(); el.Name == name {
			return el
		}
	}
}

// kept pings and returns the ids of the messages that arrive before the
// answer: offline copies, each of which must carry its delay stamp.
func (c *client) kept(pingID string) []string {
	c.t.Helper()
	var ids []string
	c.send(`<iq type="get" id="` + pingID + `" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	for {
		el := c.recv()
		if el.Name == "iq" && el.Attr("id") == pingID {
			return ids
		}
		if el.Name == "message" {
			if el.Child("delay", xmpp.NSDelay) == nil {
				c.t.Fatalf("a kept message without delay: %.200s", el.AppendXML(nil))
			}
			ids = append(ids, el.Attr("id"))
		}
	}
}

// keptAtLeast reads kept messages until want have arrived (beyond the
// first window they follow the client's acknowledgements, so they may
// come after answers to later requests), then pings and returns their ids
// and those of any more that arrive before the answer.
func (c *client) keptAtLeast(pingID string, want int) []string {
	c.t.Helper()
	var ids []string
	for len(ids) < want {
		el := c.recv()
		if el.Name == "message" {
			if el.Child("delay", xmpp.NSDelay) == nil {
				c.t.Fatalf("a kept message without delay: %.200s", el.AppendXML(nil))
			}
			ids = append(ids, el.Attr("id"))
		}
	}
	return append(ids, c.kept(pingID)...)
}

// The server counts what it sends: after delivering it asks for an
// acknowledgement, and an acknowledgement of stanzas never sent is a
// stream error.
func TestServerRequestsAcksAndRefusesImpossibleOnes(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	b.manualAcks = true
	a.send(chatTo(userJID(env, bob), "m1", "hello"))
	if m := b.untilMessage(); m.Attr("id") != "m1" {
		t.Fatalf("got %s", m.AppendXML(nil))
	}
	b.ackNext() // the server asks about m1
	b.send(fmt.Sprintf(`<a xmlns="urn:xmpp:sm:3" h="%d"/>`, b.received+5))
	if e := b.expect("stream:error"); e.Child("undefined-condition", xmpp.NSStreams) == nil {
		t.Fatalf("stream error = %s", e.AppendXML(nil))
	}
}

// A message written to a connection that then dies, and never
// acknowledged, is not lost with it: without resumption it is kept as an
// offline message, and arrives exactly once on the next connection.
func TestUnacknowledgedMessagesOutliveTheConnection(t *testing.T) {
	var dataDir string
	env := servertest.Start(t, func(c *config.Config) { dataDir = c.DataDir })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	b.manualAcks = true
	a.send(chatTo(userJID(env, bob), "m1", "acked"))
	b.untilMessage()
	b.ackNext()
	b.sync("after-ack") // the ack is processed
	a.send(chatTo(userJID(env, bob), "m2", "unacked one"))
	a.send(chatTo(userJID(env, bob), "m3", "unacked two"))
	got := map[string]bool{}
	for len(got) < 2 {
		if el := b.recv(); el.Name == "message" {
			got[el.Attr("id")] = true
		}
	}
	b.c.CloseNow() // gone without acknowledging m2 and m3
	// The next login is not raced with the end of the old session (the
	// server notices the dead connection a moment later; what it keeps
	// then waits for the login after).
	servertest.Eventually(t, 10*time.Second, "m2 and m3 kept", func() bool { return keptRows(t, dataDir, bob.ID) == 2 })
	b2, _ := loginToPresence(t, env, bob, bob.Password)
	ids := b2.kept("done")
	if fmt.Sprint(ids) != "[m2 m3]" {
		t.Fatalf("next connection got %v, want [m2 m3] (m1 was acknowledged)", ids)
	}
}

// A resumable session survives its connection: messages sent meanwhile
// wait for it, and a resume gets, in order and once, everything the client
// had not acknowledged, on the same full JID.
func TestResumeRedeliversUnacknowledgedAndQueued(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, aJID := login(t, env, alice, alice.Password)
	b, bJID, id := resumable(t, env, bob)
	b.manualAcks = true
	a.send(chatTo(userJID(env, bob), "m1", "one"))
	b.untilMessage()
	b.ackNext()
	a.send(chatTo(userJID(env, bob), "m2", "two")) // received, not acknowledged
	if m := b.skipTo("message"); m.Attr("id") != "m2" {
		t.Fatalf("got %s", m.AppendXML(nil))
	}
	h := b.received
	b.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	if ack := b.skipTo("a"); ack.Attr("h") == "" {
		t.Fatalf("a = %s", ack.AppendXML(nil))
	}
	b.c.CloseNow()
	// The session is still routed: these queue up for it.
	a.send(chatTo(userJID(env, bob), "m3", "three"))
	a.send(chatTo(bJID.String(), "m4", "four"))
	a.sync("sent")

	r := authenticated(t, env, bob)
	r.sm, r.received = true, h-1 // the client lost m2: it only has up to m1
	r.manualAcks = true
	r.send(fmt.Sprintf(`<resume xmlns="urn:xmpp:sm:3" previd="%s" h="%d"/>`, id, h-1))
	res := r.skipTo("resumed")
	if res.Attr("previd") != id || res.Attr("h") == "" {
		t.Fatalf("resumed = %s", res.AppendXML(nil))
	}
	var ids []string
	for len(ids) < 3 {
		if el := r.recv(); el.Name == "message" {
			if to, _ := xmpp.ParseJID(el.Attr("to")); to.Bare() != bJID.Bare() {
				t.Fatalf("resumed delivery to %s, want %s", el.Attr("to"), bJID.Bare())
			}
			ids = append(ids, el.Attr("id"))
		}
	}
	if fmt.Sprint(ids) != "[m2 m3 m4]" {
		t.Fatalf("after resume got %v, want [m2 m3 m4]", ids)
	}
	// The session goes on: both ways.
	r.send(chatTo(aJID.String(), "m5", "back"))
	if m := a.expect("message"); m.Attr("id") != "m5" || m.Attr("from") != bJID.String() {
		t.Fatalf("alice got %s", m.AppendXML(nil))
	}
	a.send(chatTo(bJID.String(), "m6", "welcome back"))
	for {
		if el := r.recv(); el.Name == "message" {
			if el.Attr("id") != "m6" {
				t.Fatalf("got %s, want m6 (nothing twice)", el.AppendXML(nil))
			}
			break
		}
	}
}

// A client back before the server noticed its old connection failed takes
// the session over: the old connection is closed, nothing is lost.
func TestResumeTakesOverALiveConnection(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	old, bJID, id := resumable(t, env, bob)
	r := authenticated(t, env, bob)
	r.send(fmt.Sprintf(`<resume xmlns="urn:xmpp:sm:3" previd="%s" h="%d"/>`, id, old.received))
	if res := r.expect("resumed"); res.Attr("previd") != id {
		t.Fatalf("resumed = %s", res.AppendXML(nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := old.c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the replaced connection stayed open")
			}
			break
		}
	}
	a.send(chatTo(bJID.String(), "m1", "to the new one"))
	for {
		if el := r.recv(); el.Name == "message" {
			if el.Attr("id") != "m1" {
				t.Fatalf("got %s", el.AppendXML(nil))
			}
			break
		}
	}
}

// A resume of an unknown session, or of another user's, fails and leaves
// the stream usable for a bind.
func TestResumeOfUnknownOrForeignSessionFails(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	_, _, aliceID := resumable(t, env, alice)
	for _, previd := range []string{"bogus", aliceID} {
		c := authenticated(t, env, bob)
		c.send(`<resume xmlns="urn:xmpp:sm:3" previd="` + previd + `" h="0"/>`)
		f := c.expect("failed")
		if f.Attr("xmlns") != xmpp.NSSM || f.Child("item-not-found", xmpp.NSStanzas) == nil {
			t.Fatalf("resume of %q answered %s", previd, f.AppendXML(nil))
		}
		c.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
		if res := c.expect("iq"); res.Attr("type") != "result" {
			t.Fatalf("bind after a failed resume: %s", res.AppendXML(nil))
		}
	}
}

// A parked session that nobody resumes ends after the resume timeout; what
// it held becomes offline messages, and a resume after that fails.
func TestParkedSessionExpiresIntoOfflineStorage(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.ResumeTimeout = time.Second })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _, id := resumable(t, env, bob)
	b.c.CloseNow()
	a.send(chatTo(userJID(env, bob), "m1", "while away"))
	a.sync("s")
	var ids []string
	servertest.Eventually(t, 10*time.Second, "the parked session expired into offline storage", func() bool {
		c, _ := loginToPresence(t, env, bob, bob.Password)
		ids = append(ids, c.kept("done")...)
		c.c.CloseNow()
		return len(ids) > 0
	})
	if fmt.Sprint(ids) != "[m1]" {
		t.Fatalf("offline after expiry: %v, want [m1] once", ids)
	}
	c := authenticated(t, env, bob)
	c.send(`<resume xmlns="urn:xmpp:sm:3" previd="` + id + `" h="0"/>`)
	if f := c.expect("failed"); f.Child("item-not-found", xmpp.NSStanzas) == nil {
		t.Fatalf("resume after expiry: %s", f.AppendXML(nil))
	}
}

// Nothing follows the server's <close/> on the wire: the SDK's XMPP
// library drops its parser when it reads <close/>, and a later frame (an
// ack request for the stanzas written just before, a stanza routed
// meanwhile) made it throw an uncaught TypeError in the app. A ping
// answered in the same write as the <close/> left a stanza unacknowledged,
// and the writer then asked for its ack after the <close/>.
func TestNothingFollowsTheClosingElement(t *testing.T) {
	env := servertest.Start(t)
	sender := env.NewUser(t)
	s, _ := login(t, env, sender, sender.Password)
	for i := 0; i < 30; i++ {
		u := env.NewUser(t)
		c, _, _ := resumable(t, env, u)
		c.send(`<iq type="get" id="last" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
		s.send(chatTo(userJID(env, u), fmt.Sprint("late-", i), "routed while the stream closes"))
		c.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
		var names []string
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, b, err := c.c.Read(ctx)
			cancel()
			if err != nil {
				break
			}
			el, err := xmpp.ParseElement(b, xmpp.Limits{})
			if err != nil {
				t.Fatalf("unparsable frame %q: %v", b, err)
			}
			names = append(names, el.Name)
		}
		if len(names) == 0 || names[len(names)-1] != "close" {
			t.Fatalf("round %d: frames after the last request: %v; want <close/> last", i, names)
		}
	}
}
