package ws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// A frame over --max-stanza-bytes gets the stream error policy-violation
// and the closing element (the SDK then reconnects), not a bare close of
// the WebSocket; it is dropped as it arrives, never held whole. One over
// 64 times the limit closes the connection (1009) without being read.
func TestOversizedFrameGetsAStreamError(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaBytes = 4096 })
	for _, url := range []string{env.WSURL, strings.Replace(env.URL, "http://", "ws://", 1) + "/ws"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		big := `<iq type="get" id="x" xmlns="jabber:client"><query xmlns="jabber:iq:privacy">` +
			strings.Repeat(`<list name="a"/>`, 1000) + `</query></iq>` // 16 KiB, four times the limit
		if err := c.Write(ctx, websocket.MessageText, []byte(big)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				break
			}
			got = append(got, string(b))
		}
		cancel()
		c.CloseNow()
		if len(got) != 2 || !strings.Contains(got[0], "<stream:error") || !strings.Contains(got[0], "policy-violation") ||
			!strings.HasPrefix(got[1], "<close") {
			t.Fatalf("%s: got %q; want the stream error policy-violation, then <close/>", url, got)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, env.WSURL, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", 65*4096))) // the server may close while it is written
	_, _, err = c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf("a frame over 64 times the limit: %v (status %d); want a close with 1009", err, got)
	}
}
