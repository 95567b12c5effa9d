package limit

import (
	"sync"
	"time"
)

// Backoff is the shape of a failure backoff: Free attempts in a row may
// fail without delay; after the Free-th failure the key must wait Base
// before its next attempt, and twice as long after each further failure,
// up to Max. The zero Backoff refuses nothing.
type Backoff struct {
	Free int
	Base time.Duration
	Max  time.Duration
}

// Off reports whether b never makes a key wait.
func (b Backoff) Off() bool { return b.Free <= 0 || b.Base <= 0 || b.Max <= 0 }

// wait is how long a key must wait after n failures in a row.
func (b Backoff) wait(n int) time.Duration {
	if n < b.Free {
		return 0
	}
	d := b.Base
	for i := b.Free; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// forget is how long a key must have had no failure before its count
// starts again from zero: long against the longest wait, so that waiting
// out one window does not buy a fresh set of free failures.
func (b Backoff) forget() time.Duration { return 4 * b.Max }

// Failures counts failures in a row per key under a Backoff, holding at
// most maxKeys keys. It is safe for concurrent use.
type Failures[K comparable] struct {
	policy  Backoff
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[K]*failures
}

type failures struct {
	n     int       // failures in a row
	last  time.Time // the last failure
	until time.Time // no attempt before this
}

// NewFailures returns failure counts under policy, holding at most maxKeys
// keys (DefaultMaxKeys when 0); now is the clock (time.Now when nil).
func NewFailures[K comparable](policy Backoff, maxKeys int, now func() time.Time) *Failures[K] {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Failures[K]{policy: policy, maxKeys: maxKeys, now: now, keys: make(map[K]*failures)}
}

// Wait reports how long key must still wait before its next attempt (0:
// it may try now).
func (f *Failures[K]) Wait(key K) time.Duration {
	if f == nil || f.policy.Off() {
		return 0
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.keys[key]
	if r == nil || !now.Before(r.until) {
		return 0
	}
	return r.until.Sub(now)
}

// Count reports key's failures in a row (those not yet forgotten).
func (f *Failures[K]) Count(key K) int {
	if f == nil || f.policy.Off() {
		return 0
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.keys[key]
	if r == nil || now.Sub(r.last) >= f.policy.forget() {
		return 0
	}
	return r.n
}

// Fail records a failure of key and returns how long it must now wait (0
// while its failures are still free).
func (f *Failures[K]) Fail(key K) time.Duration {
	if f == nil || f.policy.Off() {
		return 0
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.keys[key]
	if r == nil {
		if len(f.keys) >= f.maxKeys {
			f.evict(now)
		}
		r = &failures{}
		f.keys[key] = r
	} else if now.Sub(r.last) >= f.policy.forget() {
		*r = failures{}
	}
	r.n++
	r.last = now
	d := f.policy.wait(r.n)
	if u := now.Add(d); u.After(r.until) {
		r.until = u
	}
	return d
}

// Reset forgets key's failures (it succeeded).
func (f *Failures[K]) Reset(key K) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, key)
}

// Len reports how many keys are held.
func (f *Failures[K]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

// evict makes room: first the keys whose failures are forgotten anyway,
// then those not waiting now, then, if every key is waiting, the half
// whose wait ends soonest (the keys under the longest backoff, the ones
// being guessed hardest, are kept). Called with mu held, only at the
// bound.
func (f *Failures[K]) evict(now time.Time) {
	for k, r := range f.keys {
		if now.Sub(r.last) >= f.policy.forget() {
			delete(f.keys, k)
		}
	}
	if len(f.keys) < f.maxKeys {
		return
	}
	for k, r := range f.keys {
		if !now.Before(r.until) {
			delete(f.keys, k)
		}
	}
	if len(f.keys) < f.maxKeys {
		return
	}
	times := make([]time.Time, 0, len(f.keys))
	for _, r := range f.keys {
		times = append(times, r.until)
	}
	cut := median(times)
	for k, r := range f.keys {
		if !r.until.After(cut) {
			delete(f.keys, k)
		}
	}
}
