package privacy

import (
	"testing"
	"time"
)

// The cache's bounds: entries and the items of their lists; a load that
// raced a write is not cached.
func TestListCacheBounds(t *testing.T) {
	c := newListCache()
	now := time.Unix(0, 0)
	big := &compiled{items: maxCachedWeight / 2}
	_, _, gen := c.get(cacheKey{1, 1}, now)
	c.put(cacheKey{1, 1}, big, gen, now)
	c.put(cacheKey{1, 2}, nil, gen, now)
	if c.weight != maxCachedWeight/2+2 || len(c.m) != 2 {
		t.Fatalf("weight %d, %d entries", c.weight, len(c.m))
	}
	c.put(cacheKey{1, 3}, big, gen, now) // over the bound: starts over
	if c.weight != maxCachedWeight/2+1 || len(c.m) != 1 {
		t.Fatalf("after the bound: weight %d, %d entries", c.weight, len(c.m))
	}
	c.put(cacheKey{1, 3}, nil, gen, now) // replacing an entry replaces its weight
	if c.weight != 1 {
		t.Fatalf("after a replacement: weight %d", c.weight)
	}
	c.forget(cacheKey{1, 3})
	if c.weight != 0 || len(c.m) != 0 {
		t.Fatalf("after forget: weight %d, %d entries", c.weight, len(c.m))
	}
	// gen is stale now: a load that started before the forget is dropped.
	c.put(cacheKey{1, 3}, big, gen, now)
	if len(c.m) != 0 {
		t.Fatal("a load that raced a write was cached")
	}
	_, _, gen = c.get(cacheKey{1, 3}, now)
	c.put(cacheKey{1, 3}, nil, gen, now)
	if _, ok, _ := c.get(cacheKey{1, 3}, now.Add(listTTL)); !ok {
		t.Fatal("expired at exactly the TTL")
	}
	if _, ok, _ := c.get(cacheKey{1, 3}, now.Add(listTTL+time.Nanosecond)); ok || c.weight != 0 {
		t.Fatalf("not expired after the TTL (weight %d)", c.weight)
	}
}
