// Package tcp carries XMPP over TCP (RFC 6120): one long XML stream per
// connection, STARTTLS when a certificate is configured, or TLS from the
// first byte on a direct-TLS listener. It turns the stream into the same
// elements the WebSocket transport gives the engine: the stream header
// becomes an RFC 7395 <open/>, the end tag a <close/>, and back.
//
// It imports internal/xmpp and internal/c2s.
package tcp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/c2s"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Server accepts TCP connections and runs one engine session each.
type Server struct {
	engine *c2s.Engine
	limits xmpp.Limits
	tls    *tls.Config // nil: no STARTTLS
	direct bool        // TLS from the first byte (xmpps)
	log    *slog.Logger
	wg     sync.WaitGroup
}

// NewServer returns a listener loop for plain TCP with STARTTLS (direct
// false; STARTTLS only when tlsConfig is set) or for direct TLS.
func NewServer(engine *c2s.Engine, limits xmpp.Limits, tlsConfig *tls.Config, direct bool, log *slog.Logger) *Server {
	return &Server{engine: engine, limits: limits, tls: tlsConfig, direct: direct, log: log.With("component", "tcp")}
}

// Serve accepts until ln is closed; sessions end with ctx. It returns after
// every session it started has ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) {
	defer s.wg.Wait()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("accept", "err", err)
			}
			return
		}
		ip, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
		if !s.engine.Admit(ip) {
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.engine.Release(ip)
			c := &conn{nc: nc, ip: ip, limits: s.limits, tls: s.tls}
			if s.direct {
				tc := tls.Server(nc, s.tls)
				c.nc, c.secure = tc, true
			}
			c.dec = xmpp.NewDecoder(c.nc, s.limits)
			s.engine.Serve(ctx, c)
		}()
	}
}

// conn adapts a TCP stream to c2s.Conn (and c2s.StreamConn).
type conn struct {
	nc     net.Conn
	ip     string // the client's address, for the auth limits
	dec    *xmpp.Decoder
	limits xmpp.Limits
	tls    *tls.Config
	secure bool
	wmu    sync.Mutex
}

var (
	openPrefix  = []byte("<open ")
	closePrefix = []byte("<close ")
)

// RemoteIP is the client's address (c2s.PeerConn).
func (c *conn) RemoteIP() string { return c.ip }

// Transport names the transport in the engine's counts (c2s.TransportConn).
func (c *conn) Transport() string { return "tcp" }

func (c *conn) Read(ctx context.Context) (*xmpp.Element, error) {
	stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Now()) })
	defer stop()
	ev, err := c.dec.Next()
	if err != nil {
		return nil, err
	}
	switch ev.Kind {
	case xmpp.StreamOpen:
		// The engine speaks RFC 7395 framing: the header is its <open/>.
		open := xmpp.NewElement("open", "xmlns", xmpp.NSFraming)
		for _, a := range ev.Element.Attrs {
			if a.Name == "to" || a.Name == "version" || a.Name == "from" {
				open.SetAttr(a.Name, a.Value)
			}
		}
		return open, nil
	case xmpp.StreamClose:
		return xmpp.NewElement("close", "xmlns", xmpp.NSFraming), nil
	}
	return ev.Element, nil
}

func (c *conn) Write(ctx context.Context, frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetWriteDeadline(dl)
	}
	switch {
	case bytes.HasPrefix(frame, openPrefix):
		// The engine's <open .../> becomes the stream header.
		el, err := xmpp.ParseElement(frame, c.limits)
		if err != nil {
			return err
		}
		head := xmpp.NewElement("stream:stream", "xmlns", xmpp.NSClient, "xmlns:stream", xmpp.NSStream)
		for _, a := range el.Attrs {
			if a.Name != "xmlns" {
				head.SetAttr(a.Name, a.Value)
			}
		}
		b := append([]byte("<?xml version='1.0'?>"), head.Encode()...)
		b = append(b[:len(b)-2], '>') // <stream:stream .../> → open tag
		_, err = c.nc.Write(b)
		return err
	case bytes.HasPrefix(frame, closePrefix):
		_, err := c.nc.Write([]byte("</stream:stream>"))
		return err
	}
	_, err := c.nc.Write(frame)
	return err
}

// WriteBatch sends several encoded stanzas in one write (writev on a
// plain socket): under load a session's queue holds a few stanzas at once
// (a group commit delivers a burst), and one system call for all of them
// is cheaper than one each. The stream's header and end take Write.
func (c *conn) WriteBatch(ctx context.Context, frames [][]byte) error {
	for _, f := range frames {
		if bytes.HasPrefix(f, openPrefix) || bytes.HasPrefix(f, closePrefix) {
			for _, f := range frames {
				if err := c.Write(ctx, f); err != nil {
					return err
				}
			}
			return nil
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetWriteDeadline(dl)
	}
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(c.nc)
	return err
}

// Close drops the connection. It never reports a confirmed close: a TCP
// client's reading is not observable, so what it did not acknowledge is
// kept for it (XEP-0198's at-least-once).
func (c *conn) Close() error {
	if err := c.nc.Close(); err != nil {
		return err
	}
	return errUnconfirmed
}

var errUnconfirmed = errors.New("tcp: close not confirmed by the peer")

// CanStartTLS reports whether STARTTLS is on offer.
func (c *conn) CanStartTLS() bool { return c.tls != nil && !c.secure }

// Secure reports whether the stream is encrypted.
func (c *conn) Secure() bool { return c.secure }

// StartTLS upgrades the connection after <proceed/> was written. Bytes the
// client sent in plaintext after <starttls/> are refused (RFC 6120 §5.4.3.3),
// except whitespace, which is no data: mattn/go-xmpp (go-sendxmpp and many
// bots) sends a newline after <starttls/> in the same packet.
func (c *conn) StartTLS() error {
	if c.dec.DiscardBufferedSpace() > 0 {
		return errors.New("tcp: data after <starttls/>")
	}
	tc := tls.Server(c.nc, c.tls)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	tc.SetDeadline(time.Time{})
	c.nc, c.secure = tc, true
	c.dec.Reset(tc)
	return nil
}

// RestartStream prepares for the client's new stream header (after SASL).
func (c *conn) RestartStream() { c.dec.Restart() }
