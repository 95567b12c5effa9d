package tcp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// These tests drive Parley's TCP listener with a standard XMPP client
// library, mellium.im/xmpp: its own STARTTLS, SASL PLAIN and resource
// binding, its own stream parser and writer. mellium has no stream
// management (XEP-0198), so the SM part is written here, in the client
// role, on top of mellium's extension points (a custom StreamFeature for
// <resume/>, the session's writer and handler for the rest).

const (
	testDomain = "localhost" // config.Default().Domain
	nsSM       = "urn:xmpp:sm:3"
	nsStanzas  = "urn:ietf:params:xml:ns:xmpp-stanzas"
	wait       = 5 * time.Second // every bounded wait
)

// element is one top-level element a standard client read from its stream.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Body     string     `xml:"body"`
	Children []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func (e element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (e element) is(space, local string) bool {
	return e.XMLName.Space == space && e.XMLName.Local == local
}

func (e element) child(space, local string) bool {
	for _, c := range e.Children {
		if c.XMLName.Space == space && c.XMLName.Local == local {
			return true
		}
	}
	return false
}

func (e element) String() string {
	var b strings.Builder
	b.WriteString("<" + e.XMLName.Local)
	if e.XMLName.Space != "" {
		fmt.Fprintf(&b, " {%s}", e.XMLName.Space)
	}
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue // shown in braces
		}
		fmt.Fprintf(&b, " %s=%q", a.Name.Local, a.Value)
	}
	b.WriteString(">")
	if e.Body != "" {
		fmt.Fprintf(&b, "<body>%s</body>", e.Body)
	}
	for _, c := range e.Children {
		fmt.Fprintf(&b, "<%s {%s}/>", c.XMLName.Local, c.XMLName.Space)
	}
	b.WriteString("</" + e.XMLName.Local + ">")
	return b.String()
}

func isStanza(n xml.Name) bool {
	return n.Space == stanza.NSClient && (n.Local == "message" || n.Local == "presence" || n.Local == "iq")
}

// stdClient is a mellium session over a TCP connection the test owns, with
// a handler that hands every element the server sends to the test, in
// order, and plays the client side of XEP-0198 acks.
type stdClient struct {
	t    *testing.T
	name string
	raw  net.Conn // the TCP connection under TLS: closing it cuts the stream without a close
	s    *xmpp.Session
	in   chan element
	done chan struct{} // closed when Serve returned, with its error in err
	err  error

	wmu     sync.Mutex // orders the handler's acks with closing the stream
	closing bool       // our stream end was sent: nothing more may be written

	serving  bool // Serve was started
	pings    int
	counting atomic.Bool   // stream management on: count the stanzas received
	h        atomic.Uint32 // stanzas received since <enabled/> (XEP-0198 h)
	sent     atomic.Uint32 // stanzas sent, including IQ answers Serve writes
}

func bareJID(t *testing.T, env *servertest.Env, u *servertest.User) jid.JID {
	t.Helper()
	j, err := jid.New(fmt.Sprintf("%d-%d", u.ID, env.App.ID), testDomain, "")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// dialStd connects u with mellium over TCP: STARTTLS trusting exactly the
// test certificate, SASL PLAIN (authcid {userId}-{appId}), then last, the
// feature that ends negotiation (resource binding, or resumption).
func dialStd(t *testing.T, env *servertest.Env, name string, u *servertest.User, pool *x509.CertPool, last xmpp.StreamFeature) *stdClient {
	t.Helper()
	// ctx bounds the dial and the whole negotiation (mellium puts its
	// deadline on the net.Conn). It ends only with the test: mellium clears
	// that deadline asynchronously, and a context ending right after
	// negotiation could leave a past deadline on the connection.
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	t.Cleanup(cancel)
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", env.XMPP)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	c := &stdClient{t: t, name: name, raw: raw, in: make(chan element, 64), done: make(chan struct{})}
	t.Cleanup(c.close)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	s, err := xmpp.NewClientSession(ctx, bareJID(t, env, u), raw,
		xmpp.StartTLS(tlsConfig),
		xmpp.SASL("", u.Password, sasl.Plain),
		last)
	if err != nil {
		t.Fatalf("%s: negotiation: %v", name, err)
	}
	c.s = s
	want := xmpp.Secure | xmpp.Authn | xmpp.Ready
	if st := s.State(); st&want != want || !s.ConnectionState().HandshakeComplete {
		t.Fatalf("%s: session state %v after negotiation, want %v over TLS", name, st, want)
	}
	return c
}

// serve starts reading the stream; with stream management already on
// (after a resume) counting continues from h.
func (c *stdClient) serve(counting bool, h uint32) {
	c.counting.Store(counting)
	c.h.Store(h)
	c.serving = true
	go func() {
		c.err = c.s.Serve(xmpp.HandlerFunc(c.handle))
		close(c.done)
	}()
}

func (c *stdClient) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Space == nsSM && start.Name.Local == "r" {
		// XEP-0198 §4: answer a request with the count of stanzas handled,
		// unless our stream is already closed (the server may ask before it
		// reads our stream end).
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if c.closing {
			return nil
		}
		c.raw.SetWriteDeadline(time.Now().Add(wait))
		defer c.raw.SetWriteDeadline(time.Time{})
		return c.s.Send(context.Background(), nonza("a", "h", strconv.FormatUint(uint64(c.h.Load()), 10)))
	}
	// t yields what follows start; the decoder must see start itself to
	// match the end element.
	var el element
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), t)).Decode(&el); err != nil {
		return err
	}
	if isStanza(start.Name) {
		if c.counting.Load() {
			c.h.Add(1)
		}
		if typ := el.attr("type"); start.Name.Local == "iq" && (typ == "get" || typ == "set") {
			c.sent.Add(1) // Serve answers it (service-unavailable)
		}
	}
	if start.Name.Space == nsSM && start.Name.Local == "enabled" {
		c.counting.Store(true) // the server counts what it sends from here on
	}
	select {
	case c.in <- el:
		return nil
	default:
		return errors.New("test inbox full")
	}
}

// nonza is an empty stream management element (not a stanza: not
// counted) with attributes given as name, value pairs.
func nonza(local string, attrs ...string) xml.TokenReader {
	start := xml.StartElement{Name: xml.Name{Space: nsSM, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return xmlstream.Wrap(nil, start)
}

// write runs one write of the session, bounded by a deadline on the TCP
// connection. The session gets a context that never ends: mellium turns a
// call's context into a connection deadline and clears it asynchronously,
// so a context ending just after a call can fail the next write with a
// timeout.
func (c *stdClient) write(what string, f func(ctx context.Context) error) {
	c.t.Helper()
	c.raw.SetWriteDeadline(time.Now().Add(wait))
	defer c.raw.SetWriteDeadline(time.Time{})
	if err := f(context.Background()); err != nil {
		c.t.Fatalf("%s: send %s: %v", c.name, what, err)
	}
}

// sendNonza sends a stream management element.
func (c *stdClient) sendNonza(local string, attrs ...string) {
	c.t.Helper()
	c.write("<"+local+"/>", func(ctx context.Context) error { return c.s.Send(ctx, nonza(local, attrs...)) })
}

type chatMessage struct {
	stanza.Message
	Body string `xml:"body"`
}

func (c *stdClient) chat(to jid.JID, id, body string) {
	c.t.Helper()
	msg := chatMessage{Message: stanza.Message{To: to, ID: id, Type: stanza.ChatMessage}, Body: body}
	c.write("message "+id, func(ctx context.Context) error { return c.s.Encode(ctx, msg) })
	c.sent.Add(1)
}

// presence sends initial presence (RFC 6121 §4.2).
func (c *stdClient) presence() {
	c.t.Helper()
	c.write("presence", func(ctx context.Context) error { return c.s.Encode(ctx, stanza.Presence{}) })
	c.sent.Add(1)
}

// ping is an XEP-0199 round trip with the server whose answer must be the
// next thing the server sends: nothing else (an error bounced by an earlier
// stanza, say) is pending. The answer goes through the handler (it is not
// sent with SendIQ), so a client counting stanzas counts it.
func (c *stdClient) ping() {
	c.t.Helper()
	c.pings++
	id := fmt.Sprintf("ping-%d", c.pings)
	iq := ping.IQ{IQ: stanza.IQ{ID: id, Type: stanza.GetIQ, To: jid.MustParse(testDomain)}}
	// Send, not Encode: mellium's Encode does not flush a value that writes
	// itself (ping.IQ does).
	c.write("ping", func(ctx context.Context) error { return c.s.Send(ctx, iq.TokenReader()) })
	c.sent.Add(1)
	if r := c.next("the ping's answer"); !r.is(stanza.NSClient, "iq") || r.attr("type") != "result" || r.attr("id") != id {
		c.t.Fatalf("%s: got %s, want the ping's answer <iq type='result' id='%s'/>", c.name, r, id)
	}
}

// next is the next element the server sent, within a bounded wait.
func (c *stdClient) next(what string) element {
	c.t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case el := <-c.in:
		return el
	case <-c.done:
		select {
		case el := <-c.in:
			return el
		default:
		}
		c.t.Fatalf("%s: stream ended (%v) while waiting for %s", c.name, c.err, what)
	case <-timer.C:
		c.t.Fatalf("%s: no %s within %v", c.name, what, wait)
	}
	return element{}
}

// nothingPending fails if the server sent anything not yet looked at.
func (c *stdClient) nothingPending(after string) {
	c.t.Helper()
	select {
	case el := <-c.in:
		c.t.Fatalf("%s: unexpected %s after %s", c.name, el, after)
	default:
	}
}

func (c *stdClient) expectMessage(what, id, body string, from jid.JID) element {
	c.t.Helper()
	m := c.next(what)
	if !m.is(stanza.NSClient, "message") || m.attr("id") != id || m.attr("type") != "chat" || m.Body != body || m.attr("from") != from.String() {
		c.t.Fatalf("%s: got %s, want %s: a chat message id=%s from %s with body %q", c.name, m, what, id, from, body)
	}
	return m
}

// requestAck sends <r/> and checks the server's <a/> is the very next
// element, with the count of stanzas it handled from this client.
func (c *stdClient) requestAck(want uint32) {
	c.t.Helper()
	c.sendNonza("r")
	a := c.next("<a/> answering <r/>")
	if !a.is(nsSM, "a") || a.attr("h") != strconv.FormatUint(uint64(want), 10) {
		c.t.Fatalf("%s: <r/> answered with %s, want <a h='%d'/>", c.name, a, want)
	}
}

// cut closes the TCP connection under TLS without a stream close or a TLS
// close_notify, as a lost network would, and waits for the reader to stop
// so that the count of received stanzas is final.
func (c *stdClient) cut() {
	c.t.Helper()
	c.raw.Close()
	select {
	case <-c.done:
	case <-time.After(wait):
		c.t.Fatalf("%s: reader still running after the connection was cut", c.name)
	}
}

// closeStream ends the stream the standard way and checks the server
// answered with its own stream end.
func (c *stdClient) closeStream() {
	c.t.Helper()
	c.raw.SetWriteDeadline(time.Now().Add(wait))
	if err := c.endStream(); err != nil {
		c.t.Fatalf("%s: close: %v", c.name, err)
	}
	select {
	case <-c.done:
		if c.err != nil {
			c.t.Fatalf("%s: stream close answered with %v", c.name, c.err)
		}
	case <-time.After(wait):
		c.t.Fatalf("%s: the server did not close its stream within %v", c.name, wait)
	}
}

// endStream sends our stream end (</stream:stream>).
func (c *stdClient) endStream() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.closing = true
	return c.s.Close()
}

func (c *stdClient) close() {
	c.raw.SetDeadline(time.Now().Add(wait))
	if c.s != nil && c.s.State()&xmpp.OutputStreamClosed == 0 {
		c.endStream() // a clean end, so that the server does not keep the session for resumption
		if c.serving {
			select {
			case <-c.done: // the server answered with its stream end
			case <-time.After(wait):
			}
		}
	}
	c.raw.Close()
}

func startTLSServer(t *testing.T, mutate ...func(*config.Config)) (*servertest.Env, *x509.CertPool) {
	t.Helper()
	certFile, keyFile, pool := servertest.SelfSignedCert(t)
	env := servertest.Start(t, append([]func(*config.Config){func(c *config.Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
	}}, mutate...)...)
	return env, pool
}

// online connects u with resource binding and initial presence, and
// returns once the server has processed the presence.
func online(t *testing.T, env *servertest.Env, name string, u *servertest.User, pool *x509.CertPool) *stdClient {
	t.Helper()
	c := dialStd(t, env, name, u, pool, xmpp.BindResource())
	c.serve(false, 0)
	c.presence()
	c.ping()
	return c
}

func checkBound(t *testing.T, env *servertest.Env, name string, c *stdClient, u *servertest.User) jid.JID {
	t.Helper()
	full := c.s.LocalAddr()
	if !full.Bare().Equal(bareJID(t, env, u)) || full.Resourcepart() == "" {
		t.Fatalf("%s: bound %q, want %s/{resource}", name, full, bareJID(t, env, u))
	}
	return full
}

// addressedTo checks a delivered message's to: the recipient's bare or full
// JID (Parley delivers a 1-1 chat message to every resource of the user and
// addresses it to the bare JID, whichever form the sender used).
func addressedTo(t *testing.T, name string, m element, full jid.JID) {
	t.Helper()
	if to := m.attr("to"); to != full.String() && to != full.Bare().String() {
		t.Fatalf("%s: %s addressed to %q, want %s or its bare JID", name, m, to, full)
	}
}

func TestStandardClientChats(t *testing.T) {
	env, pool := startTLSServer(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a := online(t, env, "alice", alice, pool)
	b := online(t, env, "bob", bob, pool)
	aFull, bFull := checkBound(t, env, "alice", a, alice), checkBound(t, env, "bob", b, bob)
	if aFull.Equal(bFull) {
		t.Fatalf("both bound %s", aFull)
	}

	a.chat(bareJID(t, env, bob), "65a1f3d9c81a4f0e2b0000a1", "Hello from a standard client")
	m := b.expectMessage("alice's message", "65a1f3d9c81a4f0e2b0000a1", "Hello from a standard client", aFull)
	addressedTo(t, "bob", m, bFull)

	// Bob answers the resource that wrote to him (RFC 6121 §5.1).
	from := jid.MustParse(m.attr("from"))
	b.chat(from, "65a1f3d9c81a4f0e2b0000a2", "Hello back")
	m = a.expectMessage("bob's answer", "65a1f3d9c81a4f0e2b0000a2", "Hello back", bFull)
	addressedTo(t, "alice", m, aFull)

	a.closeStream()
	b.nothingPending("the exchange")
	a.nothingPending("the exchange")
}

// resumeOrBind is the client side of XEP-0198 §5 as a mellium stream
// feature: on the post-authentication features (<bind/> and <sm/>) it
// sends <resume previd h/> instead of binding. On <resumed/> the stream is
// the earlier session again, with its full JID, so negotiation ends there
// (Ready: no bind). On <failed/> it binds a new resource on the same stream,
// as the XEP lets a client do. answer receives the server's answer.
func resumeOrBind(previd string, h uint32, full jid.JID, answer *element) xmpp.StreamFeature {
	bind := xmpp.BindResource()
	return xmpp.StreamFeature{
		Name:       xml.Name{Space: nsSM, Local: "sm"},
		Necessary:  xmpp.Secure | xmpp.Authn,
		Prohibited: xmpp.Ready,
		// Client side only: no List (that lists the feature as a server).
		Parse: func(ctx context.Context, d *xml.Decoder, start *xml.StartElement) (bool, interface{}, error) {
			var sm struct{}
			return true, nil, d.DecodeElement(&sm, start)
		},
		Negotiate: func(ctx context.Context, s *xmpp.Session, _ interface{}) (xmpp.SessionState, io.ReadWriter, error) {
			el, err := smExchange(s, "resume", "previd", previd, "h", strconv.FormatUint(uint64(h), 10))
			if err != nil {
				return 0, nil, fmt.Errorf("<resume/>: %w", err)
			}
			*answer = el
			switch {
			case el.is(nsSM, "resumed"):
				s.UpdateAddr(full)
				return xmpp.Ready, nil, nil
			case el.is(nsSM, "failed"):
				return bind.Negotiate(ctx, s, nil)
			}
			return 0, nil, fmt.Errorf("<resume/> answered with %s", el)
		},
	}
}

// smExchange writes one stream management element and reads the answer,
// during negotiation (nothing else reads the stream then).
func smExchange(s *xmpp.Session, local string, attrs ...string) (element, error) {
	w := s.TokenWriter()
	_, err := xmlstream.Copy(w, nonza(local, attrs...))
	if err == nil {
		err = w.Flush()
	}
	w.Close()
	if err != nil {
		return element{}, err
	}
	r := s.TokenReader()
	defer r.Close()
	d := xml.NewTokenDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			return element{}, err
		}
		switch tok := tok.(type) {
		case xml.CharData:
			continue // whitespace between elements
		case xml.StartElement:
			var el element
			err := d.DecodeElement(&el, &tok)
			return el, err
		default:
			return element{}, fmt.Errorf("unexpected %T", tok)
		}
	}
}

// enableResumption sends <enable resume='true'/> on a bound stream and
// returns the resumption id from <enabled/>, checking it offers max
// seconds.
func (c *stdClient) enableResumption(max time.Duration) string {
	c.t.Helper()
	c.sendNonza("enable", "resume", "true")
	en := c.next("<enabled/>")
	if !en.is(nsSM, "enabled") {
		c.t.Fatalf("%s: <enable resume='true'/> answered with %s, want <enabled/>", c.name, en)
	}
	id, resume := en.attr("id"), en.attr("resume")
	if id == "" || (resume != "true" && resume != "1") || en.attr("max") != strconv.Itoa(int(max/time.Second)) {
		c.t.Fatalf("%s: %s, want <enabled id='{opaque}' resume='true' max='%d'/>", c.name, en, int(max/time.Second))
	}
	return id
}

func TestStandardClientResumesItsStream(t *testing.T) {
	// Far longer than this test, which never waits for it to pass.
	const resumeTimeout = 30 * time.Second
	env, pool := startTLSServer(t, func(c *config.Config) { c.ResumeTimeout = resumeTimeout })

	t.Run("resume", func(t *testing.T) {
		alice, bob := env.NewUser(t), env.NewUser(t)
		b := online(t, env, "bob", bob, pool)
		bFull := checkBound(t, env, "bob", b, bob)
		aBare := bareJID(t, env, alice)

		a := dialStd(t, env, "alice", alice, pool, xmpp.BindResource())
		a.serve(false, 0)
		aFull := checkBound(t, env, "alice", a, alice)
		previd := a.enableResumption(resumeTimeout)
		a.presence()
		a.requestAck(a.sent.Load()) // the presence is handled: alice is available

		b.chat(aBare, "65a1f3d9c81a4f0e2b0001b1", "m1")
		a.expectMessage("m1", "65a1f3d9c81a4f0e2b0001b1", "m1", bFull)
		if got := a.h.Load(); got != 1 {
			t.Fatalf("alice counted %d stanzas since <enabled/>, want 1", got)
		}
		a.sendNonza("a", "h", strconv.FormatUint(uint64(a.h.Load()), 10))
		// A round trip: the server took the ack (a stream error would end
		// the stream here) before the connection goes.
		a.requestAck(a.sent.Load())

		a.cut()
		h, sent := a.h.Load(), a.sent.Load()

		// The server still has alice's session: bob's messages are accepted
		// (no error comes back before the answer to his ping).
		b.chat(aBare, "65a1f3d9c81a4f0e2b0001b2", "m2")
		b.chat(aBare, "65a1f3d9c81a4f0e2b0001b3", "m3")
		b.ping()

		var answer element
		a2 := dialStd(t, env, "alice again", alice, pool, resumeOrBind(previd, h, aFull, &answer))
		if !answer.is(nsSM, "resumed") || answer.attr("previd") != previd || answer.attr("h") != strconv.FormatUint(uint64(sent), 10) {
			t.Fatalf("<resume previd='%s' h='%d'/> answered with %s, want <resumed previd='%s' h='%d'/>", previd, h, answer, previd, sent)
		}
		if got := a2.s.LocalAddr(); !got.Equal(aFull) {
			t.Fatalf("resumed as %s, want %s", got, aFull)
		}
		a2.sent.Store(sent)
		a2.serve(true, h)

		// What alice had not acknowledged, once each, in order; not m1.
		a2.expectMessage("m2", "65a1f3d9c81a4f0e2b0001b2", "m2", bFull)
		a2.expectMessage("m3", "65a1f3d9c81a4f0e2b0001b3", "m3", bFull)

		// The same full JID still reaches her; nothing came in between.
		b.chat(aFull, "65a1f3d9c81a4f0e2b0001b4", "m4 to your full JID")
		m := a2.expectMessage("m4", "65a1f3d9c81a4f0e2b0001b4", "m4 to your full JID", bFull)
		addressedTo(t, "alice", m, aFull)

		// She writes on the resumed stream, and the server's count goes on
		// from where it was.
		a2.chat(bareJID(t, env, bob), "65a1f3d9c81a4f0e2b0001b5", "m5 after resuming")
		b.expectMessage("m5", "65a1f3d9c81a4f0e2b0001b5", "m5 after resuming", aFull)
		a2.requestAck(a2.sent.Load())
		if got := a2.h.Load(); got != h+3 {
			t.Fatalf("alice counted %d stanzas, want %d", got, h+3)
		}
		a2.sendNonza("a", "h", strconv.FormatUint(uint64(a2.h.Load()), 10))
		a2.closeStream()
	})

	t.Run("unknown previd", func(t *testing.T) {
		carol, dave := env.NewUser(t), env.NewUser(t)
		d := online(t, env, "dave", dave, pool)
		dFull := checkBound(t, env, "dave", d, dave)

		var answer element
		c := dialStd(t, env, "carol", carol, pool, resumeOrBind("bogus", 0, jid.JID{}, &answer))
		if !answer.is(nsSM, "failed") || !answer.child(nsStanzas, "item-not-found") {
			t.Fatalf("<resume previd='bogus'/> answered with %s, want <failed><item-not-found/></failed>", answer)
		}
		// The stream stayed open and the fallback bound a resource on it.
		cFull := checkBound(t, env, "carol", c, carol)
		c.serve(false, 0)
		c.presence()
		c.ping()
		c.chat(bareJID(t, env, dave), "65a1f3d9c81a4f0e2b0001c1", "bound after a failed resume")
		d.expectMessage("carol's message", "65a1f3d9c81a4f0e2b0001c1", "bound after a failed resume", cFull)
		d.chat(cFull, "65a1f3d9c81a4f0e2b0001c2", "and reachable")
		c.expectMessage("dave's answer", "65a1f3d9c81a4f0e2b0001c2", "and reachable", dFull)
	})
}
