package ws

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"time"
)

// Buffer sizes of a connection on the dedicated listener. net/http gives
// every connection 4 KiB each way for its whole life; a held chat
// connection mostly waits, and its stanzas are small, so it gets less.
// Larger frames pass through bufio unbuffered.
const (
	readBufferSize  = 2 << 10
	writeBufferSize = 1 << 10
	// handshakeTimeout bounds the HTTP upgrade request, headers included
	// (the HTTP listener's ReadHeaderTimeout is the same 10s).
	handshakeTimeout = 10 * time.Second
	// maxHeaderBytes bounds the upgrade request line and headers, as the
	// HTTP listener's MaxHeaderBytes does (64 KiB; net/http reads 4 KiB
	// beyond it before answering 431, so does this one). A browser's
	// upgrade request with its cookies is a few KiB; without a bound
	// net/http's parser grows a header line for as long as the client
	// sends one.
	maxHeaderBytes = 64<<10 + 4096
)

// Serve accepts WebSocket connections on ln (the SDK's default endpoint,
// `--ws-addr`, any path) until ln is closed. It reads each upgrade request
// with net/http's parser but without net/http's server: after the
// upgrade nothing of the HTTP exchange is kept, which makes a held
// connection about a third lighter. It returns once ln fails; sessions
// end with the handler's context.
func (h *Handler) Serve(ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond) // out of descriptors: back off
				continue
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.serveConn(nc)
		}()
	}
}

func (h *Handler) serveConn(nc net.Conn) {
	defer nc.Close()
	// The per-address cap applies before the request is parsed: a
	// connection over it costs one short answer and a small discard
	// buffer, never a request buffer. Its request is read (and dropped)
	// first, for at most a second: an HTTP client that gets its answer
	// before it finished sending its request may take it for an
	// unsolicited response (Go's transport does) and report a broken
	// connection instead of the 503.
	ip := remoteIP(nc.RemoteAddr().String())
	if !h.engine.Admit(ip) {
		nc.SetDeadline(time.Now().Add(time.Second))
		discardHeader(nc)
		nc.SetDeadline(time.Now().Add(time.Second)) // a silent client used the first
		fmt.Fprint(nc, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\ntoo many connections from this address\n")
		lingeringClose(nc)
		return
	}
	defer h.engine.Release(ip)
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	lr := &limitedReader{r: nc, n: maxHeaderBytes}
	br := bufio.NewReaderSize(lr, readBufferSize)
	req, err := http.ReadRequest(br)
	if err != nil {
		if lr.n <= 0 {
			fmt.Fprint(nc, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nrequest headers too large\n")
			nc.SetDeadline(time.Now().Add(time.Second))
			lingeringClose(nc)
			return
		}
		fmt.Fprint(nc, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nmalformed HTTP request\n")
		return
	}
	// The WebSocket reads through br after the upgrade: no bound then
	// (frames are bounded by the read limit).
	lr.n = math.MaxInt64
	req.RemoteAddr = nc.RemoteAddr().String()
	w := &upgradeWriter{nc: nc, br: br, header: http.Header{}}
	h.upgrade(w, req)
}

// lingeringClose ends the sending side and discards what the client still
// sends for a moment (at most 64 KiB, within the deadline already set):
// closing a socket with unread input resets it, and the client could lose
// the answer before reading it.
// discardHeader reads nc up to the blank line that ends a request's
// header, at most maxHeaderBytes, through a 512-byte buffer; it stops
// early at an error (the deadline).
func discardHeader(nc net.Conn) {
	// buf[:3] holds the end of the previous read, so that a blank line
	// split between two reads is seen.
	var buf [3 + 512]byte
	for read := 0; read < maxHeaderBytes; {
		n, err := nc.Read(buf[3:])
		if bytes.Contains(buf[:3+n], []byte("\r\n\r\n")) || err != nil {
			return
		}
		copy(buf[:3], buf[n:3+n])
		read += n
	}
}

func lingeringClose(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(nc, 64<<10))
}

// limitedReader is io.LimitedReader whose limit can be lifted once the
// request is read (net/http does the same with its connection reader).
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// upgradeWriter is the http.ResponseWriter (and Hijacker) of one upgrade
// request: a refusal is written and the connection closed; a 101 hands
// the connection to the WebSocket library.
type upgradeWriter struct {
	nc       net.Conn
	br       *bufio.Reader
	header   http.Header
	wrote    bool
	hijacked bool
}

func (w *upgradeWriter) Header() http.Header { return w.header }

func (w *upgradeWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code != http.StatusSwitchingProtocols {
		w.header.Set("Connection", "close") // the body ends with the connection
	}
	bw := bufio.NewWriterSize(w.nc, 512)
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	w.header.Write(bw)
	bw.WriteString("\r\n")
	bw.Flush()
}

func (w *upgradeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.nc.Write(b)
}

func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, errors.New("ws: connection already hijacked")
	}
	w.hijacked = true
	w.nc.SetDeadline(time.Time{})
	return w.nc, bufio.NewReadWriter(w.br, bufio.NewWriterSize(w.nc, writeBufferSize)), nil
}

var _ http.Hijacker = (*upgradeWriter)(nil)
