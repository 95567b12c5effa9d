package c2s_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// client is a raw XMPP-over-WebSocket client for exact exchanges. Like
// any stream management client it answers the server's <r/> with the
// number of stanzas it received since <enabled/>, and hides the exchange.
// The <a/> the server sends unasked, ahead of a content message's copies
// (sm.go), is hidden too and only recorded, unless the test shows acks
// (showAcks) or expects one (expect("a"), skipTo("a")).
type client struct {
	t          *testing.T
	c          *websocket.Conn
	sm         bool
	received   uint32
	manualAcks bool     // the test answers <r/> itself
	showAcks   bool     // recv returns the server's <a/>
	acks       []string // h of each <a/> recv hid
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &client{t: t, c: c}
}

func (c *client) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// recv reads one frame, within a bounded wait.
func (c *client) recv() *xmpp.Element {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := c.c.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("recv: %v", err)
		}
		el, err := xmpp.ParseElement(b, xmpp.Limits{})
		if err != nil {
			c.t.Fatalf("recv: unparsable frame %q: %v", b, err)
		}
		switch {
		case el.Name == "enabled" && el.Attr("xmlns") == xmpp.NSSM:
			c.sm, c.received = true, 0
		case el.Name == "r" && el.Attr("xmlns") == xmpp.NSSM && !c.manualAcks:
			c.send(fmt.Sprintf(`<a xmlns="urn:xmpp:sm:3" h="%d"/>`, c.received))
			continue
		case el.Name == "a" && el.Attr("xmlns") == xmpp.NSSM && !c.showAcks:
			c.acks = append(c.acks, el.Attr("h"))
			continue
		case el.Name == "message" || el.Name == "presence" || el.Name == "iq":
			c.received++
		}
		return el
	}
}

func (c *client) expect(name string) *xmpp.Element {
	c.t.Helper()
	if name == "a" && !c.showAcks {
		c.showAcks = true
		defer func() { c.showAcks = false }()
	}
	el := c.recv()
	if el.Name != name {
		c.t.Fatalf("got <%s> %s, want <%s>", el.Name, el.AppendXML(nil), name)
	}
	return el
}

const openFrame = `<open version="1.0" xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="127.0.0.1"/>`

func plain(authzid, authcid, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(authzid + "\x00" + authcid + "\x00" + password))
}

// login runs the SDK's exchange (REALTIME.md §2.1), then a ping whose
// answer proves the resource available, and returns the bound JID.
func login(t *testing.T, env *servertest.Env, u *servertest.User, password string) (*client, xmpp.JID) {
	t.Helper()
	c, jid := loginToPresence(t, env, u, password)
	// A ping after the presence proves the resource is available (§3).
	c.send(`<iq type="get" id="p1" to="localhost" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := c.expect("iq"); r.Attr("type") != "result" || r.Attr("id") != "p1" {
		t.Fatalf("ping answer = %s", r.AppendXML(nil))
	}
	return c, jid
}

// loginToPresence is login up to and including the initial presence.
func loginToPresence(t *testing.T, env *servertest.Env, u *servertest.User, password string) (*client, xmpp.JID) {
	t.Helper()
	c := dial(t, env.WSURL)
	c.send(openFrame)
	open := c.expect("open")
	if open.Attr("from") != "localhost" || open.Attr("id") == "" || open.Attr("xmlns") != xmpp.NSFraming {
		t.Fatalf("open = %s", open.AppendXML(nil))
	}
	f := c.expect("stream:features")
	if got := string(f.AppendXML(nil)); got != `<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>` {
		t.Fatalf("features before auth = %s", got)
	}
	c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + plain("", fmt.Sprintf("%d-%d", u.ID, env.App.ID), password) + `</auth>`)
	c.expect("success")
	c.send(openFrame)
	c.expect("open")
	f = c.expect("stream:features")
	if f.Child("bind", xmpp.NSBind) == nil || f.Child("sm", xmpp.NSSM) == nil || f.Child("mechanisms", xmpp.NSSASL) != nil {
		t.Fatalf("features after auth = %s", f.AppendXML(nil))
	}
	c.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	res := c.expect("iq")
	jidText := res.Child("bind", xmpp.NSBind).Child("jid", "").Text()
	jid, err := xmpp.ParseJID(jidText)
	if err != nil || res.Attr("type") != "result" || res.Attr("id") != "b1" {
		t.Fatalf("bind result = %s", res.AppendXML(nil))
	}
	if jid.Local != fmt.Sprintf("%d-%d", u.ID, env.App.ID) || jid.Domain != "localhost" || len(jid.Resource) < 16 {
		t.Fatalf("bound JID %q: want {user}-{app}@localhost with a long random resource", jidText)
	}
	c.send(`<enable xmlns="urn:xmpp:sm:3"/>`)
	c.send(`<iq type="set" id="x:enableCarbons" xmlns="jabber:client"><enable xmlns="urn:xmpp:carbons:2"/></iq>`)
	c.send(`<presence xmlns="jabber:client"/>`)
	c.expect("enabled")
	if r := c.expect("iq"); r.Attr("type") != "result" || r.Attr("id") != "x:enableCarbons" {
		t.Fatalf("carbons answer = %s", r.AppendXML(nil))
	}
	return c, jid
}

func TestLoginWithPasswordAndWithToken(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	login(t, env, u, u.Password)
	login(t, env, u, u.Token) // the guide's custom-auth case: the session token as password
}

func TestBadCredentialsKeepTheStreamOpen(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	other := env.NewUser(t)
	appSession := env.AppSession(t)
	c := dial(t, env.WSURL)
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	local := fmt.Sprintf("%d-%d", u.ID, env.App.ID)
	for _, tc := range []struct{ payload, cond string }{
		{plain("", local, "wrong-password"), "not-authorized"},
		{plain("", local, other.Token), "not-authorized"}, // another user's token
		{plain("", local, appSession), "not-authorized"},  // an application-only token
		{plain("", fmt.Sprintf("%d-%d", u.ID, env.App.ID+1), u.Password), "not-authorized"},
		{plain("", "nobody", u.Password), "not-authorized"},
		{plain("someone@else", local, u.Password), "invalid-authzid"},
		{"!!!not base64", "malformed-request"},
	} {
		c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + tc.payload + `</auth>`)
		f := c.expect("failure")
		if f.Child(tc.cond, "") == nil {
			t.Errorf("payload %q: failure %s, want <%s/>", tc.payload, f.AppendXML(nil), tc.cond)
		}
	}
	// The stream is still open: a right password now works.
	c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + plain(fmt.Sprintf("%s@localhost", local), local, u.Password) + `</auth>`)
	c.expect("success")
}

func TestOneToOneMessageReachesEveryResource(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, aJID := login(t, env, alice, alice.Password)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token)
	bobJID := fmt.Sprintf("%d-%d@localhost", bob.ID, env.App.ID)
	a.send(`<message type="chat" to="` + bobJID + `" id="65a1f3d9c81a4f0e2b000000" xmlns="jabber:client"><body>How are you today?</body>` +
		`<extraParams xmlns="jabber:client"><trip><dates><0>2024-02-01</0></dates></trip></extraParams></message>`)
	for _, b := range []*client{b1, b2} {
		m := b.expect("message")
		if m.Attr("from") != aJID.String() || m.Attr("to") != bobJID || m.Attr("id") != "65a1f3d9c81a4f0e2b000000" ||
			m.Child("body", "").Text() != "How are you today?" {
			t.Fatalf("delivered %s", m.AppendXML(nil))
		}
		if !strings.Contains(string(m.AppendXML(nil)), "<0>2024-02-01</0>") {
			t.Fatalf("digit-named extension lost: %s", m.AppendXML(nil))
		}
	}
	// Stream management counts handled stanzas: carbons iq, presence, ping, message.
	a.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	if ack := a.expect("a"); ack.Attr("h") != "4" {
		t.Fatalf("ack = %s, want h=4", ack.AppendXML(nil))
	}
	// Another app's JID is refused without revealing anything.
	a.send(fmt.Sprintf(`<message type="chat" to="%d-%d@localhost" id="x" xmlns="jabber:client"><body>hi</body></message>`, bob.ID, env.App.ID+1))
	if e := a.expect("message"); e.Attr("type") != "error" || e.Child("error", "").Child("service-unavailable", xmpp.NSStanzas) == nil {
		t.Fatalf("cross-app message answered %s", e.AppendXML(nil))
	}
}

func TestMalformedXMLEndsTheStreamWithAStreamError(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	c, _ := login(t, env, u, u.Password)
	c.send(`<message><body>unclosed</message>`)
	e := c.expect("stream:error")
	if e.Child("not-well-formed", xmpp.NSStreams) == nil {
		t.Fatalf("stream error = %s", e.AppendXML(nil))
	}
	c.expect("close")
}

func TestCloseIsAnswered(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	c, _ := login(t, env, u, u.Password)
	c.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
	c.expect("close")
}

func TestSubprotocolIsRequired(t *testing.T) {
	env := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, env.WSURL, nil)
	if err != nil {
		return // refused at the handshake: fine
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err == nil {
		t.Fatal("a connection without the xmpp subprotocol was served")
	}
}
