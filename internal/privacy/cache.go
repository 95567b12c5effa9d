package privacy

import (
	"sync"
	"time"
)

// Every message asks Denies about its addressee's default list, and lists
// almost never change, so compiled lists are remembered (modelled on the
// chat domain's pair cache, internal/chat/pairs.go).
//
// They stay right in this process because every change goes through the
// Service, which forgets the user's entry after writing. A generation
// number makes a load that raced such a change drop its answer instead of
// caching the list the change replaced. What other processes change (a
// second node of a cluster) is seen within listTTL.
//
// It is bounded twice: in entries (most are "no default list", a few
// bytes each) and in the items of the compiled lists it holds, about 100
// bytes each at most, so that many users with long lists cannot make it
// grow to gigabytes. Past either bound it starts over.
const (
	listTTL         = 30 * time.Second
	maxListCache    = 1 << 16 // entries
	maxCachedWeight = 1 << 21 // entries plus the items of their lists: ~200 MB at worst
)

type cacheKey struct{ app, user int64 }

type cacheEntry struct {
	c  *compiled // nil: the user has no default list
	at time.Time
}

type listCache struct {
	mu     sync.Mutex
	gen    uint64
	m      map[cacheKey]cacheEntry
	weight int // entries plus the items of their lists
}

func newListCache() *listCache { return &listCache{m: map[cacheKey]cacheEntry{}} }

// get returns the user's compiled default list if it is known and fresh,
// and the generation to hand back to put.
func (c *listCache) get(k cacheKey, now time.Time) (*compiled, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok && now.Sub(e.at) > listTTL {
		c.drop(k, e)
		ok = false
	}
	return e.c, ok, c.gen
}

// put caches what was read at generation gen, unless something changed
// since.
func (c *listCache) put(k cacheKey, v *compiled, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if old, ok := c.m[k]; ok {
		c.drop(k, old)
	}
	w := v.weight()
	if len(c.m) >= maxListCache || c.weight+w > maxCachedWeight {
		clear(c.m)
		c.weight = 0
	}
	c.m[k] = cacheEntry{c: v, at: now}
	c.weight += w
}

// drop removes an entry; c.mu is held.
func (c *listCache) drop(k cacheKey, e cacheEntry) {
	delete(c.m, k)
	c.weight -= e.c.weight()
}

// forget drops one user's entry (their lists changed).
func (c *listCache) forget(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.m[k]; ok {
		c.drop(k, e)
	}
}
