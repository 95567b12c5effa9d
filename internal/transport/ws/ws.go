// Package ws carries XMPP over WebSocket (RFC 7395): subprotocol "xmpp",
// one complete element per text frame. It turns frames into elements and
// back and leaves everything else to the stream engine.
//
// It imports internal/xmpp, internal/c2s and github.com/coder/websocket.
package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/c2s"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Handler accepts WebSocket connections and runs one engine session each.
type Handler struct {
	engine *c2s.Engine
	limits xmpp.Limits
	ctx    context.Context // the server's: sessions end when it does
	log    *slog.Logger
}

// NewHandler returns the WebSocket endpoint; ctx bounds every session.
func NewHandler(ctx context.Context, engine *c2s.Engine, limits xmpp.Limits, log *slog.Logger) *Handler {
	return &Handler{engine: engine, limits: limits, ctx: ctx, log: log.With("component", "ws")}
}

// ServeHTTP is the endpoint at /ws of the HTTP listener.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip := remoteIP(r.RemoteAddr)
	if !h.engine.Admit(ip) {
		http.Error(w, "too many connections from this address", http.StatusServiceUnavailable)
		return
	}
	defer h.engine.Release(ip)
	h.upgrade(w, r)
}

func remoteIP(addr string) string {
	ip, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return ip
}

// upgrade runs a session on an admitted connection.
func (h *Handler) upgrade(w http.ResponseWriter, r *http.Request) {
	cw := &corkingWriter{ResponseWriter: w}
	c, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		Subprotocols: []string{"xmpp"},
		// Browser apps connect from their own origin; authentication is
		// SASL inside the stream, not a cookie, so any origin may connect.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has answered the HTTP request
	}
	if c.Subprotocol() != "xmpp" {
		c.Close(websocket.StatusProtocolError, `the "xmpp" subprotocol is required`)
		return
	}
	c.SetReadLimit(int64(maxStanza(h.limits)) * drainFactor)
	h.engine.Serve(h.ctx, &conn{c: c, cork: cw.cork, limits: h.limits, ip: remoteIP(r.RemoteAddr)})
}

// conn adapts a WebSocket to c2s.Conn.
type conn struct {
	c      *websocket.Conn
	cork   *cork
	limits xmpp.Limits
	// broken is set when a read failed other than on the peer's close
	// frame: the library has closed the connection then (a cancelled read
	// does that), and its Close reports that as success.
	broken atomic.Bool
	ip     string // the client's address, for the auth limits
}

// RemoteIP is the client's address (c2s.PeerConn).
func (c *conn) RemoteIP() string { return c.ip }

// Transport names the transport in the engine's counts (c2s.TransportConn).
func (c *conn) Transport() string { return "ws" }

// drainFactor: a frame over --max-stanza-bytes is read to its end and
// dropped, and answered with the stream error policy-violation, up to this
// many times the limit; the library closes the connection on a larger one
// (status 1009). A frame is never held whole: only the first
// --max-stanza-bytes are kept, the rest is discarded as it arrives.
const drainFactor = 64

func maxStanza(l xmpp.Limits) int {
	if l.MaxStanzaBytes <= 0 {
		return xmpp.DefaultMaxStanzaBytes
	}
	return l.MaxStanzaBytes
}

func (c *conn) Read(ctx context.Context) (*xmpp.Element, error) {
	typ, r, err := c.c.Reader(ctx)
	if err == nil {
		var b []byte
		max := maxStanza(c.limits)
		if b, err = io.ReadAll(io.LimitReader(r, int64(max)+1)); err == nil && len(b) > max {
			// Too large: the client gets the stream error of RFC 6120 (the
			// SDK reconnects), not a bare close.
			if _, err = io.Copy(io.Discard, r); err == nil {
				return nil, &xmpp.Error{Kind: xmpp.ErrTooLarge, Detail: fmt.Sprintf("a frame over %d bytes", max)}
			}
		}
		if err == nil {
			return c.parse(typ, b)
		}
	}
	if websocket.CloseStatus(err) == -1 {
		c.broken.Store(true)
	}
	return nil, err
}

func (c *conn) parse(typ websocket.MessageType, b []byte) (*xmpp.Element, error) {
	if typ != websocket.MessageText {
		return nil, &xmpp.Error{Kind: xmpp.ErrSyntax, Detail: "binary frame"}
	}
	return xmpp.ParseElement(b, c.limits)
}

func (c *conn) Write(ctx context.Context, frame []byte) error {
	return c.c.Write(ctx, websocket.MessageText, frame)
}

// WriteBatch sends several stanzas, one frame each, in one write to the
// socket (see cork).
func (c *conn) WriteBatch(ctx context.Context, frames [][]byte) error {
	dl, _ := ctx.Deadline()
	c.cork.hold(dl)
	var err error
	for _, f := range frames {
		if err = c.c.Write(ctx, websocket.MessageText, f); err != nil {
			break
		}
	}
	if rerr := c.cork.release(err == nil); err == nil {
		err = rerr
	}
	return err
}

// Close runs the closing handshake; nil only when the peer answered it.
// The library's Close also returns nil on a connection it had already
// closed, which confirms nothing: then stanzas written but not
// acknowledged must not count as delivered.
func (c *conn) Close() error {
	if c.broken.Load() {
		c.c.CloseNow()
		return errUnconfirmed
	}
	return c.c.Close(websocket.StatusNormalClosure, "")
}

var errUnconfirmed = errors.New("ws: the connection failed before its close was confirmed")
