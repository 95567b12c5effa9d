package chat

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/privacy"
)

// ListMessages returns a page of a dialog's history for the caller
// (REST.md §6.1), marking the returned messages read unless markRead is
// false. preview lets a non-member read the newest messages of a group or
// public dialog that allows it.
func (s *Service) ListMessages(ctx context.Context, c Caller, dialogID string, q Query, markRead, preview bool) ([]*Message, error) {
	if err := checkConds(q); err != nil {
		return nil, err
	}
	d, m, err := load(ctx, s.store, c, dialogID)
	if err != nil {
		return nil, err
	}
	ro := role{d: d, m: m, user: c.UserID}
	if !ro.member() {
		if preview && d.AllowPreview && (d.Type == Group || d.Type == Public) {
			msgs, err := s.store.Messages(ctx, d.ID, 0, 0, Query{Sort: "date_sent", Desc: true, Limit: PreviewMessages})
			if err != nil {
				return nil, err
			}
			slices.Reverse(msgs)
			return msgs, s.store.LoadReceipts(ctx, msgs)
		}
		if !ro.visible() {
			return nil, errNoDialog()
		}
		return nil, errForbidden()
	}
	var cleared int64
	if m != nil {
		cleared = m.ClearedSeq
	}
	msgs, err := s.store.Messages(ctx, d.ID, c.UserID, cleared, q)
	if err != nil {
		return nil, err
	}
	if markRead {
		var unread []string
		for _, msg := range msgs {
			if msg.SenderID != c.UserID {
				unread = append(unread, msg.ID)
			}
		}
		if len(unread) > 0 {
			if err := s.markTx(ctx, d, c.UserID, unread, true); err != nil {
				return nil, err
			}
		}
	}
	return msgs, s.store.LoadReceipts(ctx, msgs)
}

// markTx records receipts and moves the user's counter down by the
// messages that turned read.
func (s *Service) markTx(ctx context.Context, d *Dialog, user int64, ids []string, read bool) error {
	return s.store.Tx(ctx, func(tx Tx) error { return s.mark(ctx, tx, d, user, ids, read) })
}

func (s *Service) mark(ctx context.Context, tx Tx, d *Dialog, user int64, ids []string, read bool) error {
	m, err := tx.Member(ctx, d.ID, user)
	if errors.Is(err, ErrNotFound) {
		m, err = nil, nil
	}
	if err != nil {
		return err
	}
	return s.markAs(ctx, tx, d, m, user, ids, read)
}

// markAs is mark with the user's member row (nil: none) already read.
func (s *Service) markAs(ctx context.Context, tx Tx, d *Dialog, m *Member, user int64, ids []string, read bool) error {
	var cleared int64
	if m != nil {
		cleared = m.ClearedSeq
	}
	n, err := tx.Mark(ctx, d.ID, user, ids, read, cleared, s.now().UTC())
	if err != nil {
		return err
	}
	if n > 0 && d.Type.counted() && m != nil && m.IsMember {
		return tx.AddUnread(ctx, d.ID, user, -n)
	}
	return nil
}

// MessageInput is a message created through REST (REST.md §6.2) or
// received over XMPP.
type MessageInput struct {
	ID          string // chosen by the client; "", malformed or another message's: generated
	DialogID    string
	RecipientID int64 // with no DialogID: the private dialog with this user
	Body        string
	DateSent    int64 // 0: now
	Attachments []Attachment
	Custom      map[string]any
	SendToChat  bool
	// Silent: no chat alert for this message (extraParams silent=1,
	// REALTIME.md §20.4 rule 1); not stored.
	Silent bool
}

// CreateMessage stores a message from the caller with its bookkeeping and,
// with SendToChat, delivers it live.
func (s *Service) CreateMessage(ctx context.Context, c Caller, in MessageInput) (*Message, error) {
	if in.DialogID == "" && in.RecipientID == 0 {
		return nil, apperr.Invalid("chat_dialog_id", "can't be blank")
	}
	checked := false // the 1-1 block rule was applied already
	if in.DialogID != "" {
		if err := checkID(in.DialogID); err != nil {
			return nil, err
		}
	}
	if err := checkMessage(&in); err != nil {
		return nil, err
	}
	if in.DialogID == "" {
		if in.RecipientID == c.UserID {
			return nil, apperr.Invalid("recipient_id", "must be another user")
		}
		if in.RecipientID > 0 {
			// Across a block no dialog is created either (REALTIME.md §18.9).
			if err := s.directBlock(ctx, c.AppID, c.UserID, in.RecipientID); err != nil {
				return nil, err
			}
		}
		checked = true
		v, _, err := s.createDialog(ctx, c, DialogInput{Type: Private, Occupants: []int64{in.RecipientID}})
		if err != nil {
			if e, ok := apperr.As(err); ok && e.Field == "occupants_ids" {
				return nil, apperr.Invalid("recipient_id", "is not a user of this application")
			}
			return nil, err
		}
		in.DialogID = v.ID
	}
	// A message to a private dialog named by id gets the 1-1 block rule in
	// the commit, which reads the dialog's pair anyway.
	msg, d, err := s.commit.submit(ctx, Post{Caller: c, In: in, checkBlocks: !checked, alertMembers: in.SendToChat})
	if errors.Is(err, ErrDuplicate) {
		// A retransmission (only a caller that chose the id can send
		// one): the stored message, delivered again with send_to_chat.
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if in.SendToChat {
		// The committer worked from the dialog's head; fan-out needs the
		// occupants and admins.
		full, err := s.store.Dialog(ctx, c.AppID, d.ID)
		if err != nil {
			return nil, err
		}
		s.notifier.MessageCreated(ctx, full, msg)
	}
	return msg, nil
}

func checkMessage(in *MessageInput) error {
	if !utf8.ValidString(in.Body) || strings.ContainsRune(in.Body, 0) {
		return apperr.Invalid("message", "must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(in.Body) > MaxBodyLen {
		return apperr.Invalid("message", "is too long (maximum is %d characters)", MaxBodyLen)
	}
	if len(in.Attachments) > MaxAttachments {
		return apperr.Invalid("attachments", "is too long (maximum is %d)", MaxAttachments)
	}
	if len(in.Custom) > 0 {
		b, err := json.Marshal(in.Custom)
		if err != nil || len(b) > MaxCustomBytes {
			return apperr.Invalid("base", "custom parameters are too large (maximum is %d bytes)", MaxCustomBytes)
		}
	}
	return nil
}

// newMessage is the row of a message from sender in d, before it is
// stored, and whether its id is the one the client chose (only such an id
// can make it a retransmission, REALTIME.md §6.2).
func (s *Service) newMessage(d *Dialog, sender int64, in MessageInput) (*Message, bool) {
	now := s.now().UTC()
	msg := &Message{ID: in.ID, AppID: d.AppID, DialogID: d.ID, DialogType: d.Type, SenderID: sender, Body: in.Body,
		DateSent: in.DateSent, Attachments: in.Attachments, Custom: in.Custom, CreatedAt: now, UpdatedAt: now}
	chosen := ValidID(msg.ID)
	if !chosen {
		msg.ID = s.newMessageID(now)
	}
	if msg.DateSent <= 0 {
		msg.DateSent = now.Unix()
	}
	if d.Type == Private {
		msg.RecipientID = otherOfPair(d.Pair, sender)
	}
	return msg, chosen
}

// tally is the dialog bookkeeping of REALTIME.md §20.2 for the messages a
// transaction stores: every other member of a counted dialog gains one
// unread per message, members who hid the dialog see it again, and the
// dialog's last message and updated_at move. It is collected per message
// (add) and written once per dialog and sender (apply), not once per
// message; that is exact, because a member's counter grows by the messages
// of the others, the sum over the other senders of their counts.
type tally struct {
	dialogs []*Dialog // in order of first message
	sent    []sentCount
	index   map[sentKey]int // into sent
}

type sentKey struct {
	dialog string
	sender int64
}

type sentCount struct {
	d      *Dialog
	sender int64
	n      int
}

// add records a stored message of d; messages must come in the order of
// their seqs.
func (t *tally) add(d *Dialog, msg *Message) {
	d.Last = &LastMessage{ID: msg.ID, Body: msg.Body, UserID: msg.SenderID, DateSent: msg.DateSent}
	d.LastSeq, d.UpdatedAt = msg.Seq, msg.CreatedAt
	k := sentKey{d.ID, msg.SenderID}
	if i, ok := t.index[k]; ok {
		t.sent[i].n++
		return
	}
	if t.index == nil {
		t.index = map[sentKey]int{}
	}
	t.index[k] = len(t.sent)
	t.sent = append(t.sent, sentCount{d: d, sender: msg.SenderID, n: 1})
	if !slices.Contains(t.dialogs, d) {
		t.dialogs = append(t.dialogs, d)
	}
}

// apply writes the tally: the members' counters and hidden flags per
// dialog and sender, then each dialog's last message as it stands in
// memory.
func (t *tally) apply(ctx context.Context, tx Tx) error {
	for _, c := range t.sent {
		if err := tx.OnNewMessages(ctx, c.d.ID, c.sender, c.n, c.d.Type.counted()); err != nil {
			return err
		}
	}
	for _, d := range t.dialogs {
		if err := tx.SetLast(ctx, d.ID, d.Last, d.LastSeq, d.UpdatedAt); err != nil {
			return err
		}
	}
	return nil
}

// MessageUpdate is PUT /chat/Message (REST.md §6.3).
type MessageUpdate struct {
	Read, Delivered bool
	Body            *string
}

// UpdateMessages marks messages read or delivered, or edits a body. ids nil
// means every message of dialogID the caller can see.
func (s *Service) UpdateMessages(ctx context.Context, c Caller, dialogID string, ids []string, u MessageUpdate) error {
	if ids == nil && dialogID == "" {
		return apperr.Invalid("chat_dialog_id", "can't be blank when no message ids are given")
	}
	if ids == nil && u.Body != nil {
		return apperr.Invalid("message", "can be changed only for messages named by id")
	}
	if u.Body != nil {
		in := MessageInput{Body: *u.Body}
		if err := checkMessage(&in); err != nil {
			return err
		}
	}
	if len(ids) == 1 {
		if err := checkID(ids[0]); err != nil {
			return err
		}
	}
	if dialogID != "" {
		if err := checkID(dialogID); err != nil {
			return err
		}
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		groups := map[string][]*Message{} // dialog id → addressed messages
		var order []string
		if ids == nil {
			groups[dialogID] = nil
			order = []string{dialogID}
		} else {
			valid := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !ValidID(id) })
			msgs, err := tx.MessagesByID(ctx, c.AppID, valid)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if dialogID != "" && m.DialogID != dialogID {
					continue
				}
				if _, ok := groups[m.DialogID]; !ok {
					order = append(order, m.DialogID)
				}
				groups[m.DialogID] = append(groups[m.DialogID], m)
			}
		}
		for _, did := range order {
			d, m, err := load(ctx, tx, c, did)
			if err != nil {
				if ids != nil && apperr.KindOf(err) == apperr.KindNotFound {
					continue // ids in dialogs that are gone: ignored
				}
				return err
			}
			ro := role{d: d, m: m, user: c.UserID}
			if !ro.visible() {
				if ids == nil {
					return errNoDialog()
				}
				continue
			}
			msgs := groups[did]
			if u.Body != nil {
				for _, msg := range msgs {
					if !ro.canEditMessage(msg.SenderID) {
						return errForbidden()
					}
					if err := s.editBody(ctx, tx, d, msg, *u.Body); err != nil {
						return err
					}
				}
			}
			if !u.Read && !u.Delivered {
				continue
			}
			if !ro.member() {
				return errForbidden()
			}
			var mark []string
			if ids != nil {
				for _, msg := range msgs {
					if msg.SenderID != c.UserID {
						mark = append(mark, msg.ID)
					}
				}
				if len(mark) == 0 {
					continue
				}
			}
			if err := s.mark(ctx, tx, d, c.UserID, mark, u.Read); err != nil {
				return err
			}
		}
		return nil
	})
}

// editBody changes a stored message's body; the dialog's last_message
// follows when it is the newest.
func (s *Service) editBody(ctx context.Context, tx Tx, d *Dialog, msg *Message, body string) error {
	now := s.now().UTC()
	if err := tx.UpdateMessageBody(ctx, msg.ID, body, now); err != nil {
		return err
	}
	if d.Last != nil && d.Last.ID == msg.ID {
		d.Last.Body = body
		return tx.SetLast(ctx, d.ID, d.Last, d.LastSeq, now)
	}
	return nil
}

// EditMessage is the real-time edit (REALTIME.md §10): the author's new
// body for a stored message of dialog d. Unknown messages change nothing.
func (s *Service) EditMessage(ctx context.Context, c Caller, dialogID, messageID, body string) error {
	return s.UpdateMessages(ctx, c, dialogID, []string{messageID}, MessageUpdate{Body: &body})
}

// DeleteMessages hides messages for the caller, or with force deletes them
// for everyone where the permission table allows. The outcome is always a
// report (REST.md §6.4), also for one id; only a single malformed id is an
// error (400).
func (s *Service) DeleteMessages(ctx context.Context, c Caller, ids []string, force bool) (*DeleteReport, error) {
	if len(ids) == 1 {
		if err := checkID(ids[0]); err != nil {
			return nil, err
		}
	}
	rep := &DeleteReport{}
	var notices []deleted
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		notices, err = s.deleteMessages(ctx, tx, c, ids, force, rep)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		s.notifier.MessagesDeleted(ctx, n.d, n.msgs, c.UserID)
	}
	return rep, nil
}

// deleted is what a forced delete took out of one dialog.
type deleted struct {
	d    *Dialog
	msgs []*Message
}

// deleteMessages is DeleteMessages inside tx: the outcome of each id goes
// in rep, and what was deleted for everyone is returned for the notices.
// The real-time delete (StartRemove) runs it too, so both follow one rule.
func (s *Service) deleteMessages(ctx context.Context, tx Tx, c Caller, ids []string, force bool, rep *DeleteReport) ([]deleted, error) {
	var notices []deleted
	valid := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !ValidID(id) })
	msgs, err := tx.MessagesByID(ctx, c.AppID, valid)
	if err != nil {
		return nil, err
	}
	byID := map[string]*Message{}
	for _, m := range msgs {
		byID[m.ID] = m
	}
	dialogs := map[string]*Dialog{}
	roles := map[string]role{}
	forced := map[string][]*Message{}
	gone := map[string]bool{} // deleted for everyone earlier in this request
	for _, id := range ids {
		msg, ok := byID[id]
		if !ok {
			rep.NotFound = append(rep.NotFound, id)
			continue
		}
		if gone[id] {
			// The same id twice: deleting again would take the message
			// off the counters a second time.
			rep.Deleted = append(rep.Deleted, id)
			continue
		}
		ro, ok := roles[msg.DialogID]
		if !ok {
			d, m, err := load(ctx, tx, c, msg.DialogID)
			if err != nil {
				return nil, err
			}
			ro = role{d: d, m: m, user: c.UserID}
			roles[msg.DialogID], dialogs[msg.DialogID] = ro, d
		}
		if !ro.visible() {
			rep.NotFound = append(rep.NotFound, id)
			continue
		}
		if !force {
			n, err := tx.Hide(ctx, msg.DialogID, c.UserID, []string{id}, memberCleared(ro.m))
			if err != nil {
				return nil, err
			}
			if n > 0 && ro.d.Type.counted() && ro.member() {
				if err := tx.AddUnread(ctx, msg.DialogID, c.UserID, -n); err != nil {
					return nil, err
				}
			}
			rep.Deleted = append(rep.Deleted, id)
			continue
		}
		if !ro.canDeleteMessage(msg.SenderID) {
			rep.WrongPermissions = append(rep.WrongPermissions, id)
			continue
		}
		if err := tx.DeleteMessage(ctx, msg); err != nil {
			return nil, err
		}
		gone[id] = true
		forced[msg.DialogID] = append(forced[msg.DialogID], msg)
		rep.Deleted = append(rep.Deleted, id)
	}
	for did, msgs := range forced {
		d := dialogs[did]
		if err := s.refreshLast(ctx, tx, d, msgs); err != nil {
			return nil, err
		}
		notices = append(notices, deleted{d, msgs})
	}
	return notices, nil
}

func memberCleared(m *Member) int64 {
	if m == nil {
		return 0
	}
	return m.ClearedSeq
}

// refreshLast points the dialog's last message at the newest remaining
// one after deletions, and drops deleted ids from the pins.
func (s *Service) refreshLast(ctx context.Context, tx Tx, d *Dialog, deleted []*Message) error {
	now := s.now().UTC()
	pinned := len(d.Pinned)
	for _, m := range deleted {
		d.Pinned = slices.DeleteFunc(d.Pinned, func(id string) bool { return id == m.ID })
	}
	if len(d.Pinned) != pinned {
		if err := tx.UpdateDialog(ctx, d); err != nil {
			return err
		}
	}
	lastGone := false
	for _, m := range deleted {
		if d.Last != nil && d.Last.ID == m.ID {
			lastGone = true
		}
	}
	if !lastGone {
		return nil
	}
	newest, err := tx.Newest(ctx, d.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		d.Last = nil
	case err != nil:
		return err
	default:
		d.Last = &LastMessage{ID: newest.ID, Body: newest.Body, UserID: newest.SenderID, DateSent: newest.DateSent}
	}
	return tx.SetLast(ctx, d.ID, d.Last, d.LastSeq, now)
}

// UnreadCount returns the caller's unread counts of the given dialogs (only
// counted dialogs the caller is a member of) and the total (REST.md §6.5).
func (s *Service) UnreadCount(ctx context.Context, c Caller, dialogIDs []string) (map[string]int, int, error) {
	if len(dialogIDs) > MaxIDsPerRequest {
		return nil, 0, apperr.Invalid("chat_dialog_ids", "is too long (maximum is %d ids)", MaxIDsPerRequest)
	}
	for _, id := range dialogIDs {
		if err := checkID(id); err != nil {
			return nil, 0, err
		}
	}
	return s.store.UnreadCounts(ctx, c.AppID, c.UserID, dialogIDs)
}

// SearchResult is what a global search finds.
type SearchResult struct {
	Dialogs  []View
	Messages []*Message
	Users    []int64 // users sharing a dialog with the caller whose login or name matches
}

// Search looks for text in message bodies and dialog names of the caller's
// listed dialogs (REST.md §7).
func (s *Service) Search(ctx context.Context, c Caller, q Search) (*SearchResult, error) {
	if utf8.RuneCountInString(q.Text) < MinSearchLen {
		return nil, apperr.Invalid("search_text", "must be at least %d characters", MinSearchLen)
	}
	// Text, like every other field: a NUL would cut the FTS5 query
	// string short inside SQLite (a syntax error, once a 500).
	if err := checkText("search_text", &q.Text, MaxNameLen); err != nil {
		return nil, err
	}
	if len(q.DialogIDs) > MaxSearchDialogs {
		return nil, apperr.Invalid("chat_dialog_ids", "may name at most %d dialogs", MaxSearchDialogs)
	}
	for _, id := range q.DialogIDs {
		if err := checkID(id); err != nil {
			return nil, err
		}
	}
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = MaxPageSize
	}
	// Counted after the checks above (they cost nothing): a mistaken
	// request is answered with its mistake, not a wait.
	if err := s.allowSearch(c); err != nil {
		return nil, err
	}
	msgs, err := s.store.SearchMessages(ctx, c.AppID, c.UserID, q)
	if err != nil {
		return nil, err
	}
	if err := s.store.LoadReceipts(ctx, msgs); err != nil {
		return nil, err
	}
	ds, err := s.store.SearchDialogs(ctx, c.AppID, c.UserID, q.Text, q.Limit)
	if err != nil {
		return nil, err
	}
	ms := make([]*Member, len(ds))
	for i, d := range ds {
		if ms[i], err = s.store.Member(ctx, d.ID, c.UserID); errors.Is(err, ErrNotFound) {
			ms[i] = nil
		} else if err != nil {
			return nil, err
		}
	}
	views, err := s.views(ctx, s.store, c, ds, ms)
	if err != nil {
		return nil, err
	}
	users, err := s.store.SearchUsers(ctx, c.AppID, c.UserID, q.Text, q.Limit)
	if err != nil {
		return nil, err
	}
	return &SearchResult{Dialogs: views, Messages: msgs, Users: users}, nil
}

// loadMessage returns a message and its dialog's role for the caller; an
// unknown message or one in a dialog the caller cannot see is 404.
func (s *Service) loadMessage(ctx context.Context, r Reader, c Caller, id string) (*Message, role, error) {
	if err := checkID(id); err != nil {
		return nil, role{}, err
	}
	msgs, err := r.MessagesByID(ctx, c.AppID, []string{id})
	if err != nil {
		return nil, role{}, err
	}
	if len(msgs) == 0 {
		return nil, role{}, apperr.NotFound("Message")
	}
	d, m, err := load(ctx, r, c, msgs[0].DialogID)
	if err != nil {
		return nil, role{}, apperr.NotFound("Message")
	}
	ro := role{d: d, m: m, user: c.UserID}
	if !ro.visible() {
		return nil, role{}, apperr.NotFound("Message")
	}
	return msgs[0], ro, nil
}

// React adds and/or removes the caller's reactions on a message.
func (s *Service) React(ctx context.Context, c Caller, messageID, add, remove string) error {
	if add == "" && remove == "" {
		return apperr.Invalid("add", "give add or remove")
	}
	for field, r := range map[string]string{"add": add, "remove": remove} {
		if err := checkText(field, &r, MaxReactionLen); err != nil {
			return err
		}
	}
	var msg *Message
	var d *Dialog
	err := s.store.Tx(ctx, func(tx Tx) error {
		var ro role
		var err error
		if msg, ro, err = s.loadMessage(ctx, tx, c, messageID); err != nil {
			return err
		}
		if !ro.member() {
			return errForbidden()
		}
		d = ro.d
		now := s.now().UTC()
		if remove != "" {
			if err := tx.SetReaction(ctx, msg.ID, c.UserID, remove, false, now); err != nil {
				return err
			}
		}
		if add != "" {
			if err := tx.SetReaction(ctx, msg.ID, c.UserID, add, true, now); err != nil {
				return err
			}
		}
		return tx.TouchMessage(ctx, msg.ID, now)
	})
	if err != nil {
		return err
	}
	s.notifier.ReactionsChanged(ctx, d, msg, c.UserID, add, remove)
	return nil
}

// Reactions lists reaction → users of a message the caller can see.
func (s *Service) Reactions(ctx context.Context, c Caller, messageID string) (map[string][]int64, error) {
	msg, _, err := s.loadMessage(ctx, s.store, c, messageID)
	if err != nil {
		return nil, err
	}
	return s.store.Reactions(ctx, msg.ID)
}

// SystemMessage sends a system message from the caller to a user of the
// same app (REST.md §6.6) and returns its id.
func (s *Service) SystemMessage(ctx context.Context, c Caller, to int64, params map[string]any) (string, error) {
	if to <= 0 {
		return "", apperr.Invalid("recipientId", "can't be blank")
	}
	missing, err := s.store.MissingUsers(ctx, c.AppID, []int64{to})
	if err != nil {
		return "", err
	}
	if len(missing) > 0 {
		return "", apperr.NotFound("User")
	}
	if b, err := json.Marshal(params); err != nil || len(b) > MaxCustomBytes {
		return "", apperr.Invalid("base", "parameters are too large (maximum is %d bytes)", MaxCustomBytes)
	}
	id := NewID(s.now())
	// Across a block it is dropped silently (REALTIME.md §18.9): the
	// caller is not told, as a live headline's sender is not.
	if s.Reaches(ctx, c.AppID, c.UserID, to, privacy.Direct) {
		s.notifier.SystemMessage(ctx, c.AppID, c.UserID, to, id, params)
	}
	return id, nil
}
