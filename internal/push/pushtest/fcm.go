package pushtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FCM is a local stand-in for Google's OAuth 2.0 token endpoint and the
// FCM HTTP v1 send endpoint, checking requests as Google does. It serves
// on 127.0.0.1 and closes when the test ends.
type FCM struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	keyID    string
	project  string
	email    string
	tokenURL string
	account  []byte

	mu           sync.Mutex
	cond         *sync.Cond
	tokens       map[string]time.Time // access token → expiry
	tokenCount   int
	received     []Message
	unregistered map[string]bool
	invalid      map[string]bool
	failures     []failure
	hang         bool
}

type failure struct {
	status     int
	retryAfter string
}

// Message is one message the send endpoint accepted.
type Message struct {
	Project      string
	Token        string
	Data         map[string]string
	Notification map[string]any
	Android      map[string]any
	// JSON is the "message" object as received.
	JSON json.RawMessage
}

// NewFCM starts the endpoints with a fresh service account.
func NewFCM(t testing.TB) *FCM {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	f := &FCM{
		key:          key,
		keyID:        hex.EncodeToString(id),
		project:      "parley-test",
		email:        "parley-push@parley-test.iam.gserviceaccount.com",
		tokens:       map[string]time.Time{},
		unregistered: map[string]bool{},
		invalid:      map[string]bool{},
	}
	f.cond = sync.NewCond(&f.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.serveToken)
	mux.HandleFunc("POST /v1/projects/{rest...}", f.serveSend)
	f.srv = httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Listener.Close()
	f.srv.Listener = l
	f.srv.Start()
	t.Cleanup(f.close)
	f.tokenURL = f.srv.URL + "/token"

	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f.account, err = json.Marshal(map[string]string{
		"type":                        "service_account",
		"project_id":                  f.project,
		"private_key_id":              f.keyID,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                f.email,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   f.tokenURL,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *FCM) close() {
	f.mu.Lock()
	f.hang = false
	f.cond.Broadcast()
	f.mu.Unlock()
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// ServiceAccount is the service-account JSON key (token_uri points at the
// local token endpoint).
func (f *FCM) ServiceAccount() []byte { return bytes.Clone(f.account) }

// Endpoint is the API root for fcm.Config.Endpoint.
func (f *FCM) Endpoint() string { return f.srv.URL }

// TokenURL is the token endpoint's URL (the JWT's audience).
func (f *FCM) TokenURL() string { return f.tokenURL }

// Project is the service account's project id.
func (f *FCM) Project() string { return f.project }

// ClientEmail is the service account's email (the JWT's issuer).
func (f *FCM) ClientEmail() string { return f.email }

// Client is an HTTP client for the endpoints.
func (f *FCM) Client() *http.Client { return f.srv.Client() }

// TokenRequests counts the access tokens issued.
func (f *FCM) TokenRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCount
}

// Received gives the accepted messages, in order.
func (f *FCM) Received() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.received...)
}

// Wait waits until n messages have been accepted, or ctx ends.
func (f *FCM) Wait(ctx context.Context, n int) ([]Message, error) {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.received) < n {
		if err := ctx.Err(); err != nil {
			return append([]Message(nil), f.received...), fmt.Errorf("pushtest: %d of %d FCM messages: %w", len(f.received), n, err)
		}
		f.cond.Wait()
	}
	return append([]Message(nil), f.received...), nil
}

// Unregister makes sends to these device tokens answer 404 UNREGISTERED.
func (f *FCM) Unregister(tokens ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range tokens {
		f.unregistered[t] = true
	}
}

// Invalid makes sends to these device tokens answer 400 INVALID_ARGUMENT
// "The registration token is not a valid FCM registration token".
func (f *FCM) Invalid(tokens ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range tokens {
		f.invalid[t] = true
	}
}

// FailNext makes the next n sends (after authentication) answer status
// (429, 503, …) with a Retry-After of retryAfter when it is not empty.
func (f *FCM) FailNext(n, status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{status, retryAfter})
	}
}

// Hang makes sends wait, unanswered, until their request ends (or until
// Hang(false)).
func (f *FCM) Hang(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = on
	f.cond.Broadcast()
}

// RevokeTokens invalidates every access token issued so far: sends using
// one answer 401, as after a key is disabled or a token expires early.
func (f *FCM) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

// serveToken is Google's token endpoint for the JWT bearer grant
// (RFC 7523).
func (f *FCM) serveToken(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, "invalid_request", "expected a form")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "unreadable form")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported_grant_type", "Invalid grant_type: "+g)
		return
	}
	if err := f.checkAssertion(r.PostForm.Get("assertion")); err != nil {
		oauthError(w, "invalid_grant", err.Error())
		return
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := "ya29.test-" + hex.EncodeToString(b)
	f.mu.Lock()
	f.tokens[tok] = time.Now().Add(time.Hour)
	f.tokenCount++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// checkAssertion verifies a grant's JWT as Google does: RS256 by the
// service account's key, iss the client email, aud the token URL, a
// firebase.messaging scope, and a lifetime of at most an hour.
func (f *FCM) checkAssertion(assertion string) error {
	var claims struct {
		jwt.RegisteredClaims
		Scope string `json:"scope"`
	}
	tok, err := jwt.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		if kid, ok := t.Header["kid"].(string); ok && kid != f.keyID {
			return nil, fmt.Errorf("unknown key id")
		}
		return &f.key.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(f.email),
		jwt.WithAudience(f.tokenURL),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(time.Minute),
	)
	if err != nil {
		return fmt.Errorf("Invalid JWT Signature or claims: %v", err)
	}
	if !tok.Valid || claims.IssuedAt == nil {
		return fmt.Errorf("Invalid JWT: no iat")
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life <= 0 || life > time.Hour {
		return fmt.Errorf("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe")
	}
	if !strings.Contains(claims.Scope, "https://www.googleapis.com/auth/firebase.messaging") {
		return fmt.Errorf("Invalid OAuth scope or ID token audience provided")
	}
	return nil
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

var sendPath = regexp.MustCompile(`^/v1/projects/([^/]+)/messages:send$`)

// The fields FCM v1 knows; any other is refused ("Unknown name").
var (
	requestFields      = fields("message", "validate_only")
	messageFields      = fields("name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token", "topic", "condition")
	notificationFields = fields("title", "body", "image")
	androidFields      = fields("collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification", "fcm_options", "direct_boot_ok")
	androidNoteFields  = fields("title", "body", "icon", "color", "sound", "tag", "click_action",
		"body_loc_key", "body_loc_args", "title_loc_key", "title_loc_args", "channel_id", "ticker",
		"sticky", "event_time", "local_only", "notification_priority", "default_sound",
		"default_vibrate_timings", "default_light_settings", "vibrate_timings", "visibility",
		"notification_count", "light_settings", "image", "bypass_proxy_notification", "proxy")
	ttlFormat = regexp.MustCompile(`^\d+(\.\d{1,9})?s$`)
)

func fields(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// serveSend is projects.messages.send.
func (f *FCM) serveSend(w http.ResponseWriter, r *http.Request) {
	m := sendPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.", nil)
		return
	}
	if !f.waitHang(r.Context()) {
		return
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	exp, known := f.tokens[bearer]
	f.mu.Unlock()
	if !ok || !known || time.Now().After(exp) {
		fcmError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", nil)
		return
	}
	if m[1] != f.project {
		fcmError(w, http.StatusForbidden, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied on resource", nil)
		return
	}
	if fl, ok := f.nextFailure(); ok {
		if fl.retryAfter != "" {
			w.Header().Set("Retry-After", fl.retryAfter)
		}
		status := map[int]string{429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}[fl.status]
		if status == "" {
			status = "INTERNAL"
		}
		fcmError(w, fl.status, status, "The service is currently unavailable.", nil)
		return
	}
	msg, err := parseSend(r)
	if err != nil {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error(), nil)
		return
	}
	msg.Project = m[1]
	f.mu.Lock()
	unregistered, invalid := f.unregistered[msg.Token], f.invalid[msg.Token]
	f.mu.Unlock()
	switch {
	case unregistered:
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.",
			[]any{map[string]string{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}})
		return
	case invalid:
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token",
			[]any{
				map[string]string{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"},
				map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest",
					"fieldViolations": []any{map[string]string{"field": "message.token", "description": "Invalid registration token"}}},
			})
		return
	}
	f.mu.Lock()
	f.received = append(f.received, msg)
	n := len(f.received)
	f.cond.Broadcast()
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]string{"name": "projects/" + m[1] + "/messages/0:" + strconv.Itoa(n)})
}

// waitHang holds a send while Hang is on; false when the request ended.
func (f *FCM) waitHang(ctx context.Context) bool {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.hang {
		if ctx.Err() != nil {
			return false
		}
		f.cond.Wait()
	}
	return ctx.Err() == nil
}

func (f *FCM) nextFailure() (failure, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failures) == 0 {
		return failure{}, false
	}
	fl := f.failures[0]
	f.failures = f.failures[1:]
	return fl, true
}

// parseSend reads and checks a send's body as FCM does.
func parseSend(r *http.Request) (Message, error) {
	var req map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return Message{}, fmt.Errorf("Invalid JSON payload received. %v", err)
	}
	if err := known("", req, requestFields); err != nil {
		return Message{}, err
	}
	raw, ok := req["message"]
	if !ok {
		return Message{}, fmt.Errorf("Request contains an invalid argument: message is required")
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(raw, &msg); err != nil {
		return Message{}, fmt.Errorf("Invalid JSON payload received. message: %v", err)
	}
	if err := known("message.", msg, messageFields); err != nil {
		return Message{}, err
	}
	targets := 0
	for _, k := range []string{"token", "topic", "condition"} {
		if _, ok := msg[k]; ok {
			targets++
		}
	}
	if targets != 1 {
		return Message{}, fmt.Errorf("Request contains an invalid argument: exactly one of token, topic or condition is required")
	}
	out := Message{JSON: bytes.Clone(raw)}
	if t, ok := msg["token"]; ok {
		if err := json.Unmarshal(t, &out.Token); err != nil || out.Token == "" {
			return Message{}, fmt.Errorf("The registration token is not a valid FCM registration token")
		}
	}
	if d, ok := msg["data"]; ok {
		if err := json.Unmarshal(d, &out.Data); err != nil {
			return Message{}, fmt.Errorf("Invalid value at 'message.data': data values must be strings: %v", err)
		}
	}
	if n, ok := msg["notification"]; ok {
		var note map[string]json.RawMessage
		if err := json.Unmarshal(n, &note); err != nil {
			return Message{}, fmt.Errorf("Invalid value at 'message.notification': %v", err)
		}
		if err := known("message.notification.", note, notificationFields); err != nil {
			return Message{}, err
		}
		for k, v := range note {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return Message{}, fmt.Errorf("Invalid value at 'message.notification.%s' (TYPE_STRING)", k)
			}
		}
		_ = json.Unmarshal(n, &out.Notification)
	}
	if a, ok := msg["android"]; ok {
		if err := checkAndroid(a); err != nil {
			return Message{}, err
		}
		_ = json.Unmarshal(a, &out.Android)
	}
	return out, nil
}

func checkAndroid(a json.RawMessage) error {
	var and map[string]json.RawMessage
	if err := json.Unmarshal(a, &and); err != nil {
		return fmt.Errorf("Invalid value at 'message.android': %v", err)
	}
	if err := known("message.android.", and, androidFields); err != nil {
		return err
	}
	if p, ok := and["priority"]; ok {
		var s string
		if json.Unmarshal(p, &s) != nil || (s != "normal" && s != "high" && s != "NORMAL" && s != "HIGH") {
			return fmt.Errorf("Invalid value at 'message.android.priority': %s", p)
		}
	}
	if t, ok := and["ttl"]; ok {
		var s string
		if json.Unmarshal(t, &s) != nil || !ttlFormat.MatchString(s) {
			return fmt.Errorf("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration): %s", t)
		}
	}
	for _, k := range []string{"collapse_key", "restricted_package_name"} {
		if v, ok := and[k]; ok {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return fmt.Errorf("Invalid value at 'message.android.%s' (TYPE_STRING)", k)
			}
		}
	}
	if d, ok := and["data"]; ok {
		var data map[string]string
		if err := json.Unmarshal(d, &data); err != nil {
			return fmt.Errorf("Invalid value at 'message.android.data': %v", err)
		}
	}
	if n, ok := and["notification"]; ok {
		var note map[string]json.RawMessage
		if err := json.Unmarshal(n, &note); err != nil {
			return fmt.Errorf("Invalid value at 'message.android.notification': %v", err)
		}
		if err := known("message.android.notification.", note, androidNoteFields); err != nil {
			return err
		}
	}
	return nil
}

func known(prefix string, obj map[string]json.RawMessage, allowed map[string]bool) error {
	for k := range obj {
		if !allowed[k] {
			return fmt.Errorf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, strings.TrimSuffix(prefix, "."))
		}
	}
	return nil
}

// fcmError writes FCM v1's error body (google.rpc.Status).
func fcmError(w http.ResponseWriter, code int, status, message string, details []any) {
	body := map[string]any{"code": code, "message": message, "status": status}
	if details != nil {
		body["details"] = details
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}
