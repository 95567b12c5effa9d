// Package pushtest has local stand-ins for the push services, for tests:
// each checks requests as the real service does and records what it
// accepted.
package pushtest

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/push"
)

// WebPush is a local Web Push service (RFC 8030) on 127.0.0.1. It checks
// each push's VAPID authorization (RFC 8292) and decrypts its body (RFC
// 8291) with the browser-side keys of the subscription it made.
type WebPush struct {
	// URL is the service's base URL (http://127.0.0.1:port).
	URL string

	srv  *httptest.Server
	done chan struct{} // closed at cleanup: ends hanging requests

	mu         sync.Mutex
	subs       map[string]*wpSub // by URL path
	vapidKey   string            // when set, every push must be signed by it
	tokens     vapidCache        // the VAPID JWTs verified so far
	global     []wpFault         // answers queued for any subscription
	received   []Push
	rejections []WebPushRejection
	changed    chan struct{} // closed and replaced when a push is received
}

// Browser is a subscription as the browser's PushSubscription.toJSON()
// gives it: the endpoint and its keys, base64url without padding.
type Browser struct {
	Endpoint, P256dh, Auth string
}

// Subscription is b as Parley stores a web subscription.
func (b Browser) Subscription() push.Subscription {
	return push.Subscription{
		Channel: push.Web, Platform: "web", Environment: push.Production,
		Token: b.Endpoint, WebP256dh: b.P256dh, WebAuth: b.Auth,
	}
}

// Push is one push the service accepted, decrypted.
type Push struct {
	Endpoint string
	Payload  []byte
	Topic    string // "" when the request had none
	Urgency  string // "" when the request had none ("normal")
	TTL      time.Duration
}

// WebPushRejection is a request the service refused, and why.
type WebPushRejection struct {
	Endpoint string
	Status   int
	Reason   string
}

type wpSub struct {
	endpoint string
	priv     *ecdh.PrivateKey
	auth     []byte
	gone     bool      // unsubscribed: 410 from now on
	faults   []wpFault // answers queued for this subscription
}

// wpFault is one programmed answer instead of accepting a push.
type wpFault struct {
	status     int
	retryAfter string
	hang       bool
}

// NewWebPush starts a Web Push service, closed when t ends.
func NewWebPush(t testing.TB) *WebPush {
	w := &WebPush{
		done:    make(chan struct{}),
		subs:    map[string]*wpSub{},
		changed: make(chan struct{}),
	}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	w.URL = w.srv.URL
	t.Cleanup(func() {
		close(w.done) // first: Close waits for the requests in flight
		w.srv.Close()
	})
	return w
}

// NewSubscription makes a browser-side key pair and auth secret and a
// subscription to push them to, at an endpoint of its own.
func (w *WebPush) NewSubscription() Browser {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	auth := make([]byte, 16)
	id := make([]byte, 16)
	rand.Read(auth)
	rand.Read(id)
	path := "/push/" + base64.RawURLEncoding.EncodeToString(id)
	s := &wpSub{endpoint: w.URL + path, priv: priv, auth: auth}
	w.mu.Lock()
	w.subs[path] = s
	w.mu.Unlock()
	return Browser{
		Endpoint: s.endpoint,
		P256dh:   base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(auth),
	}
}

// SetVAPIDKey makes the service refuse (403) a push not signed with the
// application server key k (base64url), as for a subscription the
// browser made with that applicationServerKey.
func (w *WebPush) SetVAPIDKey(k string) {
	w.mu.Lock()
	w.vapidKey = k
	w.mu.Unlock()
}

// Unsubscribe ends a subscription: its endpoint answers 410 Gone.
func (w *WebPush) Unsubscribe(endpoint string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.subByEndpoint(endpoint); s != nil {
		s.gone = true
	}
}

// FailNext makes the next n valid pushes to endpoint ("" for any
// subscription) answer status, with a Retry-After header when
// retryAfter is not "". A subscription's own answers come first.
func (w *WebPush) FailNext(endpoint string, n, status int, retryAfter string) {
	w.queue(endpoint, n, wpFault{status: status, retryAfter: retryAfter})
}

// HangNext makes the next n valid pushes to endpoint ("" for any) get no
// answer until the sender gives up (its request's context ends).
func (w *WebPush) HangNext(endpoint string, n int) {
	w.queue(endpoint, n, wpFault{hang: true})
}

func (w *WebPush) queue(endpoint string, n int, f wpFault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := &w.global
	if endpoint != "" {
		s := w.subByEndpoint(endpoint)
		if s == nil {
			panic("pushtest: no subscription " + endpoint)
		}
		q = &s.faults
	}
	for range n {
		*q = append(*q, f)
	}
}

func (w *WebPush) subByEndpoint(endpoint string) *wpSub {
	return w.subs[strings.TrimPrefix(endpoint, w.URL)]
}

// Received returns the pushes accepted so far, in order.
func (w *WebPush) Received() []Push {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Push(nil), w.received...)
}

// Rejections returns the requests refused so far, in order.
func (w *WebPush) Rejections() []WebPushRejection {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WebPushRejection(nil), w.rejections...)
}

// Wait returns the pushes accepted once there are at least n, or what
// there is and ctx's error when ctx ends first.
func (w *WebPush) Wait(ctx context.Context, n int) ([]Push, error) {
	for {
		// Copied only once there are enough: a wait for thousands of
		// pushes would otherwise copy the list at every one.
		w.mu.Lock()
		have, changed := len(w.received), w.changed
		w.mu.Unlock()
		if have >= n {
			return w.Received(), nil
		}
		select {
		case <-ctx.Done():
			got := w.Received()
			return got, fmt.Errorf("pushtest: %d of %d pushes: %w", len(got), n, ctx.Err())
		case <-changed:
		}
	}
}

// maxBody is the largest body a push service must take (RFC 8030 §7.2);
// the real ones refuse more with 413.
const maxBody = 4096

func (w *WebPush) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	s := w.subs[r.URL.Path]
	wantKey := w.vapidKey
	w.mu.Unlock()
	refuse := func(status int, reason string) {
		w.mu.Lock()
		w.rejections = append(w.rejections, WebPushRejection{Endpoint: w.URL + r.URL.Path, Status: status, Reason: reason})
		w.mu.Unlock()
		http.Error(rw, reason, status)
	}
	if s == nil {
		refuse(http.StatusNotFound, "no such subscription")
		return
	}
	w.mu.Lock()
	gone := s.gone
	w.mu.Unlock()
	if gone {
		refuse(http.StatusGone, "subscription expired or unsubscribed")
		return
	}
	p, status, reason := w.check(r, s, wantKey)
	if status != 0 {
		refuse(status, reason)
		return
	}
	if f, ok := w.nextFault(s); ok {
		if f.hang {
			select {
			case <-r.Context().Done():
			case <-w.done:
			}
			return
		}
		if f.retryAfter != "" {
			rw.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(rw, http.StatusText(f.status), f.status)
		return
	}
	w.mu.Lock()
	w.received = append(w.received, p)
	n := len(w.received)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	// As the real services: 201 and the push message resource.
	rw.Header().Set("Location", w.URL+"/message/"+strconv.Itoa(n))
	rw.WriteHeader(http.StatusCreated)
}

// check checks one push request (RFC 8030 §5, RFC 8291, RFC 8292) and
// decrypts it; a non-zero status is the refusal.
func (w *WebPush) check(r *http.Request, s *wpSub, wantKey string) (Push, int, string) {
	if r.Method != http.MethodPost {
		return Push{}, http.StatusMethodNotAllowed, "a push is a POST"
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return Push{}, http.StatusBadRequest, fmt.Sprintf("Content-Encoding %q, not aes128gcm", ce)
	}
	ttlHeader := r.Header.Get("TTL")
	ttl, err := strconv.ParseInt(ttlHeader, 10, 64)
	if err != nil || ttl < 0 {
		return Push{}, http.StatusBadRequest, fmt.Sprintf("TTL header missing or not delta-seconds: %q", ttlHeader)
	}
	topic := r.Header.Get("Topic")
	if len(topic) > 32 || strings.Trim(topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return Push{}, http.StatusBadRequest, fmt.Sprintf("Topic %q is not at most 32 base64url characters", topic)
	}
	urgency := r.Header.Get("Urgency")
	switch urgency {
	case "", "very-low", "low", "normal", "high":
	default:
		return Push{}, http.StatusBadRequest, fmt.Sprintf("Urgency %q", urgency)
	}
	u := w.srv.URL // the endpoint's origin: scheme://host:port
	if status, reason := w.tokens.check(r, u, wantKey, time.Now()); status != 0 {
		return Push{}, status, reason
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return Push{}, http.StatusBadRequest, "reading the body: " + err.Error()
	}
	if len(body) > maxBody {
		return Push{}, http.StatusRequestEntityTooLarge, "body over 4096 bytes"
	}
	payload, err := Decrypt(body, s.priv, s.auth)
	if err != nil {
		return Push{}, http.StatusBadRequest, "decrypting: " + err.Error()
	}
	return Push{
		Endpoint: s.endpoint, Payload: payload, Topic: topic, Urgency: urgency,
		TTL: time.Duration(ttl) * time.Second,
	}, 0, ""
}

// nextFault takes the next programmed answer, the subscription's first.
func (w *WebPush) nextFault(s *wpSub) (wpFault, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range []*[]wpFault{&s.faults, &w.global} {
		if len(*q) > 0 {
			f := (*q)[0]
			*q = (*q)[1:]
			return f, true
		}
	}
	return wpFault{}, false
}
