// Package pushtest has local stand-ins for the push services (APNs, FCM,
// Web Push endpoints) that check each request as the real service does.
package pushtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// APNsPush is one push the APNs endpoint accepted.
type APNsPush struct {
	Token, Topic, PushType string
	Priority               int // 0: no apns-priority header (APNs' default, 10)
	CollapseID             string
	Expiration             int64 // 0: no apns-expiration header
	Payload                []byte
}

// APNs is a local APNs endpoint: HTTP/2 over TLS, token authentication
// checked as Apple does, errors in APNs' {"reason": …} shape.
type APNs struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	keys     map[string]apnsKey // by key id
	topic    string
	gone     map[string]bool // unregistered device tokens
	failNext []apnsFailure
	hang     bool
	jwts     map[string]bool
	pushes   []APNsPush
	changed  chan struct{} // closed and replaced when a push is recorded
	stop     chan struct{} // closed at cleanup: hanging handlers return
}

type apnsKey struct {
	pub    *ecdsa.PublicKey
	teamID string
}

type apnsFailure struct {
	status     int
	reason     string
	retryAfter string
}

// NewAPNs starts an endpoint, closed when the test ends.
func NewAPNs(t testing.TB) *APNs {
	a := &APNs{
		t:       t,
		keys:    map[string]apnsKey{},
		gone:    map[string]bool{},
		jwts:    map[string]bool{},
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
	}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.EnableHTTP2 = true
	a.srv.StartTLS()
	t.Cleanup(func() {
		close(a.stop)
		a.srv.Close()
	})
	return a
}

// URL is the endpoint's base URL, for the provider's Production and
// Development hosts.
func (a *APNs) URL() string { return a.srv.URL }

// Client is an HTTP/2 client that trusts the endpoint's certificate.
func (a *APNs) Client() *http.Client { return a.srv.Client() }

// CAFile writes the endpoint's certificate (PEM) to a file in tb's
// temporary directory and returns its path: the server's --push-ca-file,
// so that its own provider client trusts the endpoint.
func (a *APNs) CAFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "apns-ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw})
	if err := os.WriteFile(path, cert, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Key makes a fresh ECDSA P-256 key, as Apple's .p8 (PKCS#8 PEM), with a
// new key id and team id, and trusts it for the provider tokens.
func (a *APNs) Key() (p8 []byte, keyID, teamID string) {
	a.t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		a.t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		a.t.Fatal(err)
	}
	keyID, teamID = apnsID(), apnsID()
	a.mu.Lock()
	a.keys[keyID] = apnsKey{pub: &k.PublicKey, teamID: teamID}
	a.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), keyID, teamID
}

// apnsID is a 10-character id, as Apple's key and team ids.
func apnsID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// SetTopic sets the bundle id pushes must name (bundle + ".voip" for VoIP
// pushes). Until it is set every topic is refused.
func (a *APNs) SetTopic(bundle string) {
	a.mu.Lock()
	a.topic = bundle
	a.mu.Unlock()
}

// Unregister makes pushes to token answer 410 Unregistered.
func (a *APNs) Unregister(token string) {
	a.mu.Lock()
	a.gone[token] = true
	a.mu.Unlock()
}

// FailNext makes the next n valid requests answer status with reason
// (429 TooManyRequests, 503 ServiceUnavailable, …), with a Retry-After
// header when retryAfter is not "".
func (a *APNs) FailNext(n, status int, reason, retryAfter string) {
	a.mu.Lock()
	for range n {
		a.failNext = append(a.failNext, apnsFailure{status, reason, retryAfter})
	}
	a.mu.Unlock()
}

// Hang makes valid requests wait, unanswered, until they end (the
// client gives up) or the test does.
func (a *APNs) Hang(on bool) {
	a.mu.Lock()
	a.hang = on
	a.mu.Unlock()
}

// Received returns the accepted pushes, in order.
func (a *APNs) Received() []APNsPush {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]APNsPush(nil), a.pushes...)
}

// Wait waits until at least n pushes were accepted and returns them, or
// fails with ctx's error.
func (a *APNs) Wait(ctx context.Context, n int) ([]APNsPush, error) {
	for {
		a.mu.Lock()
		if len(a.pushes) >= n {
			p := append([]APNsPush(nil), a.pushes...)
			a.mu.Unlock()
			return p, nil
		}
		ch := a.changed
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("pushtest: %d APNs pushes, waiting for %d: %w", len(a.Received()), n, ctx.Err())
		}
	}
}

// JWTs counts the distinct valid provider tokens seen: a provider must
// reuse its token (APNs refuses one renewed more than about every 20
// minutes).
func (a *APNs) JWTs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.jwts)
}

// apnsReject is an APNs error answer.
type apnsReject struct {
	status int
	reason string
}

func (a *APNs) serve(w http.ResponseWriter, r *http.Request) {
	p, rej := a.check(r)
	if rej != nil {
		apnsError(w, rej.status, rej.reason, "")
		return
	}

	a.mu.Lock()
	hang, gone := a.hang, a.gone[p.Token]
	var fail *apnsFailure
	if !hang && !gone && len(a.failNext) > 0 {
		fail = &a.failNext[0]
		a.failNext = a.failNext[1:]
	}
	a.mu.Unlock()
	switch {
	case hang:
		select {
		case <-r.Context().Done():
		case <-a.stop:
		}
		return
	case gone:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGone)
		_ = json.NewEncoder(w).Encode(map[string]any{"reason": "Unregistered", "timestamp": time.Now().UnixMilli()})
		return
	case fail != nil:
		apnsError(w, fail.status, fail.reason, fail.retryAfter)
		return
	}

	a.mu.Lock()
	a.pushes = append(a.pushes, *p)
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
	w.Header().Set("apns-id", apnsUUID())
	w.WriteHeader(http.StatusOK)
}

// check validates a request as APNs does and returns what it carries.
func (a *APNs) check(r *http.Request) (*APNsPush, *apnsReject) {
	if r.ProtoMajor != 2 {
		// APNs speaks HTTP/2 only.
		return nil, &apnsReject{http.StatusHTTPVersionNotSupported, "HTTP2Required"}
	}
	if r.Method != http.MethodPost {
		return nil, &apnsReject{http.StatusMethodNotAllowed, "MethodNotAllowed"}
	}
	tok, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if !ok {
		return nil, &apnsReject{http.StatusNotFound, "BadPath"}
	}
	if tok == "" {
		return nil, &apnsReject{http.StatusBadRequest, "MissingDeviceToken"}
	}
	if _, err := hex.DecodeString(tok); err != nil {
		return nil, &apnsReject{http.StatusBadRequest, "BadDeviceToken"}
	}
	if rej := a.checkJWT(r.Header.Get("Authorization")); rej != nil {
		return nil, rej
	}

	p := &APNsPush{Token: tok, Topic: r.Header.Get("apns-topic"), PushType: r.Header.Get("apns-push-type"),
		CollapseID: r.Header.Get("apns-collapse-id")}
	a.mu.Lock()
	want := a.topic
	a.mu.Unlock()
	voip := strings.HasSuffix(p.Topic, ".voip")
	switch {
	case p.Topic == "":
		return nil, &apnsReject{http.StatusBadRequest, "MissingTopic"}
	case want == "" || (p.Topic != want && p.Topic != want+".voip"):
		return nil, &apnsReject{http.StatusBadRequest, "TopicDisallowed"}
	}
	switch p.PushType {
	case "alert", "background":
		if voip {
			return nil, &apnsReject{http.StatusBadRequest, "InvalidPushType"}
		}
	case "voip":
		if !voip {
			return nil, &apnsReject{http.StatusBadRequest, "InvalidPushType"}
		}
	default:
		return nil, &apnsReject{http.StatusBadRequest, "InvalidPushType"}
	}
	if h := r.Header.Get("apns-priority"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || (n != 5 && n != 10) || (n == 10 && p.PushType == "background") {
			return nil, &apnsReject{http.StatusBadRequest, "BadPriority"}
		}
		p.Priority = n
	}
	if h := r.Header.Get("apns-expiration"); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n < 0 {
			return nil, &apnsReject{http.StatusBadRequest, "BadExpirationDate"}
		}
		p.Expiration = n
	}
	if len(p.CollapseID) > 64 {
		return nil, &apnsReject{http.StatusBadRequest, "BadCollapseId"}
	}

	limit := 4096
	if p.PushType == "voip" {
		limit = 5120
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, &apnsReject{http.StatusBadRequest, "PayloadEmpty"}
	}
	switch {
	case len(body) == 0:
		return nil, &apnsReject{http.StatusBadRequest, "PayloadEmpty"}
	case len(body) > limit:
		return nil, &apnsReject{http.StatusRequestEntityTooLarge, "PayloadTooLarge"}
	}
	var obj map[string]json.RawMessage
	var aps map[string]any
	if json.Unmarshal(body, &obj) != nil || obj["aps"] == nil || json.Unmarshal(obj["aps"], &aps) != nil || aps == nil {
		// APNs has no reason of its own for a payload that is not JSON
		// with an aps dictionary; this one names it.
		return nil, &apnsReject{http.StatusBadRequest, "BadPayload"}
	}
	p.Payload = body
	return p, nil
}

// checkJWT verifies the provider token: ES256 by a trusted key, kid the
// key id, iss its team, iat within the last hour.
func (a *APNs) checkJWT(auth string) *apnsReject {
	bearer, ok := strings.CutPrefix(auth, "bearer ")
	if !ok || bearer == "" {
		return &apnsReject{http.StatusForbidden, "MissingProviderToken"}
	}
	var team string
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(bearer, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		a.mu.Lock()
		k, ok := a.keys[kid]
		a.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		team = k.teamID
		return k.pub, nil
	}, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil {
		return &apnsReject{http.StatusForbidden, "InvalidProviderToken"}
	}
	if iss, _ := claims["iss"].(string); iss != team {
		return &apnsReject{http.StatusForbidden, "InvalidProviderToken"}
	}
	iat, ok := claims["iat"].(float64)
	now := time.Now()
	switch {
	case !ok || time.Unix(int64(iat), 0).After(now.Add(time.Minute)):
		return &apnsReject{http.StatusForbidden, "InvalidProviderToken"}
	case time.Unix(int64(iat), 0).Before(now.Add(-time.Hour)):
		return &apnsReject{http.StatusForbidden, "ExpiredProviderToken"}
	}
	a.mu.Lock()
	a.jwts[bearer] = true
	a.mu.Unlock()
	return nil
}

func apnsError(w http.ResponseWriter, status int, reason, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"reason": reason})
}

// apnsUUID is an apns-id as APNs makes them (a random UUID).
func apnsUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
