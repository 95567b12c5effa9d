package c2s

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/presence"
)

// Presence is what the engine asks of the presence domain
// (internal/presence.Service): it reports sessions becoming available and
// going away, asks the rules of last activity and status streaming, and is
// told every online/offline transition (status.go).
type Presence interface {
	Arrive(appID, userID int64)
	Leave(appID, userID int64, lastActive time.Time)
	Watch(f func(presence.Change))
	Now() time.Time
	LastActivity(ctx context.Context, appID, asker, target int64) (int64, error)
	CanWatch(ctx context.Context, appID, watcher, target int64) error
	Shows(ctx context.Context, appID, watched, watcher int64) bool
	Current(ctx context.Context, appID, watcher, watched int64) (seconds int64, ok bool, err error)
}

// SetPresence attaches the presence domain (none by default: last activity
// and status streaming then answer service-unavailable). Call it once,
// before the engine serves.
func (e *Engine) SetPresence(p Presence) {
	e.presence = p
	p.Watch(e.statusChanged)
}

// sessionPresence is a session's part in the presence state.
//
// A session counts as available for the presence domain from its initial
// presence (the first time Session.available becomes true) until it sends
// <presence type="unavailable"/> or finishes. A session parked for stream
// management resumption (sm.go) has not finished: it stays routed and
// available, so its user stays online until a resume takes it up (nothing
// changed) or the park expires and it finishes (then it leaves, and its
// last activity is from before the connection was lost).
type sessionPresence struct {
	arrived    atomic.Bool  // Arrive was reported and Leave not yet
	lastActive atomic.Int64 // Unix nanoseconds of the last activity (activity.go)
}

// arrive reports the session available; called when its initial presence
// is processed, before its offline messages are delivered (REALTIME.md §3).
func (s *Session) arrive() {
	if s.e.presence == nil || s.pres.arrived.Swap(true) {
		return
	}
	s.pres.lastActive.CompareAndSwap(0, s.e.cfg.Now().UnixNano())
	s.e.presence.Arrive(s.appID, s.userID)
}

// depart reports the session gone (unavailable presence, or its end).
func (s *Session) depart() {
	if s.e.presence == nil || !s.pres.arrived.Swap(false) {
		return
	}
	s.e.presence.Leave(s.appID, s.userID, time.Unix(0, s.pres.lastActive.Load()))
}

// presenceEnded is the session's end for presence: its status-streaming
// subscriptions go (REALTIME.md §20.6), then the session itself.
func (s *Session) presenceEnded() {
	s.e.status.drop(s)
	s.depart()
}
