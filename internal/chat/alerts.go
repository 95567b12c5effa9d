package chat

import (
	"context"
	"slices"
	"time"
)

// Chat alerts (REALTIME.md §20.4): a content message that a recipient
// would not see live becomes a push. The rules are here; the push side
// (internal/push) only sends what the store queued.
//
// Who gets an alert is written in the transaction that stores the
// message, so an acknowledged message never loses its alerts to a crash:
// for a stored message, as a column of its own row (Message.Alert), which
// the push dispatcher expands into one push per subscription later, off
// the chat's write path (migration 0013 says why); for a message that is
// not stored, as outbox rows (QueueAlerts) with the next commit. That is why
// "would not see it live" is asked before the commit, from the real-time
// side's view at that moment (Attention): a user who connects while the
// batch commits may get both the live copy and the push; one whose last
// session is closing may get neither, and finds the message at the next
// login (offline storage, history), as without push.

// Attention says whether users would see a message live. The real-time
// side answers (the c2s engine from its router).
type Attention interface {
	// Away reports whether user of app has no available resource, or only
	// resources marked inactive (REALTIME.md §16.4, §20.4 rule 4).
	Away(appID, userID int64) bool
}

// SetAttention attaches the real-time side's view of who is away. Without
// it nobody is away and no alert is queued.
func (s *Service) SetAttention(a Attention) { s.attention = a }

type nobodyAway struct{}

func (nobodyAway) Away(int64, int64) bool { return false }

// AlertRow is a chat alert as the store queues it: one message, one push
// per subscription of each recipient the domain chose. The store skips
// recipients who turned notifications off for the dialog (REST.md §5.10)
// and apps with chat alerts off, in the same statement.
type AlertRow struct {
	AppID     int64
	DialogID  string // "" for a 1-1 message with no dialog
	MessageID string
	SenderID  int64
	Body      string // "" for an attachment
	At        time.Time
}

// alertees returns the recipients of an accepted message who get a chat
// alert: a content message that is not silent, in a dialog kind that
// alerts (Accepted.Alert), to recipients other than the sender whom the
// domain let it reach (blocks are out of recipients already) and who are
// away.
func (s *Service) alertees(c Caller, a *Accepted, in MessageInput, recipients []int64) []int64 {
	if !a.Alert || in.Silent || !isContent(in) {
		return nil
	}
	var out []int64
	for _, u := range recipients {
		if u != c.UserID && s.attention.Away(c.AppID, u) {
			out = append(out, u)
		}
	}
	return out
}

// unmuted takes the recipients who turned notifications off for the
// dialog (REST.md §5.10) out of the alerts of msgs, in the transaction
// that stores them: one query for the whole batch, and the rule holds as
// it was when the message was sent, however late its pushes are queued.
func (s *Service) unmuted(ctx context.Context, tx Tx, msgs []*Message) error {
	var keys []MemberKey
	for _, m := range msgs {
		for _, u := range m.Alert {
			keys = append(keys, MemberKey{DialogID: m.DialogID, UserID: u})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	muted, err := tx.Muted(ctx, keys)
	if err != nil || len(muted) == 0 {
		return err
	}
	for _, m := range msgs {
		m.Alert = slices.DeleteFunc(slices.Clone(m.Alert), func(u int64) bool {
			return muted[MemberKey{DialogID: m.DialogID, UserID: u}]
		})
	}
	return nil
}

// alertReq is a chat alert of a message that is not stored (no dialog, or
// not saved to history), queued with the next group commit.
type alertReq struct {
	row   AlertRow
	users []int64
}

// queueAlerts writes the alerts of a message that is not stored. Nobody
// waits for them: an unstored message has no acknowledgement to protect.
func (s *Service) queueAlerts(ctx context.Context, c Caller, a *Accepted, in MessageInput, users []int64) {
	if len(users) == 0 {
		return
	}
	dialogID := ""
	if a.Dialog != nil {
		dialogID = a.Dialog.ID
	}
	r := &postReq{alert: &alertReq{row: AlertRow{AppID: c.AppID, DialogID: dialogID, MessageID: a.ID,
		SenderID: c.UserID, Body: in.Body, At: s.now()}, users: users}, done: make(chan struct{})}
	if _, err := s.commit.queue(ctx, r); err != nil {
		s.log.Warn("queue chat alerts", "err", err)
	}
}

// writeAlerts queues the alerts of the batch's messages that are not
// stored, inside its transaction. A stored message's are in its row
// (Message.Alert), which the push dispatcher expands.
func (s *Service) writeAlerts(ctx context.Context, tx Tx, alerts []*alertReq) error {
	for _, a := range alerts {
		if _, err := tx.QueueAlerts(ctx, a.row, a.users); err != nil {
			return err
		}
	}
	return nil
}

// memberAlertees decides the alerts of a message posted through REST with
// send_to_chat (CreateMessage), whose recipients are only known in the
// transaction that stores it: the dialog's occupants, less blocks.
func (s *Service) memberAlertees(ctx context.Context, tx Tx, p Post, m *Message) ([]int64, error) {
	d, err := tx.Dialog(ctx, p.Caller.AppID, m.DialogID)
	if err != nil {
		return nil, err
	}
	if d.Type != Private && d.Type != Group {
		return nil, nil
	}
	recipients := slices.Clone(d.Occupants)
	recipients = s.unblocked(ctx, p.Caller.AppID, p.Caller.UserID, recipients)
	a := &Accepted{Alert: true}
	return s.alertees(p.Caller, a, p.In, recipients), nil
}
