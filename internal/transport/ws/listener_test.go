package ws_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// rawHTTP sends req on a fresh connection to addr and returns the
// response, read to the end (the listener closes after a refusal).
func rawHTTP(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no HTTP answer to %q: %v", req, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("body of the answer to %q not ended by the close: %v", req, err)
	}
	return resp, string(body)
}

// The dedicated listener answers what is not a WebSocket upgrade with an
// HTTP error and closes, like net/http would.
func TestListenerRefusesWhatIsNotAnUpgrade(t *testing.T) {
	env := servertest.Start(t)
	addr := strings.TrimPrefix(env.WSURL, "ws://")
	cases := []struct {
		req  string
		code int
	}{
		{"GARBAGE\r\n\r\n", http.StatusBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusUpgradeRequired},
		{"GET / HTTP/1.0\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", http.StatusUpgradeRequired},
	}
	for _, c := range cases {
		resp, body := rawHTTP(t, addr, c.req)
		if resp.StatusCode != c.code || body == "" {
			t.Errorf("%q: %d %q, want %d with an explanation", c.req, resp.StatusCode, body, c.code)
		}
	}
}

// Any path of the dedicated listener upgrades (the SDK's default endpoint
// has none) and the stream starts.
func TestListenerUpgradesWithTheXMPPSubprotocol(t *testing.T) {
	env := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, path := range []string{"", "/", "/anything"} {
		c, resp, err := websocket.Dial(ctx, env.WSURL+path, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			t.Fatalf("dial %q: %v", path, err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || c.Subprotocol() != "xmpp" {
			t.Fatalf("upgrade %q: %d, subprotocol %q", path, resp.StatusCode, c.Subprotocol())
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`)); err != nil {
			t.Fatal(err)
		}
		_, b, err := c.Read(ctx)
		if err != nil || !strings.HasPrefix(string(b), "<open") {
			t.Fatalf("after the upgrade: %q, %v", b, err)
		}
		c.CloseNow()
	}
}

// An upgrade request whose headers never end is cut off at the header
// bound (431), not read for as long as the client sends: before the bound,
// one such connection took the server from 15 MB to 884 MB.
func TestListenerBoundsTheUpgradeHeaders(t *testing.T) {
	env := servertest.Start(t)
	addr := strings.TrimPrefix(env.WSURL, "ws://")
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	answer := make(chan string, 1)
	go func() {
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, _ := bufio.NewReader(nc).ReadString('\n')
		answer <- line
	}()
	// The server stops reading after 68 KiB (and discards 64 KiB more);
	// what else gets written fills the kernel's socket buffers, a few
	// MiB on loopback. An unbounded reader takes all 256 MiB.
	const most = 256 << 20
	chunk := []byte("X-Filler: " + strings.Repeat("a", 32<<10-12) + "\r\n")
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n")
	written := 0
	nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for written < most {
		n, err := nc.Write(chunk)
		written += n
		if err != nil {
			break
		}
	}
	if written >= most {
		t.Fatalf("the server read %d MiB of headers without refusing them", written>>20)
	}
	if line := <-answer; line != "" && !strings.HasPrefix(line, "HTTP/1.1 431 ") {
		t.Fatalf("answer to endless headers: %q, want 431", line)
	}
}

// The per-address cap applies before the request is read: connections
// over it are answered 503 and closed at once, even if they never send
// anything (they would otherwise be held for the handshake timeout).
// Which ones are over depends on the order the server admits them, so
// the test counts: of five silent connections with a cap of two, exactly
// three are refused and two are held.
func TestListenerCapsConnectionsPerAddressBeforeReading(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxConnsPerIP = 2 })
	addr := strings.TrimPrefix(env.WSURL, "ws://")
	const n = 5
	answers := make(chan string, n)
	for i := 0; i < n; i++ {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		go func() {
			// Held connections say nothing within the wait (the
			// handshake timeout is 10 s); refused ones say 503 and end
			// once their (here silent) request had a second to arrive.
			nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			b, err := io.ReadAll(nc)
			if err != nil {
				answers <- "held"
				return
			}
			answers <- strings.SplitN(string(b), "\r\n", 2)[0]
		}()
	}
	got := map[string]int{}
	for i := 0; i < n; i++ {
		got[<-answers]++
	}
	if got["HTTP/1.1 503 Service Unavailable"] != 3 || got["held"] != 2 {
		t.Fatalf("five silent connections with a cap of two: %v; want 3 refused, 2 held", got)
	}
}
