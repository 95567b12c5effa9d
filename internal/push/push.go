// Package push is Parley's push-notification side (REST.md §10,
// REALTIME.md §20.4): device subscriptions, events made through the API,
// chat alerts for users who would not see a message live, and the durable
// outbox every push goes through on its way to a provider (Web Push, FCM,
// APNs; each in its own package, behind Provider).
//
// A push is a row of the outbox before anything is sent: a chat alert is
// written in the transaction that stores its message (internal/chat asks
// for it; the store writes it), an event's pushes in the transaction that
// records the event. The Dispatcher sends the rows and records what each
// provider answered.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Channel is a subscription's notification channel (REST.md §10.1).
type Channel string

// The channels a subscription can have.
const (
	APNs     Channel = "apns"
	APNsVoIP Channel = "apns_voip"
	GCM      Channel = "gcm" // FCM HTTP v1
	Web      Channel = "web" // Web Push (RFC 8030, 8291, 8292)
)

// Channels lists every channel, in a fixed order.
var Channels = []Channel{APNs, APNsVoIP, GCM, Web}

// Environments of a subscription and an event.
const (
	Development = "development"
	Production  = "production"
)

// Subscription is one device of one user (REST.md §2.7).
type Subscription struct {
	ID, AppID, UserID int64
	Channel           Channel
	Platform          string // ios, android, web
	UDID              string
	Environment       string // development, production
	// Token is the device token (apns, apns_voip, gcm) or, for web, the
	// Web Push endpoint URL.
	Token string
	// Bundle is the app's bundle identifier when the device gave one (the
	// APNs topic; the app's default otherwise).
	Bundle string
	// WebAuth and WebP256dh are a web subscription's keys, base64url as
	// the browser's PushSubscription gives them (16 bytes; a 65-byte
	// uncompressed P-256 point).
	WebAuth, WebP256dh   string
	CreatedAt, UpdatedAt time.Time
}

// Credentials are one application's provider secrets. They are stored
// sealed (Sealer) and never logged or returned by an API.
type Credentials struct {
	// VAPID keys (RFC 8292), base64url without padding: the P-256
	// private scalar (32 bytes) and public point (65 bytes).
	VAPIDPrivateKey, VAPIDPublicKey string
	// VAPIDSubject is the JWT's sub: "mailto:…" or an https URL.
	VAPIDSubject string
	// FCMServiceAccount is the service-account JSON key (project_id,
	// client_email, private_key, token_uri).
	FCMServiceAccount []byte `json:",omitempty"`
	// APNs token authentication: the .p8 key (PEM), its key id and the
	// team id; APNsTopic is the bundle id pushed to when a subscription
	// names none.
	APNsKey               []byte `json:",omitempty"`
	APNsKeyID, APNsTeamID string
	APNsTopic             string
}

// Notification is a push in the universal form of REST.md §10.4: the JSON
// object of an event's message, or a chat alert's payload (REST.md
// §10.5). Each provider translates the keys the spec lists (message,
// ios_badge, ios_sound, …) to its platform; any other key is custom data.
type Notification map[string]any

// Delivery is one push to one subscription.
type Delivery struct {
	// ID is the outbox row's id: the same on every try, also after a
	// restart. Providers derive the collapse key from it (Web Push Topic,
	// apns-collapse-id, FCM collapse_key), so a copy sent twice replaces
	// the first on the device instead of showing twice.
	ID    int64
	Sub   Subscription
	Creds *Credentials
	// Note is the universal payload; nil when Raw is set.
	Note Notification
	// Raw is a platform-specific payload (an event with push_type, REST.md
	// §10.4), sent as the platform's JSON as is.
	Raw json.RawMessage
}

// Provider sends pushes of one or more channels.
//
// Send returns nil once the provider accepted the push. A refusal that
// names the subscription invalid (unregistered, bad token, expired
// endpoint) wraps ErrGone: the subscription is deleted. A refusal worth
// retrying (429, 5xx, a network failure or timeout) is a *RetryError.
// Any other error is final: the push is dead-lettered at once. Send must
// return by ctx's deadline.
type Provider interface {
	Send(ctx context.Context, d Delivery) error
}

// ErrGone marks a subscription the provider says is no longer valid.
var ErrGone = errors.New("push: subscription no longer valid")

// ErrNoCredentials is returned by a provider for an app that has not set
// the credentials its channel needs (final: dead-lettered).
var ErrNoCredentials = errors.New("push: the application has no credentials for this channel")

// RetryError is a refusal worth retrying, After the provider's
// Retry-After (zero when it gave none).
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

func (e *RetryError) Unwrap() error { return e.Err }
