// Package webpush is the Web Push provider: RFC 8030 delivery, RFC 8291
// aes128gcm encryption (crypto/ecdh, HKDF, AES-GCM) and RFC 8292 VAPID
// with each JWT reused for hours (ES256 via golang-jwt).
package webpush

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

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
	client  *http.Client
	ttl     time.Duration
	now     func() time.Time
	signers signers
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
	sg, err := p.signers.get(d.Creds)
	if err != nil {
		return err
	}
	sub, err := subscriptionOf(d.Sub)
	if err != nil {
		return err
	}
	plain, err := payloadOf(d)
	if err != nil {
		return err
	}
	body, err := encrypt(plain, sub.ua, sub.auth)
	if err != nil {
		// The keys were checked and the size too: this is our fault.
		return fmt.Errorf("webpush: encrypting: %w", err)
	}
	now := p.now()
	auth, err := sg.header(sub.origin, now)
	if err != nil {
		return fmt.Errorf("webpush: signing the VAPID JWT: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webpush: %w", err)
	}
	h := req.Header
	h.Set("Content-Encoding", "aes128gcm")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("TTL", strconv.FormatInt(int64(p.ttlOf(d, now)/time.Second), 10))
	h.Set("Topic", topicOf(d.ID))
	h.Set("Urgency", urgencyOf(d, plain))
	h.Set("Authorization", auth)
	resp, err := p.client.Do(req)
	if err != nil {
		// Everything before the request was checked above, so this is
		// the network: worth another try.
		return &push.RetryError{Err: fmt.Errorf("webpush: %w", err)}
	}
	return answerOf(resp, now)
}

// subscription is a checked Web Push subscription.
type subscription struct {
	endpoint string
	origin   string // scheme://host[:port]: the VAPID JWT's aud
	ua       *ecdh.PublicKey
	auth     []byte
}

// subscriptionOf checks the subscription's endpoint and keys; one that
// cannot be encrypted for can never receive a push, so it is gone.
func subscriptionOf(s push.Subscription) (subscription, error) {
	u, err := url.Parse(s.Token)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return subscription{}, fmt.Errorf("webpush: endpoint is not an http(s) URL: %w", push.ErrGone)
	}
	ua, auth, err := subscriptionKeys(s.WebP256dh, s.WebAuth)
	if err != nil {
		return subscription{}, fmt.Errorf("webpush: %v: %w", err, push.ErrGone)
	}
	return subscription{endpoint: s.Token, origin: u.Scheme + "://" + u.Host, ua: ua, auth: auth}, nil
}
