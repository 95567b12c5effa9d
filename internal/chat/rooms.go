package chat

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/internal/apperr"
)

// Room is what a dialog's room (REALTIME.md §15) needs to know about a
// user who may join it.
type Room struct {
	// Dialog is the dialog's head: no occupants, admins, pins or
	// extensions.
	Dialog *Dialog
	// Member: the user is an occupant or a subscriber (else a reader of a
	// public or broadcast dialog).
	Member bool
}

// errNotMember refuses a join to a room the caller may not join
// (REALTIME.md §15.3's text: the SDK shows it).
func errNotMember() error { return apperr.Forbidden("You are not a member of this dialog") }

// CanJoin decides whether the caller may join the dialog's room, or list
// who is in it (the rule is role.canJoin): an unknown dialog, or one of
// another app, is not found; a dialog the caller may not join is
// forbidden. It reads the dialog's head and the caller's member row once,
// like the group message path, never the whole dialog: joins come in
// bursts when a client reconnects.
func (s *Service) CanJoin(ctx context.Context, c Caller, dialogID string) (*Room, error) {
	if !ValidID(dialogID) {
		return nil, errNoDialog()
	}
	d, m, err := s.store.DialogHead(ctx, c.AppID, dialogID, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoDialog()
	}
	if err != nil {
		return nil, err
	}
	ro := role{d: d, m: m, user: c.UserID}
	if !ro.canJoin() {
		return nil, errNotMember()
	}
	return &Room{Dialog: d, Member: m != nil && m.IsMember}, nil
}
