package chat

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store when a row does not exist.
var ErrNotFound = errors.New("chat: not found")

// ErrDuplicate is the outcome of a post that retransmits a stored message
// (REALTIME.md §6.2: the id its client chose is already stored, from the
// same sender in the same dialog). It is not a failure: nothing new was
// stored or counted, and the stored message comes with it.
var ErrDuplicate = errors.New("chat: retransmission of a stored message")

// Store persists the chat domain. Reads run on Store itself; every change
// runs inside Tx, a write transaction in which the reads see the writes, so
// a domain operation's checks and effects are atomic. Backends hold SQL
// only: which rows change is decided here, in chat.
type Store interface {
	Reader
	// Tx runs fn in one write transaction, committed when fn returns nil.
	Tx(ctx context.Context, fn func(Tx) error) error
}

// Reader is every query the domain makes.
type Reader interface {
	// Dialog loads a dialog of app with its occupants, admins, pins and
	// extensions.
	Dialog(ctx context.Context, appID int64, id string) (*Dialog, error)
	// DialogHead loads a dialog's own row without occupants, admins, pins or
	// extensions, and the user's member row (nil without one), in one
	// query: the hot path of posting a message.
	DialogHead(ctx context.Context, appID int64, id string, userID int64) (*Dialog, *Member, error)
	// PostingHeads reads what posting checks for a batch of posts, in a
	// few statements whatever their number: each dialog named in keys,
	// with its id, app, type, owner and pair key only (the other fields
	// are left zero; unknown ids are absent), and which keys are members
	// (occupants or subscribers) of their dialog.
	PostingHeads(ctx context.Context, keys []MemberKey) (map[string]*Dialog, map[MemberKey]bool, error)
	// Muted says which of keys turned notifications off for their dialog
	// (REST.md §5.10), in a few statements whatever their number.
	Muted(ctx context.Context, keys []MemberKey) (map[MemberKey]bool, error)
	// PrivateDialog finds the type 3 dialog of a pair key (see PairKey).
	PrivateDialog(ctx context.Context, appID int64, pair string) (*Dialog, error)
	// PrivateDialogHead is PrivateDialog without occupants, admins, pins
	// or extensions, in one query: the hot path of a 1-1 message.
	PrivateDialogHead(ctx context.Context, appID int64, pair string) (*Dialog, error)
	// Member returns a user's state in a dialog, ErrNotFound without one.
	Member(ctx context.Context, dialogID string, userID int64) (*Member, error)
	// Members returns the member rows (IsMember) of a dialog, paged, in
	// order of joining.
	Members(ctx context.Context, dialogID string, skip, limit int) ([]int64, error)
	// ListDialogs returns the page of the user's listed dialogs (REST.md
	// §5.1) matching q, with the user's member rows (nil where the user has
	// none), and the number of matches.
	ListDialogs(ctx context.Context, appID, userID int64, q Query) ([]*Dialog, []*Member, int, error)
	// MissingUsers returns the ids among ids that are not users of app.
	MissingUsers(ctx context.Context, appID int64, ids []int64) ([]int64, error)
	// Removed reports whether the user carries the mark of a removal by
	// the group's owner (see SetRemoved).
	Removed(ctx context.Context, dialogID string, userID int64) (bool, error)
	// JoinedCounts returns, for each of users that has any, how many
	// group dialogs of app they occupy plus public ones they subscribe
	// to (the dialogs-per-user limit).
	JoinedCounts(ctx context.Context, appID int64, users []int64) (map[int64]int, error)

	// Messages returns a page of a dialog's messages visible to userID
	// (after its cleared mark, not hidden by it) matching q.
	Messages(ctx context.Context, dialogID string, userID, clearedSeq int64, q Query) ([]*Message, error)
	// MessagesByID returns the stored messages among ids of app.
	MessagesByID(ctx context.Context, appID int64, ids []string) ([]*Message, error)
	// LoadReceipts fills ReadIDs, DeliveredIDs and Reactions of msgs.
	LoadReceipts(ctx context.Context, msgs []*Message) error
	// ReceiptState reports, for each message id, whether a user other than
	// except has delivered or read it (for last_message_status).
	ReceiptState(ctx context.Context, ids []string, except int64) (map[string]Receipt, error)
	// UnreadCounts returns the user's unread counters of the given dialogs
	// (nil: none) and the total over all the user's counted dialogs.
	UnreadCounts(ctx context.Context, appID, userID int64, dialogIDs []string) (map[string]int, int, error)
	// Recount computes a user's unread count of a dialog from the messages
	// (the definition the counters must always equal).
	Recount(ctx context.Context, dialogID string, userID int64) (int, error)
	// Search finds messages and dialogs of the user's listed set whose body
	// or name contains text (case-sensitive).
	SearchMessages(ctx context.Context, appID, userID int64, s Search) ([]*Message, error)
	SearchDialogs(ctx context.Context, appID, userID int64, text string, limit int) ([]*Dialog, error)
	// SearchUsers finds users who share a group or private dialog with the
	// user and whose login or full name contains text.
	SearchUsers(ctx context.Context, appID, userID int64, text string, limit int) ([]int64, error)
	// Reactions returns reaction → user ids of a message.
	Reactions(ctx context.Context, messageID string) (map[string][]int64, error)
}

// MemberKey names a user's member row in a dialog.
type MemberKey struct {
	DialogID string
	UserID   int64
}

// ReceiptKey names a user's receipt of a message.
type ReceiptKey struct {
	MessageID string
	UserID    int64
}

// ReceiptTarget is a stored message as a receipt of it sees it: where it
// is, who sent it, and the receiving user's standing in its dialog.
type ReceiptTarget struct {
	Seq        int64
	DialogID   string
	AppID      int64
	DialogType Type
	SenderID   int64
	IsMember   bool  // the user's member row says member
	ClearedSeq int64 // the user's cleared mark (0 without a member row)
	Hidden     bool  // the user deleted the message for itself
	State      int   // the user's receipt: -1 none, 0 delivered, 1 read
}

// Tx is a write transaction. Its Reader methods see its own writes.
type Tx interface {
	Reader
	InsertDialog(ctx context.Context, d *Dialog) error
	// UpdateDialog writes the dialog's own fields, extensions and pins.
	UpdateDialog(ctx context.Context, d *Dialog) error
	DeleteDialog(ctx context.Context, id string) error
	// PutMember inserts or replaces a member row.
	PutMember(ctx context.Context, m *Member) error
	DeleteMember(ctx context.Context, dialogID string, userID int64) error
	// MemberDialogs returns the ids of the dialogs of app in which the
	// user has a member row of any kind.
	MemberDialogs(ctx context.Context, appID, userID int64) ([]string, error)
	// DeleteOffline drops the messages kept for a user (REALTIME.md
	// §20.5); its account is being deleted.
	DeleteOffline(ctx context.Context, appID, userID int64) error
	// SetRemoved sets (removed) or clears a user's mark of removal from a
	// group by its owner, which bars subscribing back.
	SetRemoved(ctx context.Context, dialogID string, userID int64, removed bool, at time.Time) error

	// InsertMessages stores msgs in their order (their seqs increase in
	// it), setting each one's Seq, until it meets one whose id is already
	// stored (an earlier one of msgs counts). It returns how many it
	// stored, n, and when that is not all, the stored message that holds
	// msgs[n]'s id (msgs[n] is not stored, its Seq stays 0). What to do
	// about msgs[n] (another id, or nothing) is the caller's decision.
	InsertMessages(ctx context.Context, msgs []*Message) (n int, holder *Message, err error)
	// OnNewMessages applies the effect on members of n messages stored by
	// sender in a dialog, in one statement: n more unread for every member
	// except the sender (when counted), and the dialog un-hidden for
	// everyone.
	OnNewMessages(ctx context.Context, dialogID string, sender int64, n int, counted bool) error
	// QueueAlerts queues a chat alert of a message that is not stored
	// (a stored one carries its alerts in Message.Alert) for each
	// subscription of each of users, except users who turned
	// notifications off for the dialog and all of them when the app has
	// chat alerts off (alerts.go); it returns how many pushes it queued.
	QueueAlerts(ctx context.Context, a AlertRow, users []int64) (int, error)
	// SetLast sets the dialog's last message (nil: none), its seq and
	// updated_at.
	SetLast(ctx context.Context, dialogID string, last *LastMessage, lastSeq int64, updatedAt time.Time) error
	// Newest returns the dialog's newest message (by date_sent, ties by
	// arrival), ErrNotFound when empty.
	Newest(ctx context.Context, dialogID string) (*Message, error)
	UpdateMessageBody(ctx context.Context, id, body string, at time.Time) error
	// DeleteMessage removes a message for everyone, first taking it off
	// the unread counter of every member who had it unread.
	DeleteMessage(ctx context.Context, m *Message) error
	// DeleteMessages removes every message of a dialog (clear for all).
	DeleteDialogMessages(ctx context.Context, dialogID string) error
	// Mark records receipts of userID for messages of one dialog (ids nil:
	// every message) and returns how many of them turned read while
	// visible and unread for the user: the amount its counter drops.
	Mark(ctx context.Context, dialogID string, userID int64, ids []string, read bool, clearedSeq int64, at time.Time) (int, error)
	// ReceiptTargets reads what recording a receipt needs for a batch of
	// (message, user) keys, in a few statements whatever their number.
	// Keys whose message is not stored are absent.
	ReceiptTargets(ctx context.Context, keys []ReceiptKey) (map[ReceiptKey]ReceiptTarget, error)
	// SetReceipt writes a user's receipt of a message (read, or only
	// delivered) and moves the message's updated_at.
	SetReceipt(ctx context.Context, t ReceiptTarget, key ReceiptKey, read bool, at time.Time) error
	// Hide hides messages for a user and returns how many of them were
	// unread for it.
	Hide(ctx context.Context, dialogID string, userID int64, ids []string, clearedSeq int64) (int, error)
	// AddUnread changes one member's counter by delta.
	AddUnread(ctx context.Context, dialogID string, userID int64, delta int) error
	SetReaction(ctx context.Context, messageID string, userID int64, reaction string, add bool, at time.Time) error
	TouchMessage(ctx context.Context, id string, at time.Time) error
}

// Query filters, sorts and pages dialogs or messages. Field names are those
// of DialogFields or MessageFields.
type Query struct {
	Conds []Cond
	Sort  string
	Desc  bool
	Skip  int
	Limit int
}

// Cond is one filter: Field Op Values. Values are typed by the field's
// Kind: string, int64 or time.Time.
type Cond struct {
	Field  string
	Op     string // eq ne lt lte gt gte in nin all ctn
	Values []any
}

// Search is a message search (REST.md §7).
type Search struct {
	Text      string
	DialogIDs []string
	From, To  int64 // date_sent bounds, 0 when absent
	Limit     int
}

// Kept is a message kept for a user who was offline when it was routed.
type Kept struct {
	ID     int64  // increasing in the order kept
	Stanza []byte // the encoded copy, as it would have been delivered
	At     time.Time
}

// OfflineStore keeps messages for offline users (REALTIME.md §20.5). A
// copy stays kept until it is known delivered (acknowledged, or written
// to a client without stream management), so a crash or a lost
// connection during delivery loses nothing.
type OfflineStore interface {
	// PushOffline keeps a copy unless max are kept for the user already
	// (kept is false then, and nothing is dropped or written).
	PushOffline(ctx context.Context, appID, userID int64, stanza []byte, at time.Time, max int) (kept bool, err error)
	// PeekOffline returns up to limit copies with ids above after, oldest
	// first, leaving them kept.
	PeekOffline(ctx context.Context, appID, userID, after int64, limit int) ([]Kept, error)
	// DeleteOffline removes the copies up to and including id.
	DeleteOffline(ctx context.Context, appID, userID, upTo int64) error
	// ExpireOffline removes the copies kept before before; it reports how
	// many.
	ExpireOffline(ctx context.Context, appID, userID int64, before time.Time) (int, error)
}
