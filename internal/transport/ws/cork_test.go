package ws

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/xmpp"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// upgraded returns both ends of a WebSocket over loopback TCP, upgraded the
// way the dedicated listener does it, with the server's socket writes
// counted.
func upgraded(t *testing.T) (*conn, *countingConn, *websocket.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   *conn
		cc  *countingConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		cc := &countingConn{Conn: nc}
		br := bufio.NewReaderSize(cc, readBufferSize)
		req, err := http.ReadRequest(br)
		if err != nil {
			done <- result{err: err}
			return
		}
		cw := &corkingWriter{ResponseWriter: &upgradeWriter{nc: cc, br: br, header: http.Header{}}}
		wc, err := websocket.Accept(cw, req, &websocket.AcceptOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{c: &conn{c: wc, cork: cw.cork, limits: xmpp.Limits{}}, cc: cc}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/", &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.c.CloseNow() })
	return r.c, r.cc, client
}

func readFrames(t *testing.T, client *websocket.Conn, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []string
	for range n {
		typ, b, err := client.Read(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(got), err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("frame %d is %v, want text", len(got), typ)
		}
		got = append(got, string(b))
	}
	return got
}

// stanzas returns n messages with bodies of size bytes, encoded and as
// the client should read them.
func stanzas(n, size int) ([][]byte, []string) {
	var frames [][]byte
	var want []string
	for i := range n {
		s := fmt.Sprintf(`<message id="m%d"><body>%s</body></message>`, i, strings.Repeat("x", size))
		frames = append(frames, []byte(s))
		want = append(want, s)
	}
	return frames, want
}

// A batch reaches the client as one frame per stanza, in order, in one
// write to the socket; a single stanza written outside a batch goes out
// at once.
func TestBatchIsOneWrite(t *testing.T) {
	c, cc, client := upgraded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	frames, want := stanzas(20, 100)
	before := cc.writes.Load()
	if err := c.WriteBatch(ctx, frames); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes.Load() - before; n != 1 {
		t.Errorf("a batch of 20 stanzas took %d socket writes, want 1", n)
	}
	if got := readFrames(t, client, len(want)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("received %q, want %q", got, want)
	}

	before = cc.writes.Load()
	if err := c.Write(ctx, []byte("<r/>")); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes.Load() - before; n != 1 {
		t.Errorf("a single stanza took %d socket writes, want 1", n)
	}
	if got := readFrames(t, client, 1); got[0] != "<r/>" {
		t.Errorf("received %q", got)
	}
}

// A batch larger than what the cork holds goes out in a few writes, every
// frame intact (a run of large stanzas is not buffered whole).
func TestLargeBatchIsWrittenInParts(t *testing.T) {
	c, cc, client := upgraded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	frames, want := stanzas(10, 30<<10)
	got := make(chan []string, 1)
	go func() { got <- readFrames(t, client, len(want)) }()
	before := cc.writes.Load()
	if err := c.WriteBatch(ctx, frames); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes.Load() - before; n < 4 || n > 10 {
		t.Errorf("300 KiB in a batch took %d socket writes, want a few (64 KiB each)", n)
	}
	if g := <-got; strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("large frames arrived altered or out of order")
	}
}

// The library's own frames (pongs to the client's pings, written by the
// reading side) interleave with batches without splitting a frame.
func TestPingsDuringBatches(t *testing.T) {
	c, _, client := upgraded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The server reads so that it answers pings; the client reads so that
	// pongs and data reach it.
	go func() {
		for {
			if _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	const batches, per = 300, 10
	// The client keeps reading after the last frame: its pings' pongs
	// arrive through Read.
	received := make(chan string, batches*per)
	go func() {
		for {
			_, b, err := client.Read(ctx)
			if err != nil {
				return
			}
			received <- string(b)
		}
	}()
	pings := make(chan error, 1)
	go func() {
		for range 20 {
			if err := client.Ping(ctx); err != nil {
				pings <- err
				return
			}
		}
		pings <- nil
	}()
	for b := range batches {
		var frames [][]byte
		for i := range per {
			frames = append(frames, fmt.Appendf(nil, "<m n='%d'/>", b*per+i))
		}
		if err := c.WriteBatch(ctx, frames); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-pings; err != nil {
		t.Fatalf("ping during batches: %v", err)
	}
	var all []string
	for len(all) < batches*per {
		select {
		case m := <-received:
			all = append(all, m)
		case <-ctx.Done():
			t.Fatalf("received %d frames, want %d", len(all), batches*per)
		}
	}
	for i, s := range all {
		if want := fmt.Sprintf("<m n='%d'/>", i); s != want {
			t.Fatalf("frame %d is %q, want %q", i, s, want)
		}
	}
}
