package tcp_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// stream is a raw RFC 6120 client.
type stream struct {
	t   *testing.T
	c   net.Conn
	dec *xmpp.Decoder
}

func newStream(t *testing.T, c net.Conn) *stream {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	return &stream{t: t, c: c, dec: xmpp.NewDecoder(bufio.NewReader(c), xmpp.Limits{})}
}

func (s *stream) send(x string) {
	s.t.Helper()
	s.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.c.Write([]byte(x)); err != nil {
		s.t.Fatalf("send: %v", err)
	}
}

func (s *stream) next() xmpp.Event {
	s.t.Helper()
	s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	ev, err := s.dec.Next()
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return ev
}

func (s *stream) expect(name string) *xmpp.Element {
	s.t.Helper()
	ev := s.next()
	if ev.Kind != xmpp.Stanza || ev.Element.Name != name {
		got := ev.Kind.String()
		if ev.Element != nil {
			got += " " + string(ev.Element.AppendXML(nil))
		}
		s.t.Fatalf("got %s, want <%s>", got, name)
	}
	return ev.Element
}

func (s *stream) open() *xmpp.Element {
	s.t.Helper()
	s.send(`<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" version="1.0" to="localhost">`)
	ev := s.next()
	if ev.Kind != xmpp.StreamOpen || ev.Element.Attr("from") != "localhost" || ev.Element.Attr("id") == "" {
		s.t.Fatalf("stream header: %v", ev)
	}
	return s.expect("stream:features")
}

// login runs the standard client flow (RFC 6120) over TCP: STARTTLS, SASL
// PLAIN only once encrypted, stream restart, bind, presence.
func login(t *testing.T, env *servertest.Env, u *servertest.User, pool *x509.CertPool) (*stream, string) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", env.XMPP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(t, raw)
	f := s.open()
	if f.Child("starttls", xmpp.NSTLS) == nil || f.Child("mechanisms", xmpp.NSSASL) != nil {
		t.Fatalf("features before TLS = %s (want starttls and no mechanisms)", f.AppendXML(nil))
	}
	s.send(`<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`)
	s.expect("proceed")
	tc := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	s = newStream(t, tc)
	f = s.open()
	if f.Child("mechanisms", xmpp.NSSASL) == nil || f.Child("starttls", xmpp.NSTLS) != nil {
		t.Fatalf("features after TLS = %s", f.AppendXML(nil))
	}
	local := fmt.Sprintf("%d-%d", u.ID, env.App.ID)
	s.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00"+local+"\x00"+u.Password)) + `</auth>`)
	s.expect("success")
	s.dec.Restart()
	f = s.open() // the restart, with an XML declaration again
	if f.Child("bind", xmpp.NSBind) == nil {
		t.Fatalf("features after SASL = %s", f.AppendXML(nil))
	}
	s.send(`<iq type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>laptop</resource></bind></iq>`)
	jid := s.expect("iq").Child("bind", xmpp.NSBind).Child("jid", "").Text()
	if !strings.HasPrefix(jid, local+"@localhost/") {
		t.Fatalf("bound %q", jid)
	}
	s.send(`<presence/><iq type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := s.expect("iq"); r.Attr("id") != "p1" {
		t.Fatalf("ping answered %s", r.AppendXML(nil))
	}
	return s, jid
}

func TestStartTLSThenSASLThenChat(t *testing.T) {
	certFile, keyFile, pool := servertest.SelfSignedCert(t)
	env := servertest.Start(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, aJID := login(t, env, alice, pool)
	b, _ := login(t, env, bob, pool)
	a.send(fmt.Sprintf(`<message type="chat" to="%d-%d@localhost" id="65a1f3d9c81a4f0e2b000000"><body>over TCP</body></message>`, bob.ID, env.App.ID))
	m := b.expect("message")
	if m.Attr("from") != aJID || m.Child("body", "").Text() != "over TCP" {
		t.Fatalf("delivered %s", m.AppendXML(nil))
	}
	a.send(`</stream:stream>`)
	if ev := a.next(); ev.Kind != xmpp.StreamClose {
		t.Fatalf("close answered with %v", ev)
	}
}

// Plaintext authentication is refused where STARTTLS is on offer.
func TestAuthBeforeStartTLSIsRefused(t *testing.T) {
	certFile, keyFile, _ := servertest.SelfSignedCert(t)
	env := servertest.Start(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	u := env.NewUser(t)
	raw, err := net.DialTimeout("tcp", env.XMPP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(t, raw)
	s.open()
	s.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("\x00%d-%d\x00%s", u.ID, env.App.ID, u.Password))) + `</auth>`)
	if e := s.expect("stream:error"); e.Child("policy-violation", xmpp.NSStreams) == nil {
		t.Fatalf("plaintext auth answered %s", e.AppendXML(nil))
	}
}

// Direct TLS (xmpps): TLS from the first byte, then PLAIN.
func TestDirectTLS(t *testing.T) {
	certFile, keyFile, pool := servertest.SelfSignedCert(t)
	env := servertest.Start(t, func(c *config.Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.XMPPSAddr = "127.0.0.1:0"
	})
	u := env.NewUser(t)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", env.Server.XMPPSAddr(),
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(t, c)
	f := s.open()
	if f.Child("mechanisms", xmpp.NSSASL) == nil || f.Child("starttls", xmpp.NSTLS) != nil {
		t.Fatalf("features over direct TLS = %s", f.AppendXML(nil))
	}
	s.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("\x00%d-%d\x00%s", u.ID, env.App.ID, u.Password))) + `</auth>`)
	s.expect("success")
}

// Without a certificate the TCP listener offers PLAIN directly (loopback
// development), and malformed XML ends the stream with not-well-formed.
func TestPlainTCPWithoutCertificate(t *testing.T) {
	env := servertest.Start(t)
	raw, err := net.DialTimeout("tcp", env.XMPP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(t, raw)
	if f := s.open(); f.Child("mechanisms", xmpp.NSSASL) == nil {
		t.Fatalf("features = %s", f.AppendXML(nil))
	}
	s.send(`<message to=unquoted/>`)
	if e := s.expect("stream:error"); e.Child("not-well-formed", xmpp.NSStreams) == nil {
		t.Fatalf("stream error = %s", e.AppendXML(nil))
	}
}
