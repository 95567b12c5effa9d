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
