package chat

import (
	"context"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/privacy"
)

// Block lists (REALTIME.md §18.9) are the privacy domain's; what a block
// means for messages is decided here, and the front ends only apply the
// answers: they refuse with the error a Start* method returned, deliver
// to the recipients it listed (and, for a broadcast, to those Reaches
// lets through), and ask Reaches or SeesPresence before routing a stanza
// the domain does not otherwise see (headlines, notices, occupant
// presences).
//
// The rules:
//   - between two users of a private dialog (1-1 messages by user JID or
//     by the dialog's room JID, edits and deletes, REST messages), a
//     content message is refused before anything is stored or a dialog
//     created: Blocking when the sender's own list has a mutual block on
//     the addressee, else Blocked when the addressee's list refuses the
//     sender's messages. Non-content stanzas there (typing, markers,
//     bodiless messages) are dropped silently, never answered with an
//     error.
//   - in group, public and broadcast dialogs a message is stored as usual
//     and goes to every recipient but those whose list refuses the
//     sender's messages in the room scope: no live copy, no offline copy,
//     no alert, and no error to the sender. History stays whole: a block
//     filters delivery from now on, not what was said.
//
// Every check is one Denies call, which the privacy domain answers from
// memory: a 1-1 message costs at most two, a group message one per
// recipient, and none of them reads the store on the hot path.

// Blocks answers the one block question (privacy.Service implements it):
// does owner's effective list refuse a stanza of kind exchanged with
// other, seen in scope?
type Blocks interface {
	Denies(ctx context.Context, appID, owner, other int64, scope privacy.Scope, kind privacy.Kind) bool
}

// SetBlocks attaches the privacy domain. Until then nothing is blocked.
func (s *Service) SetBlocks(b Blocks) {
	if b == nil {
		b = noBlocks{}
	}
	s.blocks = b
}

type noBlocks struct{}

func (noBlocks) Denies(context.Context, int64, int64, int64, privacy.Scope, privacy.Kind) bool {
	return false
}

// directBlock is the 1-1 rule for content from sender to addressee to:
// the sender's own mutual block first (they are told they blocked the
// user: 406), then the addressee's list (503, the error the SDK's
// onMessageErrorListener reports). nil: the message may go.
func (s *Service) directBlock(ctx context.Context, app, sender, to int64) error {
	if s.blocks.Denies(ctx, app, sender, to, privacy.Direct, privacy.MessageOut) {
		return apperr.Blocking()
	}
	if s.blocks.Denies(ctx, app, to, sender, privacy.Direct, privacy.Message) {
		return apperr.Blocked()
	}
	return nil
}

// roomBlocked reports whether recipient's list refuses sender's messages
// in a room (their occupant JID): the recipient gets no copy.
func (s *Service) roomBlocked(ctx context.Context, app, recipient, sender int64) bool {
	return recipient != sender && s.blocks.Denies(ctx, app, recipient, sender, privacy.Room, privacy.Message)
}

// unblocked returns the recipients of sender's room message whose lists
// do not refuse it, in order, reusing users' array.
func (s *Service) unblocked(ctx context.Context, app, sender int64, users []int64) []int64 {
	out := users[:0]
	for _, u := range users {
		if !s.roomBlocked(ctx, app, u, sender) {
			out = append(out, u)
		}
	}
	return out
}

// roomFilter is the predicate of a broadcast's recipients (every
// available user of the app, whom the domain does not list): whether
// user may get sender's copy.
func (s *Service) roomFilter(ctx context.Context, app, sender int64) func(user int64) bool {
	ctx = context.WithoutCancel(ctx)
	return func(user int64) bool { return !s.roomBlocked(ctx, app, user, sender) }
}

// Reaches reports whether a stanza from user from may be routed to user
// to, seen in scope: neither to's list refuses from's messages nor from's
// own mutual block covers to. It decides the stanzas the domain does not
// otherwise see (system messages and call signalling, reaction and
// delete notices), which are dropped silently when it says no.
func (s *Service) Reaches(ctx context.Context, appID, from, to int64, scope privacy.Scope) bool {
	if from == to {
		return true
	}
	return !s.blocks.Denies(ctx, appID, to, from, scope, privacy.Message) &&
		!s.blocks.Denies(ctx, appID, from, to, scope, privacy.MessageOut)
}

// SeesPresence reports whether viewer may see subject's occupant
// presences in a room (REALTIME.md §18.9): not when viewer's list refuses
// subject's presences, nor when subject's list withholds their presence
// from viewer.
func (s *Service) SeesPresence(ctx context.Context, appID, viewer, subject int64) bool {
	if viewer == subject {
		return true
	}
	return !s.blocks.Denies(ctx, appID, viewer, subject, privacy.Room, privacy.PresenceIn) &&
		!s.blocks.Denies(ctx, appID, subject, viewer, privacy.Room, privacy.PresenceOut)
}
