// Package presence is the presence domain (REALTIME.md §3, §16.2, §16.3,
// §20.6): which users of an app are available now, when each user's last
// session went away, and the rules for who may see it.
//
// The state sits behind Directory, the one interface a cluster mode will
// implement over NATS (every node counting its own sessions, transitions
// published to the others); Local is the single-process implementation.
// Service holds the rules (existence, other apps, privacy lists) over a
// Directory, so the XMPP engine and REST only translate.
package presence

import (
	"context"
	"time"
)

// Directory is the presence state of the server: counts of available
// sessions per user, the transitions between none and some, and the time
// a user's last session went away.
type Directory interface {
	// Arrive records that one more session of the user became available
	// (its initial presence was processed).
	Arrive(appID, userID int64)
	// Leave records that one of the user's available sessions went away;
	// lastActive is the time of that session's last activity (activity.go
	// in internal/c2s decides what counts).
	Leave(appID, userID int64, lastActive time.Time)
	// Status is the user's state now.
	Status(ctx context.Context, appID, userID int64) (Status, error)
	// Online returns the available users of an app in ascending id order,
	// limit of them after skipping skip (limit < 0: all), and how many
	// there are in all.
	Online(ctx context.Context, appID int64, skip, limit int) (ids []int64, total int, err error)
	// Watch registers f to be told every transition: exactly once per
	// transition, and in order for each user. f is called while the
	// directory holds the user's state, so that nothing reorders it: it
	// must not block and must not call back into the Directory.
	Watch(f func(Change))
}

// Status is a user's presence.
type Status struct {
	// Online: at least one session is available.
	Online bool
	// LastSeen is when the user's last available session went away (when
	// not Online); zero when the user never had an available session.
	LastSeen time.Time
}

// Known reports whether the user ever had an available session.
func (s Status) Known() bool { return s.Online || !s.LastSeen.IsZero() }

// Change is a transition: a user went from no available session to one
// (Online) or from one to none.
type Change struct {
	AppID, UserID int64
	Online        bool
	// At is when it happened.
	At time.Time
	// LastActive is, going offline, the time of the user's last activity
	// over the sessions that just went away (REALTIME.md §16.3 counts the
	// offline push's seconds from it).
	LastActive time.Time
}

// Seconds is the value a status-streaming push carries for the change at
// now (REALTIME.md §16.3): 0 going online, whole seconds since the user's
// last activity going offline.
func (c Change) Seconds(now time.Time) int64 {
	if c.Online {
		return 0
	}
	return wholeSeconds(now.Sub(c.LastActive))
}

func wholeSeconds(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}

// LastSeen is one user's last-seen time as the store keeps it.
type LastSeen struct {
	AppID, UserID int64
	At            time.Time
}

// Store persists last-seen times, so that a restart does not forget them.
// Implemented by internal/store/sqlite.
type Store interface {
	// SaveLastSeen writes a batch of times, each replacing the user's
	// earlier one, in one transaction.
	SaveLastSeen(ctx context.Context, batch []LastSeen) error
	// LastSeen reads one user's time; ok is false when none is kept.
	LastSeen(ctx context.Context, appID, userID int64) (at time.Time, ok bool, err error)
}
