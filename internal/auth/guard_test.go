package auth

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestGuard(cfg Config) (*guard, *testClock) {
	c := &testClock{t: time.Unix(1_700_000_000, 0)}
	if cfg.LoginFreeFailures == 0 {
		cfg.LoginFreeFailures = DefaultLoginFreeFailures
	}
	if cfg.LoginBackoffMax == 0 {
		cfg.LoginBackoffMax = DefaultLoginBackoffMax
	}
	if cfg.LoginFailuresPerIP == 0 {
		cfg.LoginFailuresPerIP = 1000
	}
	if cfg.AppSessionsPerIP == 0 {
		cfg.AppSessionsPerIP = DefaultAppSessionsPerIP
	}
	return newGuard(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), c.now), c
}

// fail runs one failed attempt of account from addr; false when refused.
func fail(g *guard, account, addr string) bool {
	t, err := g.begin(context.Background(), attempt{account: accountKey{app: 1, name: account}, who: slog.String("login", account), addr: addr, via: "test"})
	if err != nil {
		if apperr.KindOf(err) != apperr.KindRateLimited {
			panic(err)
		}
		return false
	}
	t.done(context.Background(), false, "wrong password")
	return true
}

// One address guessing an account backs off only itself: the owner, from
// another address, still gets in; and one address cannot bring the
// account-wide count to its limit by itself, however long it keeps on.
func TestGuardAttackerAddressDoesNotLockOutTheOwner(t *testing.T) {
	g, clock := newTestGuard(Config{})
	var checked int
	for range 24 * 60 { // a day, one attempt a minute
		for range 100 { // as many as it is let through
			if !fail(g, "victim", "203.0.113.7:4000") {
				break
			}
			checked++
		}
		clock.add(time.Minute)
	}
	if w := g.account.Wait(accountKey{app: 1, name: "victim"}); w != 0 {
		t.Fatalf("after %d checked failures from one address in a day, the account itself waits %v", checked, w)
	}
	if checked > 5+10+4*24 { // 5 free, 10 while the wait grows to 15 min, then 4 an hour
		t.Fatalf("one address had %d passwords checked in a day", checked)
	}
	// The owner, elsewhere, is checked at once.
	if !fail(g, "victim", "198.51.100.9:5000") {
		t.Fatal("another address was refused")
	}
}

// Many addresses together do trip the account-wide count.
func TestGuardAccountWideCount(t *testing.T) {
	g, _ := newTestGuard(Config{})
	var checked int
	for i := range 200 {
		addr := "203.0.113." + string(rune('0'+i%10)) + string(rune('0'+i/10%10)) + ":1"
		if fail(g, "victim", addr) {
			checked++
		}
	}
	if want := DefaultLoginFreeFailures * accountFreeFactor; checked != want {
		t.Fatalf("%d attempts from 100 addresses were checked; want %d", checked, want)
	}
}

// IPv6 addresses count by /64: one host has a whole /64 to pick from.
func TestGuardCountsIPv6By64(t *testing.T) {
	g, _ := newTestGuard(Config{})
	for i := range DefaultLoginFreeFailures {
		addr := "[2001:db8:1:2::" + string(rune('a'+i)) + "]:443"
		if !fail(g, "victim", addr) {
			t.Fatalf("free failure %d refused", i+1)
		}
	}
	if fail(g, "victim", "[2001:db8:1:2::ffff]:443") {
		t.Fatal("another address of the same /64 was not backed off")
	}
	if !fail(g, "victim", "[2001:db8:1:3::1]:443") {
		t.Fatal("another /64 was backed off")
	}
	if h, k := addrKey("[::ffff:192.0.2.1]:80"); h != "::ffff:192.0.2.1" || k != "192.0.2.1" {
		t.Fatalf("a mapped IPv4 address keys as %q (%q)", k, h)
	}
}
