package webpush

import (
	"crypto/ecdsa"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/push"
)

// A VAPID JWT (RFC 8292 §2) is signed for 12 h and reused until an hour
// before it ends: a push service accepts the same token for every push
// within its exp (it is a claim about the sender, not the message), so
// one signature serves thousands of pushes instead of one each — and the
// service, too, verifies it once.
const (
	tokenLife   = 12 * time.Hour
	tokenMargin = time.Hour
	// The caches are cleared when they reach these sizes: the apps'
	// credentials and the push services' origins are few, but an origin
	// comes from a subscription's endpoint, which a client chooses.
	maxSigners       = 256
	maxOriginsPerKey = 64
)

// signerKey is an app's VAPID credentials as stored.
type signerKey struct{ private, public, subject string }

// signer is one app's checked VAPID key and its tokens per origin.
type signer struct {
	key     *ecdsa.PrivateKey
	k       string // the public key, base64url: the header's k=
	subject string

	mu     sync.Mutex
	tokens map[string]token // by audience origin
}

type token struct {
	header  string // "vapid t=<JWT>, k=<key>"
	refresh time.Time
}

// signers caches the checked credentials: checking them derives the
// public key from the private one, a scalar multiplication per push
// otherwise.
type signers struct {
	mu sync.Mutex
	m  map[signerKey]*signer
}

// get returns c's signer, checking c the first time. Errors are not
// cached: bad credentials are fixed by the app's owner, and then differ.
func (s *signers) get(c *push.Credentials) (*signer, error) {
	if c == nil {
		return nil, errNoVAPID
	}
	k := signerKey{c.VAPIDPrivateKey, c.VAPIDPublicKey, c.VAPIDSubject}
	s.mu.Lock()
	sg := s.m[k]
	s.mu.Unlock()
	if sg != nil {
		return sg, nil
	}
	v, err := vapidOf(c)
	if err != nil {
		return nil, err
	}
	sg = &signer{key: v.key, k: v.public, subject: v.subject, tokens: map[string]token{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxSigners {
		s.m = map[signerKey]*signer{}
	}
	if old := s.m[k]; old != nil {
		return old, nil // another push checked them meanwhile: share its tokens
	}
	s.m[k] = sg
	return sg, nil
}

// header is the Authorization header for a push to origin at now: the
// cached token while it has more than tokenMargin left, else a new one.
func (sg *signer) header(origin string, now time.Time) (string, error) {
	sg.mu.Lock()
	t, ok := sg.tokens[origin]
	sg.mu.Unlock()
	if ok && now.Before(t.refresh) {
		return t.header, nil
	}
	exp := now.Add(tokenLife)
	jwtString, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"aud": origin,
		"exp": exp.Unix(),
		"sub": sg.subject,
	}).SignedString(sg.key)
	if err != nil {
		return "", err
	}
	t = token{header: "vapid t=" + jwtString + ", k=" + sg.k, refresh: exp.Add(-tokenMargin)}
	sg.mu.Lock()
	if len(sg.tokens) >= maxOriginsPerKey {
		clear(sg.tokens)
	}
	sg.tokens[origin] = t
	sg.mu.Unlock()
	return t.header, nil
}
