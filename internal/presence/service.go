package presence

import (
	"context"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/privacy"
)

// Users is what the rules need of the accounts: does this user exist in
// this app? The auth service implements it (apperr.KindNotFound for an
// unknown user, and for a user of another app alike).
type Users interface {
	User(ctx context.Context, appID, id int64) (*auth.User, error)
}

// Blocks is the one block question (internal/privacy): does owner's list
// refuse a stanza of kind exchanged with other?
type Blocks interface {
	Denies(ctx context.Context, appID, owner, other int64, scope privacy.Scope, kind privacy.Kind) bool
}

// Service is the presence rules over a Directory: who may see whose last
// activity, status and online state (REALTIME.md §16.2, §16.3, §18.9;
// REST.md §4.8).
type Service struct {
	dir    Directory
	users  Users
	blocks Blocks
	now    func() time.Time
}

// NewService returns the rules over dir; now is the clock (nil: time.Now).
func NewService(dir Directory, users Users, blocks Blocks, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{dir: dir, users: users, blocks: blocks, now: now}
}

// Arrive, Leave and Watch pass through to the Directory: the front ends
// hold the Service alone.
func (s *Service) Arrive(appID, userID int64) { s.dir.Arrive(appID, userID) }

// Leave passes through to the Directory.
func (s *Service) Leave(appID, userID int64, lastActive time.Time) {
	s.dir.Leave(appID, userID, lastActive)
}

// Watch passes through to the Directory (see Directory.Watch).
func (s *Service) Watch(f func(Change)) { s.dir.Watch(f) }

// Now is the service's clock, which push values are computed at.
func (s *Service) Now() time.Time { return s.now() }

// exists answers apperr.KindNotFound for an unknown user and a user of
// another app alike, so that existence is not revealed across apps.
func (s *Service) exists(ctx context.Context, appID, userID int64) error {
	if userID <= 0 {
		return apperr.NotFound("User")
	}
	_, err := s.users.User(ctx, appID, userID)
	return err
}

// LastActivity is asker's view of target's last activity (REALTIME.md
// §16.2): 0 while target is online, else whole seconds since target's last
// session went away. Errors: apperr.KindNotFound for an unknown user, a
// user of another app and a user who never connected; apperr.Blocked when
// target's privacy list refuses asker's IQs (a block hides "last seen").
func (s *Service) LastActivity(ctx context.Context, appID, asker, target int64) (int64, error) {
	if err := s.exists(ctx, appID, target); err != nil {
		return 0, err
	}
	if s.blocks.Denies(ctx, appID, target, asker, privacy.Direct, privacy.IQ) {
		return 0, apperr.Blocked()
	}
	st, err := s.dir.Status(ctx, appID, target)
	if err != nil {
		return 0, err
	}
	return s.seconds(st)
}

func (s *Service) seconds(st Status) (int64, error) {
	switch {
	case st.Online:
		return 0, nil
	case st.LastSeen.IsZero():
		return 0, apperr.NotFound("User")
	default:
		return wholeSeconds(s.now().Sub(st.LastSeen)), nil
	}
}

// CanWatch is whether watcher may subscribe to target's status
// (REALTIME.md §16.3): apperr.KindNotFound for an unknown user or a user
// of another app. A user whose list blocks watcher may be watched: the
// subscription is accepted and never pushed to (Shows), so a block does
// not reveal itself.
func (s *Service) CanWatch(ctx context.Context, appID, watcher, target int64) error {
	return s.exists(ctx, appID, target)
}

// Shows is whether watched's status may be pushed to watcher now: not
// when watched's list refuses watcher its presence. It is asked at every
// push, so a block set after the subscription stops the pushes too.
func (s *Service) Shows(ctx context.Context, appID, watched, watcher int64) bool {
	return !s.blocks.Denies(ctx, appID, watched, watcher, privacy.Direct, privacy.PresenceOut)
}

// Current is the value to push to watcher right after a subscription
// (§16.3: the current value, as §16.2 computes it); ok is false when
// nothing is pushed: the user never connected, or blocks watcher.
func (s *Service) Current(ctx context.Context, appID, watcher, watched int64) (seconds int64, ok bool, err error) {
	if !s.Shows(ctx, appID, watched, watcher) {
		return 0, false, nil
	}
	st, err := s.dir.Status(ctx, appID, watched)
	if err != nil || !st.Known() {
		return 0, false, err
	}
	seconds, err = s.seconds(st)
	return seconds, err == nil, nil
}

// Online is the page of an app's available users that caller may see
// (REST.md §4.8), in ascending id order: users whose list refuses caller
// their presence are left out. caller 0 (an application session) sees
// everyone.
func (s *Service) Online(ctx context.Context, appID, caller int64, skip, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	if caller == 0 {
		ids, _, err := s.dir.Online(ctx, appID, skip, limit)
		return ids, err
	}
	ids, err := s.visible(ctx, appID, caller)
	if err != nil {
		return nil, err
	}
	ids = ids[min(max(skip, 0), len(ids)):]
	return ids[:min(limit, len(ids))], nil
}

// OnlineCount is how many of an app's available users caller may see.
func (s *Service) OnlineCount(ctx context.Context, appID, caller int64) (int, error) {
	if caller == 0 {
		_, total, err := s.dir.Online(ctx, appID, 0, 0)
		return total, err
	}
	ids, err := s.visible(ctx, appID, caller)
	return len(ids), err
}

// visible is every available user of app that caller may see, in id
// order. Each is one Denies question, answered from the privacy domain's
// cache once it holds that user's list: a page or a count costs one
// question per available user of the app, and reads the store only for
// lists the cache does not hold.
func (s *Service) visible(ctx context.Context, appID, caller int64) ([]int64, error) {
	ids, _, err := s.dir.Online(ctx, appID, 0, -1)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, id := range ids {
		if id == caller || !s.blocks.Denies(ctx, appID, id, caller, privacy.Direct, privacy.PresenceOut) {
			out = append(out, id)
		}
	}
	return out, nil
}
