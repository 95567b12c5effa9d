package chat

import (
	"context"
	"slices"

	"github.com/parley-chat/parley/internal/apperr"
)

// Real-time edits (REALTIME.md §10) and deletes (§11) change stored
// messages, so who may make them and what they change are the same rules
// as the REST update and forced delete (UpdateMessages, DeleteMessages):
// only the author edits (canEditMessage), the author or the dialog's
// owner and admins delete (canDeleteMessage). Over XMPP the stanza names
// one message; one that is not stored, or not in the dialog the stanza
// names, is refused rather than routed: the server could not tell who
// wrote it, and routing it is what let anyone make another user's message
// change or vanish on a peer's screen.
//
// A change is applied in the group commit (post.go), behind the messages
// its session sent before it, so a client that sends a message and at
// once edits or deletes it finds the message stored.

// Change is what the domain decided about a real-time edit or delete:
// the message it applied to and who is told.
type Change struct {
	Dialog  *Dialog
	Message *Message // as it was before the change
	// Recipients are the dialog's members (the author too, whose other
	// resources are told); Everyone: every available user of the app (a
	// broadcast dialog, as for its messages).
	// Members whose block list refuses the author of the change are left
	// out, and a broadcast's Reaches filters everyone (blocks.go).
	Recipients []int64
	Everyone   bool
	// KeepOffline: a recipient with no available resource gets the notice
	// later, in order with the messages kept for them (private dialogs,
	// whose messages are kept too; group members read the history, which
	// the change already updated, REALTIME.md §20.5).
	KeepOffline bool
	reaches     func(user int64) bool // a broadcast's block filter; nil: everyone
}

// Reaches reports whether user may be told of a broadcast's change
// (Everyone), as Accepted.Reaches.
func (c *Change) Reaches(user int64) bool { return c.reaches == nil || c.reaches(user) }

// changeReq is an edit (body set) or delete queued for the committer.
type changeReq struct {
	c         Caller
	dialogID  string  // the dialog the stanza names; "" for any
	peer      int64   // a 1-1 stanza's addressee, who must share the private dialog; 0 for a room
	messageID string  // the message to change
	body      *string // the new body; nil: delete
	out       *Change
	err       error // the rule that refused it
}

// PendingChange is an edit or delete the committer may still be applying.
type PendingChange struct {
	req *changeReq
	r   *postReq
	err error
}

// Queued reports whether Wait waits for a group commit (false: refused
// at once).
func (p *PendingChange) Queued() bool { return p.r != nil }

// Wait returns the change once it is durably applied, or why it was
// refused (nothing changed then).
func (p *PendingChange) Wait() (*Change, error) {
	if p.err != nil {
		return nil, p.err
	}
	<-p.r.done
	if p.r.err != nil {
		return nil, p.r.err
	}
	return p.req.out, p.req.err
}

// StartEdit queues the caller's new body for a stored message of theirs.
// dialogID is the dialog the stanza names (a room JID's, or the
// extraParams dialog_id of a 1-1 stanza; "" when it names none); peer is
// a 1-1 stanza's addressee (0 for a room), who must be the caller's
// partner in the message's private dialog.
func (s *Service) StartEdit(ctx context.Context, c Caller, dialogID string, peer int64, messageID, body string) *PendingChange {
	in := MessageInput{Body: body}
	if err := checkMessage(&in); err != nil {
		return &PendingChange{err: err}
	}
	return s.startChange(ctx, &changeReq{c: c, dialogID: dialogID, peer: peer, messageID: messageID, body: &body})
}

// StartRemove queues the caller's delete for everyone of a stored
// message (REALTIME.md §11.2, the REST forced delete's rule and effects).
func (s *Service) StartRemove(ctx context.Context, c Caller, dialogID string, peer int64, messageID string) *PendingChange {
	return s.startChange(ctx, &changeReq{c: c, dialogID: dialogID, peer: peer, messageID: messageID})
}

func (s *Service) startChange(ctx context.Context, ch *changeReq) *PendingChange {
	if err := checkID(ch.messageID); err != nil {
		return &PendingChange{err: err}
	}
	if ch.dialogID != "" {
		if err := checkID(ch.dialogID); err != nil {
			return &PendingChange{err: err}
		}
	}
	r, err := s.commit.queue(ctx, &postReq{chg: ch, done: make(chan struct{})})
	if err != nil {
		return &PendingChange{err: err}
	}
	return &PendingChange{req: ch, r: r}
}

// applyChange runs one change inside a group commit's transaction. A rule
// refusal is recorded in ch.err and writes nothing; only a store failure
// is returned (and fails the batch).
func (s *Service) applyChange(ctx context.Context, tx Tx, ch *changeReq) error {
	msgs, err := tx.MessagesByID(ctx, ch.c.AppID, []string{ch.messageID})
	if err != nil {
		return err
	}
	if len(msgs) == 0 || ch.dialogID != "" && msgs[0].DialogID != ch.dialogID {
		ch.err = apperr.NotFound("Message")
		return nil
	}
	msg := msgs[0]
	d, m, err := load(ctx, tx, ch.c, msg.DialogID)
	if apperr.KindOf(err) == apperr.KindNotFound {
		ch.err = apperr.NotFound("Message")
		return nil
	}
	if err != nil {
		return err
	}
	ro := role{d: d, m: m, user: ch.c.UserID}
	if !ro.visible() {
		ch.err = apperr.NotFound("Message")
		return nil
	}
	if ch.peer != 0 && (d.Type != Private || !slices.Contains(d.Occupants, ch.peer)) {
		// A 1-1 stanza is about the pair's own dialog; one sent to
		// someone else would tell them of a message they never had.
		ch.err = errForbidden()
		return nil
	}
	if d.Type == Private {
		// An edit or delete is content between the pair (REALTIME.md
		// §18.9): refused across a block, before anything changes.
		if other := otherOfPair(d.Pair, ch.c.UserID); other != 0 {
			if err := s.directBlock(ctx, ch.c.AppID, ch.c.UserID, other); err != nil {
				ch.err = err
				return nil
			}
		}
	}
	if ch.body != nil {
		if !ro.canEditMessage(msg.SenderID) {
			ch.err = errForbidden()
			return nil
		}
		if err := s.editBody(ctx, tx, d, msg, *ch.body); err != nil {
			return err
		}
	} else {
		rep := &DeleteReport{}
		if _, err := s.deleteMessages(ctx, tx, ch.c, []string{msg.ID}, true, rep); err != nil {
			return err
		}
		if len(rep.Deleted) == 0 {
			ch.err = errForbidden()
			return nil
		}
	}
	out := &Change{Dialog: d, Message: msg, KeepOffline: d.Type == Private}
	switch d.Type {
	case Group, Private:
		out.Recipients, err = tx.Members(ctx, d.ID, 0, MaxOccupants)
	case Public:
		out.Recipients, err = tx.Members(ctx, d.ID, 0, MaxOccupants*100)
	case Broadcast:
		out.Everyone = true
		out.Recipients = append([]int64{d.OwnerID}, d.Admins...)
		out.reaches = s.roomFilter(ctx, ch.c.AppID, ch.c.UserID)
	}
	if err != nil {
		return err
	}
	if d.Type != Private {
		out.Recipients = s.unblocked(ctx, ch.c.AppID, ch.c.UserID, out.Recipients)
	}
	ch.out = out
	return nil
}

// DialogRecipients is who is told of a change REST made to a dialog's
// messages (REALTIME.md §11.3): its members, or for a broadcast dialog
// every available user of the app (everyone).
func (s *Service) DialogRecipients(ctx context.Context, d *Dialog) (users []int64, everyone bool, err error) {
	switch d.Type {
	case Broadcast:
		return append([]int64{d.OwnerID}, d.Admins...), true, nil
	case Public:
		users, err = s.store.Members(ctx, d.ID, 0, MaxOccupants*100)
	default:
		users, err = s.store.Members(ctx, d.ID, 0, MaxOccupants)
	}
	return users, false, err
}
