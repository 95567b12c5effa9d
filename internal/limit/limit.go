// Package limit holds Parley's rate limits: a token bucket per key (a user,
// a client address, an account), built on golang.org/x/time/rate, with a
// bounded number of keys so that a flood of distinct keys cannot grow
// memory without end. The domain packages own the limits (which key, how
// fast); this package only counts.
package limit

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a sustained rate with a burst: Burst events at once, then one
// every Every. The zero Rate is "no limit".
type Rate struct {
	Every time.Duration
	Burst int
}

// PerMinute is n events a minute, n at once.
func PerMinute(n int) Rate {
	if n <= 0 {
		return Rate{}
	}
	return Rate{Every: time.Minute / time.Duration(n), Burst: n}
}

// PerSecond is n events a second, burst at once.
func PerSecond(n, burst int) Rate {
	if n <= 0 {
		return Rate{}
	}
	return Rate{Every: time.Second / time.Duration(n), Burst: burst}
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.Every <= 0 || r.Burst <= 0 }

// refill is how long an idle bucket takes to be full again: after that
// it is the same as a new one and can be forgotten.
func (r Rate) refill() time.Duration { return r.Every * time.Duration(r.Burst) }

// NewLimiter returns a single token bucket for r (nil when r is Off), for
// limits that live with one object, such as a connection's stanza rate.
func NewLimiter(r Rate) *rate.Limiter {
	if r.Off() {
		return nil
	}
	return rate.NewLimiter(rate.Every(r.Every), r.Burst)
}

// DefaultMaxKeys bounds a Keyed's memory: about 100 bytes a key.
const DefaultMaxKeys = 100_000

// Keyed is a token bucket per key. It is safe for concurrent use.
type Keyed[K comparable] struct {
	rate    Rate
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[K]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // last event allowed or refused
}

// NewKeyed returns per-key buckets of r, holding at most maxKeys keys
// (DefaultMaxKeys when 0); now is the clock (time.Now when nil).
func NewKeyed[K comparable](r Rate, maxKeys int, now func() time.Time) *Keyed[K] {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Keyed[K]{rate: r, maxKeys: maxKeys, now: now, buckets: make(map[K]*bucket)}
}

// Allow takes one event from key's bucket and reports whether there was
// one; when there was not, it also says how long until there is. A Keyed
// of an Off rate (or a nil one) allows everything.
func (k *Keyed[K]) Allow(key K) (ok bool, retryAfter time.Duration) {
	if k == nil || k.rate.Off() {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(key, now)
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, k.rate.Every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Wait reports how long until key's bucket has an event to give (0: now),
// without taking it.
func (k *Keyed[K]) Wait(key K) time.Duration {
	if k == nil || k.rate.Off() {
		return 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		return 0
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(k.rate.Every))
}

// Charge takes one event from key's bucket whether there is one or not:
// a bucket in debt makes Wait refuse until it is repaid. It is for events
// that count only once their outcome is known (a failed login), checked
// with Wait before: several that pass one check together are each charged
// after, so the rate still holds over time.
func (k *Keyed[K]) Charge(key K) {
	if k == nil || k.rate.Off() {
		return
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.bucket(key, now).lim.ReserveN(now, 1)
}

// bucket returns key's bucket, creating it (and making room) if needed,
// and marks it used at now. Called with mu held.
func (k *Keyed[K]) bucket(key K, now time.Time) *bucket {
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.maxKeys {
			k.evict(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(k.rate.Every), k.rate.Burst)}
		k.buckets[key] = b
	}
	b.last = now
	return b
}

// Len reports how many keys are held.
func (k *Keyed[K]) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// evict forgets the buckets that are full again (idle for a refill); if
// none is, it forgets the least recently used half, so that a flood of new
// keys costs the flooder's own buckets first. Called with mu held, only
// when the map is at its bound, so its cost is spread over maxKeys calls.
func (k *Keyed[K]) evict(now time.Time) {
	idle := k.rate.refill()
	for key, b := range k.buckets {
		if now.Sub(b.last) >= idle {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) < k.maxKeys {
		return
	}
	// Everyone is active: keep the most recent half.
	var cut time.Time
	times := make([]time.Time, 0, len(k.buckets))
	for _, b := range k.buckets {
		times = append(times, b.last)
	}
	cut = median(times)
	for key, b := range k.buckets {
		if !b.last.After(cut) {
			delete(k.buckets, key)
		}
	}
}

// median returns the middle time of ts (reordering it). The bound is
// reached rarely, so sorting keeps this obviously right.
func median(ts []time.Time) time.Time {
	slices.SortFunc(ts, time.Time.Compare)
	return ts[len(ts)/2]
}
