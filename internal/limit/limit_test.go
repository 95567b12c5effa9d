package limit

import (
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestKeyedBurstThenRate(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := NewKeyed[string](PerMinute(6), 0, c.now) // 6 at once, then one every 10 s
	for i := range 6 {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, retry := k.Allow("a")
	if ok {
		t.Fatal("7th event within the burst allowed")
	}
	if retry <= 0 || retry > 10*time.Second {
		t.Fatalf("retryAfter = %v; want in (0, 10s]", retry)
	}
	// Another key has its own bucket.
	if ok, _ := k.Allow("b"); !ok {
		t.Fatal("another key refused")
	}
	// A refused event takes nothing: after one interval exactly one more.
	c.add(10 * time.Second)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("event after one interval refused")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("second event after one interval allowed")
	}
}

func TestKeyedOffAllowsEverything(t *testing.T) {
	var nilKeyed *Keyed[int]
	if ok, _ := nilKeyed.Allow(1); !ok {
		t.Fatal("nil Keyed refused")
	}
	k := NewKeyed[int](Rate{}, 0, nil)
	for i := range 1000 {
		if ok, _ := k.Allow(1); !ok {
			t.Fatalf("Off rate refused event %d", i)
		}
	}
	if k.Len() != 0 {
		t.Fatalf("Off rate holds %d keys", k.Len())
	}
	if NewLimiter(Rate{}) != nil {
		t.Fatal("NewLimiter(Off) != nil")
	}
}

func TestKeyedBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	k := NewKeyed[int](PerSecond(1, 2), 100, c.now)
	// A flood of distinct keys, all active: the map never exceeds its bound.
	for i := range 10_000 {
		k.Allow(i)
		if n := k.Len(); n > 100 {
			t.Fatalf("after %d keys the map holds %d; bound 100", i+1, n)
		}
	}
	// The most recent keys are kept, with their state: key 9999 used one
	// of its two events, so it has exactly one left.
	if ok, _ := k.Allow(9999); !ok {
		t.Fatal("recent key lost its remaining event")
	}
	if ok, _ := k.Allow(9999); ok {
		t.Fatal("recent key was forgotten (a fresh bucket allowed a third event)")
	}
	// Idle buckets are full again after a refill and are dropped first.
	c.add(time.Hour)
	k.Allow(-1)
	if n := k.Len(); n > 100 {
		t.Fatalf("map holds %d after an idle hour; bound 100", n)
	}
}

func TestKeyedConcurrent(t *testing.T) {
	k := NewKeyed[int](PerSecond(1, 50), 10, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if ok, _ := k.Allow(g % 2); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	// Two keys with a burst of 50 each and (in well under a second) at
	// most a couple of refills.
	if allowed < 100 || allowed > 104 {
		t.Fatalf("allowed %d of 800 on two keys of burst 50; want 100 to 104", allowed)
	}
}
