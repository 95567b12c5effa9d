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
// The rows are written in the transaction that stores the message, so an
// acknowledged message never loses its alerts to a crash. That is why
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

// writeAlerts queues the alerts of the stored posts and of the alert
// requests of a batch, inside its transaction.
func (s *Service) writeAlerts(ctx context.Context, tx Tx, posts []Post, msgs []*Message, errs []error, alerts []*alertReq) error {
	for i, p := range posts {
		users := p.alerts
		if p.alertMembers && errs[i] == nil && msgs[i] != nil {
			var err error
			if users, err = s.memberAlertees(ctx, tx, p, msgs[i]); err != nil {
				return err
			}
		}
		if len(users) == 0 || errs[i] != nil || msgs[i] == nil {
			continue // refused, or a retransmission (ErrDuplicate): alerted the first time
		}
		m := msgs[i]
		row := AlertRow{AppID: p.Caller.AppID, DialogID: m.DialogID, MessageID: m.ID, SenderID: p.Caller.UserID,
			Body: m.Body, At: s.now()}
		if _, err := tx.QueueAlerts(ctx, row, users); err != nil {
			return err
		}
	}
	for _, a := range alerts {
		if _, err := tx.QueueAlerts(ctx, a.row, a.users); err != nil {
			return err
		}
	}
	return nil
}

// memberAlertees decides the alerts of a message posted through REST with
// send_to_chat (CreateMessage), whose recipients are only known here, in
// the transaction that stores it: the dialog's occupants, less blocks.
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
