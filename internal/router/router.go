// Package router delivers encoded stanzas to the connected sessions of a
// user. The local router serves one process; a NATS router for clusters
// will implement the same calls. It imports only internal/xmpp.
package router

import (
	"sync"

	"github.com/parley-chat/parley/internal/xmpp"
)

// Session is a connected, bound client resource as the router sees it.
type Session interface {
	// JID is the session's full JID.
	JID() xmpp.JID
	// Available reports whether initial presence was processed: only
	// available sessions get live messages (REALTIME.md §3).
	Available() bool
	// Send queues an encoded stanza without blocking; false means the
	// session is full or closed and the stanza was not queued.
	Send(frame []byte) bool
}

// Local routes within this process.
type Local struct {
	mu    sync.RWMutex
	users map[string]map[string]Session // bare JID → resource → session
}

// NewLocal returns an empty router.
func NewLocal() *Local { return &Local{users: map[string]map[string]Session{}} }

// Add registers a bound session.
func (r *Local) Add(s Session) {
	j := s.JID()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.users[j.Bare().String()]
	if m == nil {
		m = map[string]Session{}
		r.users[j.Bare().String()] = m
	}
	m[j.Resource] = s
}

// Remove unregisters a session (a no-op when it is not registered).
func (r *Local) Remove(s Session) {
	j := s.JID()
	bare := j.Bare().String()
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.users[bare]; m != nil && m[j.Resource] == s {
		delete(m, j.Resource)
		if len(m) == 0 {
			delete(r.users, bare)
		}
	}
}

// Sessions returns the available sessions of a bare JID.
func (r *Local) Sessions(bare xmpp.JID) []Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.users[bare.Bare().String()]
	out := make([]Session, 0, len(m))
	for _, s := range m {
		if s.Available() {
			out = append(out, s)
		}
	}
	return out
}

// Deliver sends frame to every available session of to's bare JID (or to
// the one resource a full JID names) and returns how many queued it.
func (r *Local) Deliver(to xmpp.JID, frame []byte) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.users[to.Bare().String()]
	n := 0
	for res, s := range m {
		if (to.Resource == "" || to.Resource == res) && s.Available() && s.Send(frame) {
			n++
		}
	}
	return n
}

// Available returns every available session whose bare JID's local part
// matches (a broadcast to a whole application). It walks all sessions:
// broadcasts are rare next to 1-1 and group deliveries, which are lookups.
func (r *Local) Available(match func(local string) bool) []Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Session
	for _, m := range r.users {
		for _, s := range m {
			if s.Available() && match(s.JID().Local) {
				out = append(out, s)
			}
		}
	}
	return out
}
