package limit

import (
	"testing"
	"time"
)

func TestFailuresFreeThenDoubling(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	f := NewFailures[string](Backoff{Free: 3, Base: time.Second, Max: 5 * time.Second}, 0, c.now)
	for i := range 2 {
		if d := f.Fail("a"); d != 0 {
			t.Fatalf("free failure %d made the key wait %v", i+1, d)
		}
	}
	// The 3rd failure is the last free one: the next attempt waits 1 s,
	// then 2 s, 4 s, and 5 s (the cap) for each failure after.
	for _, want := range []time.Duration{1, 2, 4, 5, 5} {
		if d := f.Fail("a"); d != want*time.Second {
			t.Fatalf("wait after a failure = %v; want %v", d, want*time.Second)
		}
		if w := f.Wait("a"); w != want*time.Second {
			t.Fatalf("Wait = %v; want %v", w, want*time.Second)
		}
		c.add(want * time.Second)
		if w := f.Wait("a"); w != 0 {
			t.Fatalf("Wait after the window = %v; want 0", w)
		}
	}
	if w := f.Wait("b"); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	f.Reset("a")
	if d := f.Fail("a"); d != 0 {
		t.Fatalf("after Reset a failure made the key wait %v", d)
	}
}

func TestFailuresForgottenAfterQuiet(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	p := Backoff{Free: 2, Base: time.Second, Max: time.Minute}
	f := NewFailures[string](p, 0, c.now)
	f.Fail("a")
	f.Fail("a")
	// Waiting out the window is not enough to start again...
	c.add(time.Minute)
	if d := f.Fail("a"); d != 2*time.Second {
		t.Fatalf("failure after the window: wait %v; want 2s", d)
	}
	// ...but a long quiet is.
	c.add(p.forget())
	if d := f.Fail("a"); d != 0 {
		t.Fatalf("failure after a long quiet: wait %v; want 0", d)
	}
}

func TestFailuresBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	f := NewFailures[int](Backoff{Free: 1, Base: time.Second, Max: time.Hour}, 100, c.now)
	for i := range 1000 {
		f.Fail(i)
		c.add(time.Millisecond)
	}
	if n := f.Len(); n > 100 {
		t.Fatalf("%d keys held; want at most 100", n)
	}
	// The newest keys, waiting longest, are kept.
	if f.Wait(999) == 0 {
		t.Fatal("the newest key was evicted")
	}
}

func TestFailuresOffRefusesNothing(t *testing.T) {
	f := NewFailures[string](Backoff{}, 0, nil)
	for range 100 {
		if d := f.Fail("a"); d != 0 {
			t.Fatalf("an Off backoff made a key wait %v", d)
		}
	}
	if f.Len() != 0 {
		t.Fatal("an Off backoff holds keys")
	}
}

func TestKeyedWaitAndCharge(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := NewKeyed[string](PerMinute(2), 0, c.now) // 2 at once, then one every 30 s
	if w := k.Wait("a"); w != 0 {
		t.Fatalf("Wait of a new key = %v", w)
	}
	// Three checked together all pass, and all are charged after: the
	// bucket is one in debt, so the next event waits two intervals.
	for range 3 {
		k.Charge("a")
	}
	if w := k.Wait("a"); w != 60*time.Second {
		t.Fatalf("Wait in debt = %v; want 60s", w)
	}
	c.add(30 * time.Second)
	if w := k.Wait("a"); w != 30*time.Second {
		t.Fatalf("Wait after one interval = %v; want 30s", w)
	}
	c.add(30 * time.Second)
	if w := k.Wait("a"); w != 0 {
		t.Fatalf("Wait after the debt is repaid = %v; want 0", w)
	}
	if w := k.Wait("b"); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
}
