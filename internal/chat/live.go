package chat

import (
	"context"
	"errors"
	"slices"

	"github.com/parley-chat/parley/internal/apperr"
)

// Accepted is what the domain decided about a message received on a
// real-time stream: where it belongs, whether it was stored, and who gets
// it. The front end delivers; the rules are here.
type Accepted struct {
	Dialog   *Dialog  // nil for a 1-1 message with no dialog yet (not saved)
	Message  *Message // the stored entry; nil when not stored
	ID       string   // the id to deliver under (the stored id when stored)
	DateSent int64
	// Recipients are the users whose available resources get a copy;
	// those whose block list refuses the sender are left out (blocks.go).
	Recipients []int64
	// Everyone: every available user of the application gets a copy (a
	// broadcast dialog, REALTIME.md §7.4) that Reaches lets through;
	// Recipients are its posters.
	Everyone bool
	// KeepOffline: a recipient with no available resource gets the message
	// later (private dialogs and dialog-less 1-1 messages; group members
	// read the history, REALTIME.md §20.5).
	KeepOffline bool
	// Alert: a recipient with no available resource gets a chat alert
	// (group and private dialogs, dialog-less 1-1; not public or broadcast,
	// REALTIME.md §20.4), unless silent or muted.
	Alert bool
	// reaches is a broadcast's block filter (nil: everyone).
	reaches func(user int64) bool
}

// Reaches reports whether user may get a copy of a broadcast (Everyone):
// not when their block list refuses the sender (REALTIME.md §18.9). The
// front end asks it for each available user, whom the domain does not
// list.
func (a *Accepted) Reaches(user int64) bool { return a.reaches == nil || a.reaches(user) }

// isContent reports whether a message is a history entry candidate: a
// body or an attachment (REALTIME.md §20.1).
func isContent(in MessageInput) bool { return in.Body != "" || len(in.Attachments) > 0 }

// Pending is a message the domain accepted whose store transaction may
// still be running. A front end can start the next message of the same
// sender before this one commits (their commits keep their order) and
// deliver each when Wait returns.
type Pending struct {
	a   *Accepted
	req *postReq // nil: nothing is being stored
	err error
	// redo accepts the message again, past the pair cache, when the dialog
	// the cache named turned out to be gone (StartDirect).
	redo func() (*Accepted, error)
}

func refused(err error) *Pending { return &Pending{err: err} }

// Stored reports whether Wait waits for a store commit.
func (p *Pending) Stored() bool { return p.req != nil }

// Wait returns the accepted message once it is durably stored (at once
// when nothing is stored), or why it was refused.
func (p *Pending) Wait() (*Accepted, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.req == nil {
		return p.a, nil
	}
	<-p.req.done
	switch err := p.req.err; {
	case errors.Is(err, ErrDuplicate):
		// A retransmission: delivered again as the stored message.
	case err != nil && p.redo != nil && apperr.KindOf(err) == apperr.KindNotFound:
		return p.redo()
	case err != nil:
		return nil, err
	}
	// Delivered under the stored id, which is not the client's when that
	// clashed with another message (REALTIME.md §6.2 step 3).
	m := p.req.msg
	p.a.Message, p.a.ID, p.a.DateSent = m, m.ID, m.DateSent
	return p.a, nil
}

// AcceptDirect is StartDirect, waited for.
func (s *Service) AcceptDirect(ctx context.Context, c Caller, to int64, dialogID string, save bool, in MessageInput) (*Accepted, error) {
	return s.StartDirect(ctx, c, to, dialogID, save, in).Wait()
}

// StartDirect takes a `chat` message from the caller to user `to`
// (REALTIME.md §6.3): the addressee must be a user of the same app;
// dialogID, when given, must be their private dialog; a saved message with
// no dialog finds or creates it. A saved content message is stored with
// the dialog's bookkeeping before Wait returns, so before anything is
// delivered.
//
// Who the addressee is and which dialog the pair shares come from the
// pair cache (pairs.go); the store is asked again when the cache's answer
// does not fit (a dialogID it does not know, a dialog that is gone).
//
// A block between the two (REALTIME.md §18.9) refuses a content message
// (apperr.Blocking for the sender's own mutual block, apperr.Blocked for
// the addressee's list) before anything is stored or a dialog created;
// any other message is accepted with no recipient, i.e. dropped silently.
func (s *Service) StartDirect(ctx context.Context, c Caller, to int64, dialogID string, save bool, in MessageInput) *Pending {
	if to > 0 && to != c.UserID {
		if err := s.directBlock(ctx, c.AppID, c.UserID, to); err != nil {
			if isContent(in) {
				return refused(err)
			}
			return &Pending{a: &Accepted{ID: in.ID, DateSent: in.DateSent}}
		}
	}
	return s.startDirect(ctx, c, to, dialogID, save, in, false)
}

func (s *Service) startDirect(ctx context.Context, c Caller, to int64, dialogID string, save bool, in MessageInput, fresh bool) *Pending {
	if to <= 0 || to == c.UserID {
		return refused(errNoUser())
	}
	if dialogID != "" && !ValidID(dialogID) {
		return refused(errForbidden())
	}
	pairID, err := s.pairDialog(ctx, c.AppID, c.UserID, to, fresh)
	if err != nil {
		return refused(err)
	}
	if dialogID != "" && dialogID != pairID {
		if !fresh {
			return s.startDirect(ctx, c, to, dialogID, save, in, true)
		}
		return refused(errForbidden())
	}
	if pairID == "" && save {
		// Only the first saved message of a pair takes the write lock to
		// create their dialog (or finds the one created meanwhile).
		v, _, err := s.createDialog(ctx, c, DialogInput{Type: Private, Occupants: []int64{to}})
		if err != nil {
			return refused(err)
		}
		pairID = v.Dialog.ID
	}
	var d *Dialog
	if pairID != "" {
		d = &Dialog{ID: pairID, AppID: c.AppID, Type: Private, Pair: PairKey(c.UserID, to)}
	}
	p := s.start(ctx, c, d, save, in, []int64{to})
	if p.req != nil && !fresh {
		p.redo = func() (*Accepted, error) {
			s.forgetPair(d)
			return s.startDirect(ctx, c, to, dialogID, save, in, true).Wait()
		}
	}
	return p
}

// DirectTyping decides a 1-1 typing notice (REALTIME.md §9) from the
// caller to user to, which is routed, never stored. The SDK sends it
// without a dialog id; one that carries a dialog id must name the pair's
// own private dialog, or the notice is dropped: the addressee's SDK
// reports the id it finds, so a foreign one would show the caller typing
// in a dialog (a group, say) they may not even be in. Stripping the id
// instead would show typing in the private dialog, which is not what the
// sender said either; no SDK sends such a notice, so dropping costs no
// real client anything.
//
// Without a dialog id nothing is read (the hot case). With one, the pair's
// dialog comes from the pair cache, as for a 1-1 message; an id the cache
// does not match is checked once against the store (a dialog another
// process created is not cached yet). A block either way drops it.
func (s *Service) DirectTyping(ctx context.Context, c Caller, to int64, dialogID string) bool {
	if to > 0 && to != c.UserID && s.directBlock(ctx, c.AppID, c.UserID, to) != nil {
		return false
	}
	if dialogID == "" {
		return true
	}
	if !ValidID(dialogID) || to <= 0 || to == c.UserID {
		return false
	}
	for _, fresh := range []bool{false, true} {
		pairID, err := s.pairDialog(ctx, c.AppID, c.UserID, to, fresh)
		if err != nil {
			return false
		}
		if pairID == dialogID {
			return true
		}
	}
	return false
}

// AcceptDialog is StartDialog, waited for.
func (s *Service) AcceptDialog(ctx context.Context, c Caller, dialogID string, save bool, in MessageInput) (*Accepted, error) {
	return s.StartDialog(ctx, c, dialogID, save, in).Wait()
}

// StartDialog takes a message to a dialog's room (REALTIME.md §7): the
// dialog must exist in the caller's app (else not found) and the caller
// may post (else forbidden). Every member gets a copy, the sender too,
// but those whose block list refuses the sender (blocks.go). In a private
// dialog the 1-1 rule applies instead: a content message across a block
// is refused (as by StartDirect), anything else is not sent to the other
// participant.
func (s *Service) StartDialog(ctx context.Context, c Caller, dialogID string, save bool, in MessageInput) *Pending {
	if !ValidID(dialogID) {
		return refused(errNoDialog())
	}
	// The head and the caller's member row (one read) decide for group and
	// private dialogs, whose recipients are their occupants (a second
	// read); public and broadcast dialogs need their admins too, so the
	// whole dialog.
	d, m, err := s.store.DialogHead(ctx, c.AppID, dialogID, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return refused(errNoDialog())
	}
	if err != nil {
		return refused(err)
	}
	if d.Type == Public || d.Type == Broadcast {
		if d, m, err = load(ctx, s.store, c, dialogID); err != nil {
			return refused(err)
		}
	}
	ro := role{d: d, m: m, user: c.UserID}
	if !ro.canPost() {
		if !ro.visible() {
			return refused(errNoDialog())
		}
		return refused(errForbidden())
	}
	var blockedPeer int64 // a private dialog's other participant, across a block
	if d.Type == Private {
		if other := otherOfPair(d.Pair, c.UserID); other != 0 {
			if err := s.directBlock(ctx, c.AppID, c.UserID, other); err != nil {
				if isContent(in) {
					return refused(err)
				}
				blockedPeer = other
			}
		}
	}
	var recipients []int64
	switch d.Type {
	case Group, Private:
		if recipients, err = s.store.Members(ctx, d.ID, 0, MaxOccupants); err != nil {
			return refused(err)
		}
	case Public:
		if recipients, err = s.store.Members(ctx, d.ID, 0, MaxOccupants*100); err != nil {
			return refused(err)
		}
	case Broadcast:
		recipients = append([]int64{d.OwnerID}, d.Admins...)
	}
	if d.Type == Private {
		if blockedPeer != 0 {
			recipients = slices.DeleteFunc(recipients, func(u int64) bool { return u == blockedPeer })
		}
	} else {
		recipients = s.unblocked(ctx, c.AppID, c.UserID, recipients)
	}
	p := s.start(ctx, c, d, save, in, recipients)
	if p.a != nil && d.Type == Broadcast {
		p.a.Everyone = true
		p.a.reaches = s.roomFilter(ctx, c.AppID, c.UserID)
	}
	return p
}

// start stores the message when it should be (saved, content, in a
// dialog) and says what to deliver. A retransmission (the id of a message
// stored from the same sender in the same dialog) is delivered again but
// not stored twice; an id another message holds is replaced (REALTIME.md
// §6.2, see insertMessages).
func (s *Service) start(ctx context.Context, c Caller, d *Dialog, save bool, in MessageInput, recipients []int64) *Pending {
	if err := checkMessage(&in); err != nil {
		return refused(err)
	}
	a := &Accepted{Dialog: d, ID: in.ID, DateSent: in.DateSent, Recipients: recipients,
		KeepOffline: d == nil || d.Type == Private,
		Alert:       d == nil || d.Type == Private || d.Type == Group}
	if a.DateSent <= 0 {
		a.DateSent = s.now().Unix()
	}
	alerts := s.alertees(c, a, in, recipients)
	if !save || d == nil || !isContent(in) {
		s.queueAlerts(ctx, c, a, in, alerts)
		return &Pending{a: a}
	}
	in.DialogID, in.DateSent = d.ID, a.DateSent
	r, err := s.commit.start(ctx, Post{Caller: c, In: in, alerts: alerts})
	if err != nil {
		return refused(err)
	}
	return &Pending{a: a, req: r}
}

// Receipt is StartReceipt, waited for.
func (s *Service) Receipt(ctx context.Context, c Caller, dialogID, messageID string, read bool) error {
	return s.StartReceipt(ctx, c, dialogID, messageID, read)()
}

// StartReceipt queues a delivered (read false) or displayed (read true)
// receipt from the caller for recording with the next group commit, and
// returns the wait for it. It is recorded for a stored message of a dialog
// the caller is a member of; anything else is ignored, as markers are
// dropped silently (REALTIME.md §8.2).
func (s *Service) StartReceipt(ctx context.Context, c Caller, dialogID, messageID string, read bool) (wait func() error) {
	marked := s.startMark(ctx, &markReq{c: c, dialogID: dialogID, messageID: messageID, read: read})
	return func() error {
		_, err := marked()
		return err
	}
}

// StartMarker takes a chat marker (REALTIME.md §8) from the caller,
// addressed to user to, about a message of a dialog: it queues the
// receipt for the next group commit, and the wait it returns says, once
// that commit is done, whether to route the marker. A marker is routed
// when the caller is a member of dialogID and, for a stored message, the
// message is in that dialog, was sent by to and not by the caller (the
// receipt is then recorded too, unless it already was). Anything else is
// dropped silently: not routed, not recorded.
//
// The verdict costs no read of its own for a stored message: it comes
// from the batch's ReceiptTargets, which recording reads anyway. A marker
// of a message that was never stored (sent without save_to_history) has
// none, and is checked on the dialog's member rows, read for all such
// markers of the batch at once.
//
// A marker across a block (the addressee's list refuses the caller's
// messages, or the caller mutually blocked the addressee) is dropped
// entirely: not routed and not recorded, since recording it would show
// the message read to its sender in REST (the message's read_ids).
func (s *Service) StartMarker(ctx context.Context, c Caller, to int64, dialogID, messageID string, read bool) (wait func() (route bool, err error)) {
	if to <= 0 || to == c.UserID || s.directBlock(ctx, c.AppID, c.UserID, to) != nil {
		return func() (bool, error) { return false, nil }
	}
	return s.startMark(ctx, &markReq{c: c, to: to, dialogID: dialogID, messageID: messageID, read: read})
}

func (s *Service) startMark(ctx context.Context, m *markReq) func() (bool, error) {
	if !ValidID(m.dialogID) || !ValidID(m.messageID) {
		return func() (bool, error) { return false, nil }
	}
	r, err := s.commit.queue(ctx, &postReq{mark: m, done: make(chan struct{})})
	if err != nil {
		return func() (bool, error) { return false, err }
	}
	return func() (bool, error) {
		<-r.done
		return r.err == nil && m.route, r.err
	}
}

// recordMarks records a group commit's receipts inside its transaction:
// what they need is read for all of them at once (ReceiptTargets), then
// each changed receipt is written, and the unread counters they lower
// are changed once per member. A receipt counts for a stored message of
// its dialog, sent by someone else (the marker's addressee, when it has
// one) to a member; anything else is ignored, as markers are dropped
// silently (REALTIME.md §8.2). Receipts apply in order: a later one sees
// what an earlier one of the batch did. Each mark's route says whether
// it passed.
func (s *Service) recordMarks(ctx context.Context, tx Tx, marks []*markReq) error {
	keys := make([]ReceiptKey, len(marks))
	for i, m := range marks {
		keys[i] = ReceiptKey{MessageID: m.messageID, UserID: m.c.UserID}
	}
	targets, err := tx.ReceiptTargets(ctx, keys)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	var drops map[MemberKey]int
	var unstored []*markReq
	for i, m := range marks {
		t, ok := targets[keys[i]]
		if !ok {
			if m.to != 0 {
				unstored = append(unstored, m)
			}
			continue
		}
		if t.DialogID != m.dialogID || t.AppID != m.c.AppID || t.SenderID == m.c.UserID {
			continue
		}
		if t.DialogType != Broadcast && !t.IsMember { // role.member without the dialog
			continue
		}
		if m.to != 0 && m.to != t.SenderID { // markers go to the message's sender
			continue
		}
		m.route = true
		want := 0
		if m.read {
			want = 1
		}
		if t.State >= want {
			continue
		}
		if err := tx.SetReceipt(ctx, t, keys[i], m.read, now); err != nil {
			return err
		}
		visible := t.Seq > t.ClearedSeq && !t.Hidden
		if m.read && visible && t.DialogType.counted() && t.IsMember {
			if drops == nil {
				drops = map[MemberKey]int{}
			}
			drops[MemberKey{DialogID: t.DialogID, UserID: m.c.UserID}]++
		}
		t.State = want
		targets[keys[i]] = t
	}
	for k, n := range drops {
		if err := tx.AddUnread(ctx, k.DialogID, k.UserID, -n); err != nil {
			return err
		}
	}
	return routeUnstored(ctx, tx, unstored)
}

// routeUnstored decides the markers of messages that are not stored
// (nothing to record): routed when both the marker's sender and its
// addressee are members of the dialog it names, in the sender's app.
func routeUnstored(ctx context.Context, tx Tx, marks []*markReq) error {
	if len(marks) == 0 {
		return nil
	}
	keys := make([]MemberKey, 0, 2*len(marks))
	for _, m := range marks {
		keys = append(keys, MemberKey{DialogID: m.dialogID, UserID: m.c.UserID}, MemberKey{DialogID: m.dialogID, UserID: m.to})
	}
	heads, members, err := tx.PostingHeads(ctx, keys)
	if err != nil {
		return err
	}
	for i, m := range marks {
		d := heads[m.dialogID]
		if d == nil || d.AppID != m.c.AppID {
			continue
		}
		m.route = d.Type == Broadcast || members[keys[2*i]] && members[keys[2*i+1]]
	}
	return nil
}
