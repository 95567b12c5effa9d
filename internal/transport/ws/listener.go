package ws

import (
	"bufio"
	"errors"
	"fmt"
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
	// handshakeTimeout bounds the HTTP upgrade request.
	handshakeTimeout = 10 * time.Second
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
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(nc, readBufferSize)
	req, err := http.ReadRequest(br)
	if err != nil {
		fmt.Fprint(nc, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nmalformed HTTP request\n")
		return
	}
	req.RemoteAddr = nc.RemoteAddr().String()
	w := &upgradeWriter{nc: nc, br: br, header: http.Header{}}
	h.ServeHTTP(w, req)
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
