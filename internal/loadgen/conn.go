package loadgen

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/xmpp"
)

// Account is an XMPP account the load tool logs in as.
type Account struct {
	JID      string // bare JID, local@domain
	Password string
	Login    string // REST login, for accounts the load tool signed up
	ID       int64  // user id, for those
}

func (a Account) local() string {
	local, _, _ := strings.Cut(a.JID, "@")
	return local
}

// ReadAccounts reads one account per line, "jid password" (the users.txt
// that bench-peers' gen-users.sh writes); blank lines and lines starting
// with # are skipped.
func ReadAccounts(r io.Reader) ([]Account, error) {
	var out []Account
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !strings.Contains(f[0], "@") {
			return nil, fmt.Errorf("line %d: want \"local@domain password\"", n)
		}
		out = append(out, Account{JID: f[0], Password: f[1]})
	}
	return out, sc.Err()
}

// PeerAccounts returns user1..userN@domain with one password: the accounts
// bench-peers registers on ejabberd and Prosody.
func PeerAccounts(n int, domain, password string) []Account {
	out := make([]Account, n)
	for i := range out {
		out[i] = Account{JID: fmt.Sprintf("user%d@%s", i+1, domain), Password: password}
	}
	return out
}

// conn is one authenticated XMPP session of the load tool, over WebSocket
// or TCP. send and recv may run concurrently (one goroutine each).
type conn interface {
	send(stanza []byte) error
	recv() (*xmpp.Element, error) // the next top-level element
	close()
}

// streamConn is a conn during login, which also opens (and reopens after
// SASL) the stream.
type streamConn interface {
	conn
	// open sends the stream header and reads the server's.
	open(domain string) error
	// restart is open after SASL success.
	restart(domain string) error
}

// wsConn is XMPP over WebSocket (RFC 7395): one element per text frame.
type wsConn struct {
	c   *websocket.Conn
	ctx context.Context // for every read and write: the run's context
}

func (w *wsConn) send(b []byte) error { return w.c.Write(w.ctx, websocket.MessageText, b) }

func (w *wsConn) recv() (*xmpp.Element, error) {
	_, b, err := w.c.Read(w.ctx)
	if err != nil {
		return nil, err
	}
	return xmpp.ParseElement(b, xmpp.Limits{})
}

func (w *wsConn) close() { w.c.CloseNow() }

func (w *wsConn) open(domain string) error {
	if err := w.send([]byte(`<open version="1.0" xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="` + domain + `"/>`)); err != nil {
		return err
	}
	_, err := expect(w, "open")
	return err
}

func (w *wsConn) restart(domain string) error { return w.open(domain) }

// tcpConn is XMPP over a plain TCP stream (RFC 6120), read with the
// server's own streaming tokenizer (internal/xmpp), which costs about a
// microsecond per stanza: the load tool runs on one core and must not be
// what limits the measurement.
type tcpConn struct {
	nc  net.Conn
	dec *xmpp.Decoder
}

func (t *tcpConn) send(b []byte) error {
	_, err := t.nc.Write(b)
	return err
}

func (t *tcpConn) recv() (*xmpp.Element, error) {
	for {
		ev, err := t.dec.Next()
		if err != nil {
			return nil, err
		}
		switch ev.Kind {
		case xmpp.Stanza:
			return ev.Element, nil
		case xmpp.StreamClose:
			return nil, io.EOF
		}
	}
}

func (t *tcpConn) close() { t.nc.Close() }

func (t *tcpConn) open(domain string) error {
	hdr := `<stream:stream to='` + domain + `' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`
	if err := t.send([]byte(hdr)); err != nil {
		return err
	}
	ev, err := t.dec.Next()
	if err != nil {
		return err
	}
	if ev.Kind != xmpp.StreamOpen {
		return fmt.Errorf("got %v, want the stream header", ev.Kind)
	}
	return nil
}

func (t *tcpConn) restart(domain string) error {
	// The server's new header may again start with an XML declaration,
	// which the decoder accepts only after Restart.
	t.dec.Restart()
	return t.open(domain)
}

// localName is an element name without its prefix (stream:features).
func localName(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func expect(c conn, name string) (*xmpp.Element, error) {
	el, err := c.recv()
	if err != nil {
		return nil, err
	}
	if localName(el.Name) != name {
		return nil, fmt.Errorf("got <%s>, want <%s>", el.Name, name)
	}
	return el, nil
}

// awaitIQ reads until the answer to the iq with this id, skipping what
// comes before it (a server echoes the initial presence to its sender,
// RFC 6121 §4.2.2), and returns it if it is a result.
func awaitIQ(c conn, id string) (*xmpp.Element, error) {
	for {
		el, err := c.recv()
		if err != nil {
			return nil, err
		}
		if el.Name == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" {
				return nil, fmt.Errorf("iq %s answered %s", id, el.String())
			}
			return el, nil
		}
	}
}

// dial opens the transport for one session.
func dial(ctx context.Context, cfg *XMPPConfig) (streamConn, error) {
	if cfg.Transport == "tcp" {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", cfg.XMPPAddr)
		if err != nil {
			return nil, err
		}
		return &tcpConn{nc: nc, dec: xmpp.NewDecoder(nc, xmpp.Limits{MaxStanzaBytes: 1 << 20})}, nil
	}
	c, _, err := websocket.Dial(ctx, cfg.WSURL, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	return &wsConn{c: c, ctx: cfg.runCtx}, nil
}

// login opens an authenticated, bound and available session: stream
// header, features, SASL PLAIN, stream restart, bind, initial presence,
// then a ping whose answer proves the presence handled (the server handles
// a session's stanzas in order), so the session can receive before the
// chat starts. The deadline bounds the whole exchange.
func login(ctx context.Context, cfg *XMPPConfig, acc Account, deadline time.Time) (conn, error) {
	return loginAs(ctx, cfg, acc, deadline, true)
}

// csiInactive is the XEP-0352 nonza marking a session inactive: it still
// receives everything, but its user counts as away for chat alerts
// (REALTIME.md §16.4).
const csiInactive = `<inactive xmlns='urn:xmpp:csi:0'/>`

// loginAs is login; without available it stops after the bind (and the
// session IQ where required): the session is connected but has sent no
// initial presence, so its user is not online yet (the status scenario's
// watched users, whose presence is what it measures).
func loginAs(ctx context.Context, cfg *XMPPConfig, acc Account, deadline time.Time, available bool) (conn, error) {
	c, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	inactive := available && cfg.PushAlerts
	err = withDeadline(cfg, c, deadline, func() error { return handshake(c, cfg.Domain, acc, available, inactive) })
	if err != nil {
		c.close()
		return nil, fmt.Errorf("login %s: %w", acc.JID, err)
	}
	return c, nil
}

// withDeadline runs fn, an exchange on c while no reader runs, with its
// reads and writes bounded by deadline: a blocked read or write must not
// outlive it. TCP through the socket's deadline, WebSocket through its
// context (which closes the connection when it expires, as a failed
// exchange should).
func withDeadline(cfg *XMPPConfig, c conn, deadline time.Time, fn func() error) error {
	switch t := c.(type) {
	case *tcpConn:
		t.nc.SetDeadline(deadline)
		defer t.nc.SetDeadline(time.Time{})
	case *wsConn:
		lctx, cancel := context.WithDeadline(cfg.runCtx, deadline)
		t.ctx = lctx
		defer func() { cancel(); t.ctx = cfg.runCtx }()
	}
	return fn()
}

// handshake logs in; with available it sends the initial presence, then,
// with inactive, the nonza marking the session inactive, and waits for
// the answer to a ping sent after them.
func handshake(c streamConn, domain string, acc Account, available, inactive bool) error {
	if err := c.open(domain); err != nil {
		return err
	}
	feat, err := expect(c, "features")
	if err != nil {
		return err
	}
	if !offersPlain(feat) {
		return errors.New("the server does not offer SASL PLAIN (without TLS)")
	}
	auth := `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` +
		base64.StdEncoding.EncodeToString([]byte("\x00"+acc.local()+"\x00"+acc.Password)) + `</auth>`
	if err := c.send([]byte(auth)); err != nil {
		return err
	}
	el, err := c.recv()
	if err != nil {
		return err
	}
	if localName(el.Name) != "success" {
		return fmt.Errorf("SASL: %s", el.String())
	}
	if err := c.restart(domain); err != nil {
		return err
	}
	if feat, err = expect(c, "features"); err != nil {
		return err
	}
	bind := `<iq type='set' id='b' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`
	if err := c.send([]byte(bind)); err != nil {
		return err
	}
	if _, err := awaitIQ(c, "b"); err != nil {
		return err
	}
	// RFC 3921 session establishment, only where a server still requires
	// it (it is optional or absent on all three servers measured here).
	if s := feat.Child("session", "urn:ietf:params:xml:ns:xmpp-session"); s != nil && s.Child("optional", "") == nil {
		if err := c.send([]byte(`<iq type='set' id='s' xmlns='jabber:client'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`)); err != nil {
			return err
		}
		if _, err := awaitIQ(c, "s"); err != nil {
			return err
		}
	}
	if !available {
		return nil
	}
	ready := []string{`<presence xmlns='jabber:client'/>`}
	if inactive {
		ready = append(ready, csiInactive)
	}
	ready = append(ready, `<iq type='get' id='p' to='`+domain+`' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if _, ok := c.(*wsConn); ok {
		// One element per WebSocket frame.
		for _, el := range ready {
			if err := c.send([]byte(el)); err != nil {
				return err
			}
		}
	} else if err := c.send([]byte(strings.Join(ready, ""))); err != nil {
		return err
	}
	_, err = awaitIQ(c, "p")
	return err
}

func offersPlain(features *xmpp.Element) bool {
	mechs := features.Child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")
	if mechs == nil {
		return false
	}
	for m := range mechs.Elements() {
		if m.Name == "mechanism" && strings.TrimSpace(m.Text()) == "PLAIN" {
			return true
		}
	}
	return false
}
