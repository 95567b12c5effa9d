package c2s_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// A client that never reads is closed once what its session holds passes
// --out-queue-bytes, long before --out-queue stanzas (here never reached),
// and loses nothing: what it did not acknowledge arrives on its next login
// (see TestSlowConsumerIsClosedAndLosesNothing).
func TestSlowConsumerIsClosedAtTheByteBudget(t *testing.T) {
	var logs servertest.Log
	env := servertest.StartLogged(t, &logs, func(c *config.Config) {
		c.OutQueue = 100000
		c.OutQueueBytes = 256 << 10
	})
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	slow, _ := login(t, env, bob, bob.Password) // and then it stops reading
	const n = 200
	body := strings.Repeat("x", 30<<10) // 6 MiB in all: more than socket buffers hold
	for i := 0; i < n; i++ {
		a.send(chatTo(userJID(env, bob), fmt.Sprintf("m%04d", i), body))
	}
	a.sync("sent")
	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, b, err := slow.c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the slow session was never closed")
			}
			break
		}
		if el, err := xmpp.ParseElement(b, xmpp.Limits{}); err == nil && el.Name == "message" {
			seen[el.Attr("id")]++
		}
	}
	if len(seen) == n {
		t.Fatalf("the slow client got all %d messages: the budget was never reached (test too weak)", n)
	}
	if w := logs.Lines(t, "outbound queue full"); len(w) != 1 || w[0]["user"] != float64(bob.ID) {
		t.Fatalf("closed by something else than the byte budget: %v", w)
	}
	b2, _ := loginToPresence(t, env, bob, bob.Password)
	b2.keptUntilAll(seen, n, "m%04d")
}

// Past --out-queue-total-bytes over all sessions, the session holding the
// most is closed, not the one that happened to receive; the others carry
// on, and what the closed one held comes back as offline messages. With
// stream management what a session wrote stays held until acknowledged,
// so the amounts are exact whatever the socket buffers take: bob never
// reads, carol reads but never acknowledges.
func TestServerBudgetClosesTheSessionHoldingMost(t *testing.T) {
	var logs servertest.Log
	var dataDir string
	env := servertest.StartLogged(t, &logs, func(c *config.Config) {
		c.OutQueue = 100000
		c.OutQueueBytes = 1 << 20
		c.OutQueueTotalBytes = 1 << 20
		dataDir = c.DataDir
	})
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	c.manualAcks = true
	body := strings.Repeat("x", 30<<10)
	// Bob is sent 720 KiB, carol 360 KiB: each under a session's budget,
	// together over the server's, and bob holds the most whenever the
	// server looks.
	const toBob, toCarol = 24, 12
	for i := 0; i < toBob; i++ {
		a.send(chatTo(userJID(env, bob), fmt.Sprintf("m%04d", i), body))
	}
	a.sync("to-bob")
	for i := 0; i < toCarol; i++ {
		a.send(chatTo(userJID(env, carol), fmt.Sprintf("c%02d", i), body))
	}
	a.sync("to-carol")
	for got := 0; got < toCarol; {
		if el := c.recv(); el.Name == "message" {
			got++
		}
	}
	c.sync("alive") // carol carries on

	// Bob, who held the most when the server went over, was closed.
	servertest.Eventually(t, 10*time.Second, "the budget warning", func() bool {
		return len(logs.Lines(t, "server over its outbound memory budget")) > 0
	})
	if w := logs.Lines(t, "server over its outbound memory budget"); w[0]["user"] != float64(bob.ID) {
		t.Fatalf("budget warnings %v: want the first to close bob's session (user %d)", w, bob.ID)
	}
	b.c.CloseNow() // bob's client never read: nothing was delivered
	servertest.Eventually(t, 10*time.Second, "bob's messages kept offline", func() bool { return keptRows(t, dataDir, bob.ID) == toBob })
	b2, _ := loginToPresence(t, env, bob, bob.Password)
	wantInOrder(t, b2.keptAtLeast("done", toBob), toBob)
}
