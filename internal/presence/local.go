package presence

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// FlushEvery is how often Local writes the last-seen times that changed.
const FlushEvery = time.Second

// localShards is how many locks the users are spread over: logins and
// logouts of unrelated users do not contend, and a transition's fan-out
// (run under its user's lock, see Directory.Watch) holds up only the
// users of one shard.
const localShards = 32

type key struct{ app, user int64 }

// entry is a user with at least one available session.
type entry struct {
	sessions int
	// lastActive is the latest activity of the sessions that left so
	// far while others remained.
	lastActive time.Time
}

type shard struct {
	mu    sync.Mutex
	users map[key]*entry // available users only: memory follows who is online
	// pending is the last-seen times not written yet (write-behind):
	// Status reads them first, the flusher writes and then forgets them.
	pending map[key]time.Time
}

// Local is the Directory of a single process: session counts in memory,
// last-seen times written behind to a Store.
//
// Write policy: a transition never writes on the caller's path. The time
// is kept in memory and written in one batch every FlushEvery and at
// Close (which the server calls at shutdown, after every session ended
// and left). Besides each departure, each arrival is written too, so a
// crash (no Close) loses at most the last FlushEvery of changes, and a
// user who was online when the process died is seen last at their latest
// arrival rather than never.
type Local struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	shards   [localShards]shard
	watchMu  sync.Mutex
	watchers atomic.Pointer[[]func(Change)]

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ Directory = (*Local)(nil)

// NewLocal returns a Local over store and starts its flusher; Close stops
// it. now is the clock (nil: time.Now).
func NewLocal(store Store, log *slog.Logger, now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Local{store: store, log: log, now: now, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range l.shards {
		l.shards[i].users = map[key]*entry{}
		l.shards[i].pending = map[key]time.Time{}
	}
	go l.flushLoop()
	return l
}

func (l *Local) shard(k key) *shard {
	return &l.shards[uint64(k.user)%localShards]
}

// Watch implements Directory.
func (l *Local) Watch(f func(Change)) {
	l.watchMu.Lock()
	defer l.watchMu.Unlock()
	var fs []func(Change)
	if p := l.watchers.Load(); p != nil {
		fs = slices.Clone(*p)
	}
	fs = append(fs, f)
	l.watchers.Store(&fs)
}

// tell runs the watchers; the caller holds the user's shard lock.
func (l *Local) tell(c Change) {
	if p := l.watchers.Load(); p != nil {
		for _, f := range *p {
			f(c)
		}
	}
}

// Arrive implements Directory.
func (l *Local) Arrive(appID, userID int64) {
	k := key{appID, userID}
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.users[k]
	if e == nil {
		e = &entry{}
		sh.users[k] = e
	}
	e.sessions++
	if e.sessions == 1 {
		now := l.now()
		sh.pending[k] = now
		l.tell(Change{AppID: appID, UserID: userID, Online: true, At: now})
	}
}

// Leave implements Directory.
func (l *Local) Leave(appID, userID int64, lastActive time.Time) {
	k := key{appID, userID}
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.users[k]
	if e == nil {
		l.log.Error("presence: leave without arrive", "app", appID, "user", userID)
		return
	}
	if lastActive.After(e.lastActive) {
		e.lastActive = lastActive
	}
	if e.sessions--; e.sessions > 0 {
		return
	}
	delete(sh.users, k)
	now := l.now()
	sh.pending[k] = now
	l.tell(Change{AppID: appID, UserID: userID, At: now, LastActive: e.lastActive})
}

// Status implements Directory.
func (l *Local) Status(ctx context.Context, appID, userID int64) (Status, error) {
	k := key{appID, userID}
	sh := l.shard(k)
	sh.mu.Lock()
	_, online := sh.users[k]
	at, pending := sh.pending[k]
	sh.mu.Unlock()
	if online {
		return Status{Online: true}, nil
	}
	if pending {
		return Status{LastSeen: at}, nil
	}
	at, ok, err := l.store.LastSeen(ctx, appID, userID)
	if err != nil || !ok {
		return Status{}, err
	}
	return Status{LastSeen: at}, nil
}

// Online implements Directory. It visits every available user, which is
// what one process holds in memory anyway.
func (l *Local) Online(ctx context.Context, appID int64, skip, limit int) ([]int64, int, error) {
	var ids []int64
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k := range sh.users {
			if k.app == appID {
				ids = append(ids, k.user)
			}
		}
		sh.mu.Unlock()
	}
	slices.Sort(ids)
	total := len(ids)
	skip = min(max(skip, 0), total)
	ids = ids[skip:]
	if limit >= 0 && limit < len(ids) {
		ids = ids[:limit]
	}
	return ids, total, nil
}

// Available is how many users are available (all apps): what stays at
// zero once every session has gone.
func (l *Local) Available() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.users)
		sh.mu.Unlock()
	}
	return n
}

func (l *Local) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.Flush(context.Background()); err != nil {
				l.log.Warn("presence: write last-seen times; retrying", "err", err)
			}
		}
	}
}

// flushTimeout bounds one batch write.
const flushTimeout = 10 * time.Second

// Flush writes the pending last-seen times now. What fails stays pending
// for the next flush.
func (l *Local) Flush(ctx context.Context) error {
	var batch []LastSeen
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, at := range sh.pending {
			batch = append(batch, LastSeen{AppID: k.app, UserID: k.user, At: at})
		}
		sh.mu.Unlock()
	}
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := l.store.SaveLastSeen(ctx, batch); err != nil {
		return err
	}
	// Forget what was written, unless it changed meanwhile.
	for _, s := range batch {
		k := key{s.AppID, s.UserID}
		sh := l.shard(k)
		sh.mu.Lock()
		if at, ok := sh.pending[k]; ok && at.Equal(s.At) {
			delete(sh.pending, k)
		}
		sh.mu.Unlock()
	}
	return nil
}

// Close stops the flusher and writes what is pending; call it once every
// session has left (the server does, at shutdown).
func (l *Local) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		err = l.Flush(context.Background())
	})
	return err
}
