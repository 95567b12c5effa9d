// Package fcm sends pushes of the gcm channel through the FCM HTTP v1 API
// (https://firebase.google.com/docs/cloud-messaging/send/v1-api),
// authenticating with the application's service-account key (OAuth 2.0
// JWT bearer grant).
package fcm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/push"
)

// DefaultEndpoint is FCM's API root.
const DefaultEndpoint = "https://fcm.googleapis.com"

// Config configures a Provider.
type Config struct {
	// Endpoint is the API root; DefaultEndpoint when empty.
	Endpoint string
	// Client sends both the token requests and the sends; a client with
	// a 30-second timeout when nil.
	Client *http.Client
}

// Provider sends gcm pushes. It is safe for concurrent use.
type Provider struct {
	endpoint string
	client   *http.Client
	tokens   *tokens
	now      func() time.Time
}

// New makes a Provider.
func New(cfg Config) *Provider {
	p := &Provider{
		endpoint: strings.TrimRight(cfg.Endpoint, "/"),
		client:   cfg.Client,
		now:      time.Now,
	}
	if p.endpoint == "" {
		p.endpoint = DefaultEndpoint
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: 30 * time.Second}
	}
	p.tokens = newTokens(p.client)
	return p
}

// Send sends one push (push.Provider).
func (p *Provider) Send(ctx context.Context, d push.Delivery) error {
	if d.Creds == nil || len(d.Creds.FCMServiceAccount) == 0 {
		return push.ErrNoCredentials
	}
	src, err := p.tokens.source(d.Creds.FCMServiceAccount)
	if err != nil {
		return err
	}
	body, err := p.body(d)
	if err != nil {
		return err
	}
	tok, err := src.token(ctx, p.client)
	if err != nil {
		return tokenError(err)
	}
	u := p.endpoint + "/v1/projects/" + url.PathEscape(src.project) + "/messages:send"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fcm: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := p.client.Do(req)
	if err != nil {
		// The URL in the error names the project, never a secret.
		return &push.RetryError{Err: fmt.Errorf("fcm: send: %w", err)}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	err = answer(resp, excerpt, p.now())
	if resp.StatusCode == http.StatusUnauthorized {
		src.drop(tok) // expired or revoked early: the next try fetches a new one
	}
	return err
}

// body is the request body: {"message": …}.
func (p *Provider) body(d push.Delivery) ([]byte, error) {
	if d.Sub.Token == "" {
		return nil, fmt.Errorf("fcm: subscription %d has no device token: %w", d.Sub.ID, push.ErrGone)
	}
	var msg any
	if d.Raw != nil {
		r, err := raw(d)
		if err != nil {
			return nil, err
		}
		msg = r
	} else {
		msg = universal(d, p.now())
	}
	return json.Marshal(struct {
		Message any `json:"message"`
	}{msg})
}

// tokenError classifies a failed token fetch: the token endpoint's 429
// and 5xx, network failures and timeouts are worth a retry; a refused
// grant (a revoked or malformed key) is final.
func tokenError(err error) error {
	if rerr, ok := asRetrieve(err); ok {
		code := rerr.Response.StatusCode
		if code == http.StatusTooManyRequests || code >= 500 {
			return &push.RetryError{After: push.RetryAfter(rerr.Response.Header.Get("Retry-After"), time.Now()),
				Err: fmt.Errorf("fcm: token endpoint answered %d", code)}
		}
		return fmt.Errorf("fcm: token endpoint refused the service account: %d %s", code, excerptOf(rerr.Body))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &push.RetryError{Err: fmt.Errorf("fcm: token: %w", err)}
	}
	// The remaining failures of the fetch are the network's (oauth2
	// formats them as strings) or a malformed answer: retry.
	return &push.RetryError{Err: fmt.Errorf("fcm: token: %v", err)}
}
