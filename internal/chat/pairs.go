package chat

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Every 1-1 message needs two facts before it is routed or stored: the
// addressee is a user of the sender's app, and which private dialog (if
// any) the two share. Read from the store for each message they cost two
// read transactions, a quarter of the server's CPU under 1-1 load, yet
// they almost never change: a pair's dialog is created once and a user is
// deleted once. pairs remembers them.
//
// It stays right in this process because every change goes through the
// Service, which forgets what it changes after committing (forgetPair,
// ForgetUser). A generation number makes a lookup that raced such a change
// drop its answer instead of caching what the change replaced. What other
// processes change (a second node of a cluster, a command-line tool on
// the same data) is seen within pairTTL. Stale answers are also safe
// where they matter most: a stored message is checked again inside its
// own transaction, and a dialog that is gone sends AcceptDirect back to
// the store.
const (
	pairTTL      = 30 * time.Second
	maxPairCache = 1 << 17 // entries; the cache starts over when full
)

type pairKey struct {
	app    int64
	lo, hi int64
}

func newPairKey(app, a, b int64) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{app, a, b}
}

type pairEntry struct {
	dialogID string // "" when the pair has no dialog yet
	at       time.Time
}

type pairCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[pairKey]pairEntry
}

func newPairCache() *pairCache { return &pairCache{m: map[pairKey]pairEntry{}} }

// get returns the pair's dialog id if it is known and fresh, and the
// generation to hand back to put.
func (c *pairCache) get(k pairKey, now time.Time) (dialogID string, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok && now.Sub(e.at) > pairTTL {
		delete(c.m, k)
		ok = false
	}
	return e.dialogID, ok, c.gen
}

// put caches what was read at generation gen, unless something changed
// since.
func (c *pairCache) put(k pairKey, dialogID string, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= maxPairCache {
		clear(c.m)
	}
	c.m[k] = pairEntry{dialogID: dialogID, at: now}
}

// forget drops one pair (its dialog was created or deleted).
func (c *pairCache) forget(k pairKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, k)
}

// forgetAll drops everything (a user was deleted; rare).
func (c *pairCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// ForgetUser tells the domain a user was deleted, so that messages to it
// are refused at once rather than after pairTTL.
func (s *Service) ForgetUser(appID, userID int64) { s.pairs.forgetAll() }

// forgetPair is called after a private dialog was created or deleted.
func (s *Service) forgetPair(d *Dialog) {
	if d.Type != Private {
		return
	}
	if a, b, ok := splitPair(d.Pair); ok {
		s.pairs.forget(newPairKey(d.AppID, a, b))
	}
}

// pairDialog returns the id of the private dialog of users a (the caller)
// and b of app, "" when they have none, or NotFound("User") when b is not
// a user of app. fresh skips the cache.
func (s *Service) pairDialog(ctx context.Context, app, a, b int64, fresh bool) (string, error) {
	k := newPairKey(app, a, b)
	now := s.now()
	id, ok, gen := s.pairs.get(k, now)
	if ok && !fresh {
		return id, nil
	}
	missing, err := s.store.MissingUsers(ctx, app, []int64{b})
	if err != nil {
		return "", err
	}
	if len(missing) > 0 {
		return "", errNoUser()
	}
	d, err := s.store.PrivateDialogHead(ctx, app, PairKey(a, b))
	switch {
	case errors.Is(err, ErrNotFound):
		id = ""
	case err != nil:
		return "", err
	default:
		id = d.ID
	}
	s.pairs.put(k, id, gen, now)
	return id, nil
}
