package tcp_test

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// mattn/go-xmpp (go-sendxmpp, many bots) writes "<starttls .../>\n" in one
// packet: the newline is whitespace between elements, not plaintext data
// smuggled into the encrypted stream, so the upgrade goes on. Anything
// else after <starttls/> still ends the connection.
func TestWhitespaceAfterStartTLSIsIgnored(t *testing.T) {
	certFile, keyFile, pool := servertest.SelfSignedCert(t)
	env := servertest.Start(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	raw, err := net.DialTimeout("tcp", env.XMPP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(t, raw)
	s.open()
	s.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\n")
	s.expect("proceed")
	tc := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake after a newline: %v", err)
	}
	s = newStream(t, tc)
	if f := s.open(); f.Child("mechanisms", xmpp.NSSASL) == nil {
		t.Fatalf("features after TLS = %s", f.AppendXML(nil))
	}

	// Data after <starttls/> is still refused.
	raw2, err := net.DialTimeout("tcp", env.XMPP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s2 := newStream(t, raw2)
	s2.open()
	s2.send(`<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/> <presence/>`)
	s2.expect("proceed")
	tc2 := tls.Client(raw2, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	tc2.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc2.Handshake(); err == nil {
		t.Fatal("TLS started over plaintext data sent after <starttls/>")
	}
}

// Standard clients over TCP: a roster get is an empty roster, and the
// XEP-0352 client state nonzas (offered as a stream feature) keep the
// stream going.
func TestStandardClientRosterAndClientState(t *testing.T) {
	certFile, keyFile, pool := servertest.SelfSignedCert(t)
	env := servertest.Start(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, pool)
	b, bJID := login(t, env, bob, pool)
	a.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`)
	if r := a.expect("iq"); r.Attr("type") != "result" || r.Child("query", "jabber:iq:roster") == nil {
		t.Fatalf("roster answered %s", r.AppendXML(nil))
	}
	b.send(`<inactive xmlns="urn:xmpp:csi:0"/><iq type="get" id="p2"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := b.expect("iq"); r.Attr("id") != "p2" || r.Attr("type") != "result" {
		t.Fatalf("after <inactive/>: %s", r.AppendXML(nil))
	}
	a.send(`<message type="chat" to="` + bJID + `" id="65a1f3d9c81a4f0e2b000009"><body>still there?</body></message>`)
	if m := b.expect("message"); m.Child("body", "").Text() != "still there?" {
		t.Fatalf("an inactive client got %s", m.AppendXML(nil))
	}
	b.send(`<active xmlns="urn:xmpp:csi:0"/><iq type="get" id="p3"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := b.expect("iq"); r.Attr("id") != "p3" {
		t.Fatalf("after <active/>: %s", r.AppendXML(nil))
	}
}
