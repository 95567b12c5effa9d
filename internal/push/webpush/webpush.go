// Package webpush is the Web Push provider (RFC 8030 delivery, RFC 8291
// aes128gcm encryption, RFC 8292 VAPID), on github.com/SherClockHolmes/webpush-go.
package webpush

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	webpushgo "github.com/SherClockHolmes/webpush-go"

	"github.com/parley-chat/parley/internal/push"
)

// Config configures a Provider.
type Config struct {
	// Client sends the requests; nil: a default with a 10 s timeout.
	Client *http.Client
	// TTL is how long the push service keeps a push for an offline
	// device; 0: 24 h. A note's "expiration" (Unix seconds) overrides it.
	TTL time.Duration
}

// Provider sends pushes of the web channel.
type Provider struct {
	client *http.Client
	ttl    time.Duration
	now    func() time.Time
}

// New returns a Provider for cfg.
func New(cfg Config) *Provider {
	p := &Provider{client: cfg.Client, ttl: cfg.TTL, now: time.Now}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	if p.ttl <= 0 {
		p.ttl = 24 * time.Hour
	}
	return p
}

var _ push.Provider = (*Provider)(nil)

// Send encrypts d's payload for d.Sub and posts it to the subscription's
// endpoint; the result follows push.Provider's rules.
func (p *Provider) Send(ctx context.Context, d push.Delivery) error {
	vapid, err := vapidOf(d.Creds)
	if err != nil {
		return err
	}
	sub, err := subscriptionOf(d.Sub)
	if err != nil {
		return err
	}
	body, err := payloadOf(d)
	if err != nil {
		return err
	}
	opts := &webpushgo.Options{
		HTTPClient:      p.client,
		Subscriber:      vapid.subscriber,
		Topic:           topicOf(d.ID),
		TTL:             int(p.ttlOf(d).Seconds()),
		Urgency:         urgencyOf(d, body),
		VAPIDPublicKey:  vapid.public,
		VAPIDPrivateKey: vapid.private,
	}
	resp, err := webpushgo.SendNotificationWithContext(ctx, body, sub, opts)
	if err != nil {
		if errors.Is(err, webpushgo.ErrMaxPadExceeded) {
			// payloadOf checks the size first; this is the library's own
			// check agreeing with it.
			return fmt.Errorf("webpush: %w", ErrPayloadTooLarge)
		}
		// Everything before the request was checked above, so this is
		// the network: worth another try.
		return &push.RetryError{Err: fmt.Errorf("webpush: %w", err)}
	}
	return answerOf(resp, p.now())
}

// subscriptionOf checks the subscription's endpoint and keys; one the
// library could not encrypt for can never receive a push, so it is gone.
func subscriptionOf(s push.Subscription) (*webpushgo.Subscription, error) {
	u, err := url.Parse(s.Token)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("webpush: endpoint is not an http(s) URL: %w", push.ErrGone)
	}
	if err := checkSubscriptionKeys(s.WebP256dh, s.WebAuth); err != nil {
		return nil, fmt.Errorf("webpush: %v: %w", err, push.ErrGone)
	}
	return &webpushgo.Subscription{
		Endpoint: s.Token,
		Keys:     webpushgo.Keys{Auth: strings.TrimRight(s.WebAuth, "="), P256dh: strings.TrimRight(s.WebP256dh, "=")},
	}, nil
}
