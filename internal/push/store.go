package push

import (
	"context"
	"time"
)

// Store is what the push side keeps (internal/store/sqlite implements it;
// migration 0012_push.sql).
type Store interface {
	// PutSubscription creates s, or replaces the token, bundle, web keys,
	// platform and environment of the subscription with the same (app,
	// user, udid, channel); it sets s.ID, CreatedAt and UpdatedAt.
	PutSubscription(ctx context.Context, s *Subscription) error
	// Subscriptions lists a user's subscriptions, in id order.
	Subscriptions(ctx context.Context, appID, userID int64) ([]Subscription, error)
	// Subscription loads one subscription of app (ErrNotFound).
	Subscription(ctx context.Context, appID, id int64) (*Subscription, error)
	// DeleteSubscription deletes one; its queued pushes are dropped when
	// their turn comes (the dispatcher finds no subscription).
	DeleteSubscription(ctx context.Context, appID, id int64) error

	// CreateEvent records e (setting its ID) and, in the same transaction,
	// queues one push for every subscription of app that matches: its
	// user is selected by sel, its environment is env, its channel is in
	// channels. It returns how many pushes it queued.
	CreateEvent(ctx context.Context, e *Event, sel Selector, channels []Channel) (queued int, err error)
	// EventRecipients counts the users sel selects in app, stopping at
	// limit+1 (the caller refuses a selection over limit).
	EventRecipients(ctx context.Context, appID int64, sel Selector, limit int) (int, error)

	// AppSettings returns an app's push settings (the defaults when it
	// has none stored: alerts on, no template, no credentials).
	AppSettings(ctx context.Context, appID int64) (*StoredSettings, error)
	// PutAppSettings writes them whole.
	PutAppSettings(ctx context.Context, s *StoredSettings) error

	// ClaimDue leases up to limit queued pushes of one channel that are
	// due at now (next_at <= now, lease over), oldest first, until
	// now+lease, and returns them with their subscription (Sub.ID is 0
	// when the subscription is gone) and what they carry.
	ClaimDue(ctx context.Context, ch Channel, now time.Time, lease time.Duration, limit int) ([]Item, error)
	// Finish records outcomes in one transaction.
	Finish(ctx context.Context, outcomes []Outcome) error
	// ExpandAlerts queues the chat alerts stored with messages and not
	// queued yet (migration 0013), for at most limit such messages,
	// oldest first: one push per subscription of each recipient a
	// message names (the chat domain left out those who muted the
	// dialog), none when the app has chat alerts off. In the same
	// transaction it marks them queued, so each is queued once. It
	// returns how many messages it took and how many pushes it queued.
	ExpandAlerts(ctx context.Context, now time.Time, limit int) (messages, queued int, err error)
	// PendingAlerts counts the stored messages whose alerts are not
	// queued yet.
	PendingAlerts(ctx context.Context) (int, error)
	// OutboxStats counts the outbox by channel and state.
	OutboxStats(ctx context.Context, now time.Time) ([]ChannelStats, error)
	// PurgeOutbox deletes sent and dead pushes finished before before.
	PurgeOutbox(ctx context.Context, before time.Time) (int, error)
}

// Selector picks an event's recipients (REST.md §10.4): users whose id
// is in IDs, whose external id is in ExternalIDs, or whose tags match
// (TagsAny: at least one; TagsAll: every one; TagsExclude: none). The
// kinds combine as a union (ids, external ids, tag matches); TagsExclude
// then removes users from the whole. An empty Selector selects no one.
type Selector struct {
	IDs, ExternalIDs              []int64
	TagsAny, TagsAll, TagsExclude []string
}

// Empty reports whether sel names no recipient.
func (sel Selector) Empty() bool {
	return len(sel.IDs) == 0 && len(sel.ExternalIDs) == 0 && len(sel.TagsAny) == 0 && len(sel.TagsAll) == 0
}

// Event is a push made with POST /events (REST.md §2.8, §10.4).
type Event struct {
	ID, AppID, UserID int64
	// PushType is "" for a universal push, else the channel it targets.
	PushType    Channel
	Environment string
	// Message is the event's message as sent: base64 of the universal
	// JSON object, or the platform payload.
	Message   string
	CreatedAt time.Time
}

// StoredSettings are an application's push settings as kept: Secrets is
// the sealed Credentials (nil when none were set).
type StoredSettings struct {
	AppID int64
	// AlertsOff turns chat alerts off for the app (REALTIME.md §20.4
	// rule 5; on by default).
	AlertsOff bool
	// Template is the chat-alert text (Template syntax; "" the default).
	Template    string
	VAPIDPublic string
	Secrets     []byte
}

// Kind of an outbox row.
type Kind int

// The kinds of push.
const (
	KindAlert Kind = 1
	KindEvent Kind = 2
)

// Item is a claimed push.
type Item struct {
	ID, AppID int64
	Kind      Kind
	Sub       Subscription // zero ID: the subscription is gone
	Tries     int          // tries made before this one
	CreatedAt time.Time
	// KindAlert: the message it is about.
	Alert AlertRef
	// KindEvent: the event (PushType, Message; its ID and AppID).
	Event Event
}

// AlertRef is what a chat alert row keeps of its message; the recipient
// is the subscription's user.
type AlertRef struct {
	DialogID, MessageID string
	SenderID            int64
	Body                string // the message text ("" for an attachment)
}

// State of an outbox row.
type State int

// The states of an outbox row.
const (
	Queued State = 0
	Sent   State = 1
	Dead   State = 2
)

// Outcome is what became of one try of a push: Sent, Dead, or Queued
// again at NextAt (a retry). Tries counts this try. DeleteSubscription
// also deletes the push's subscription (the provider said it is gone).
type Outcome struct {
	ID                 int64
	State              State
	Tries              int
	NextAt, At         time.Time
	Err                string
	DeleteSubscription int64 // subscription id, 0: none
	AppID              int64
}

// ChannelStats is the outbox of one channel: queued (of which due now
// and leased by a dispatcher), sent, dead, and how many of all were
// retried (more than one try).
type ChannelStats struct {
	Channel             Channel
	Queued, Due, Leased int
	Sent, Dead, Retried int
	OldestQueued        time.Time // zero when none is queued
}
