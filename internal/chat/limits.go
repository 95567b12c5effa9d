package chat

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/limit"
)

// Limits are the per-user bounds of issue 10: without them one user could
// add another to hundreds of groups in a second, without their consent.
type Limits struct {
	// MaxDialogsPerUser bounds the dialogs a user has joined: the group
	// dialogs they occupy plus the public dialogs they subscribe to. Private
	// dialogs are not counted (they come from talking to someone, and a
	// bound on them would stop a user from answering), nor broadcasts
	// (everyone is in them). 0: no bound.
	MaxDialogsPerUser int
	// CreateRate bounds how fast a user creates dialogs through the API
	// (every type, a private dialog that already exists included: the
	// request is what costs). The zero Rate is no limit.
	CreateRate limit.Rate
}

// SetLimits sets the limits; call it before the service is used.
func (s *Service) SetLimits(l Limits) {
	s.maxJoined = l.MaxDialogsPerUser
	s.creates = limit.NewKeyed[Caller](l.CreateRate, 0, s.now)
}

// allowCreate takes one dialog creation from the caller's budget.
func (s *Service) allowCreate(c Caller) error {
	if ok, wait := s.creates.Allow(c); !ok {
		return apperr.RateLimited(wait, "Too many dialogs created, try again in %d seconds", apperr.RetrySeconds(wait))
	}
	return nil
}

// checkJoined refuses to make users join one more group or public dialog
// when that would take any of them past MaxDialogsPerUser. field is the
// request field the users came from, "base" when the caller joins by
// itself.
func (s *Service) checkJoined(ctx context.Context, r Reader, appID int64, field string, users []int64) error {
	if s.maxJoined <= 0 || len(users) == 0 {
		return nil
	}
	counts, err := r.JoinedCounts(ctx, appID, users)
	if err != nil {
		return err
	}
	var over []string
	for _, u := range users {
		if counts[u] >= s.maxJoined {
			over = append(over, fmt.Sprint(u))
		}
	}
	switch {
	case len(over) == 0:
	case field == "base": // the caller joins by itself (subscribe, create)
		return apperr.Invalid(field, "You are in too many dialogs (maximum is %d)", s.maxJoined)
	default:
		return apperr.Invalid(field, "contain users who are in too many dialogs (maximum is %d): %s", s.maxJoined, strings.Join(over, ", "))
	}
	return nil
}
