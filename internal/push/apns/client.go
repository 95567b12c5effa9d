package apns

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
)

// client is one key's APNs client: its token (a JWT apns2 signs once and
// refreshes before the hour APNs allows) and the HTTP client whose
// connections it keeps open. Both hosts share them.
type client struct {
	tok  *token.Token
	http *http.Client
}

type cacheKey struct {
	keyID, teamID string
	keyHash       [sha256.Size]byte
}

// clientCache keeps one client per (key id, team id, key): a new JWT per
// push would be refused by APNs (TooManyProviderTokenUpdates) and a new
// connection per push is what Apple calls a denial of service.
type clientCache struct {
	shared *http.Client // Config.Client; nil: one apns2 client per key
	mu     sync.Mutex
	m      map[cacheKey]*client
}

func newClientCache(shared *http.Client) *clientCache {
	return &clientCache{shared: shared, m: map[cacheKey]*client{}}
}

func (cc *clientCache) get(p8 []byte, keyID, teamID string) (*client, error) {
	k := cacheKey{keyID: keyID, teamID: teamID, keyHash: sha256.Sum256(p8)}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c := cc.m[k]; c != nil {
		return c, nil
	}
	key, err := token.AuthKeyFromBytes(p8)
	if err != nil {
		// Never the key itself in the error: it is a secret.
		return nil, errors.New("apns: the application's .p8 key is not a PKCS#8 PEM ECDSA key")
	}
	tok := &token.Token{AuthKey: key, KeyID: keyID, TeamID: teamID}
	var hc *http.Client
	if cc.shared != nil {
		c := *cc.shared
		hc = &c
	} else {
		hc = apns2.NewTokenClient(tok).HTTPClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &capture{base: base}
	// A rotated key replaces its predecessor instead of piling up.
	for old, c := range cc.m {
		if old.keyID == keyID && old.teamID == teamID {
			c.http.CloseIdleConnections()
			delete(cc.m, old)
		}
	}
	c := &client{tok: tok, http: hc}
	cc.m[k] = c
	return c, nil
}

// sent is what the capture transport saw of one exchange: apns2's
// Response has neither the bearer it sent nor the Retry-After it got.
type sent struct {
	bearer     string
	retryAfter string
}

type sentKey struct{}

// capture records, for the request's sent (in its context), the
// authorization it carried and the Retry-After of its answer.
type capture struct{ base http.RoundTripper }

func (t *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	s, _ := r.Context().Value(sentKey{}).(*sent)
	if s != nil {
		s.bearer = r.Header.Get("Authorization")
	}
	res, err := t.base.RoundTrip(r)
	if s != nil && res != nil {
		s.retryAfter = res.Header.Get("Retry-After")
	}
	return res, err
}

// push sends n to host through apns2.
func (c *client) push(ctx context.Context, host string, n *apns2.Notification) (*apns2.Response, *sent, error) {
	s := &sent{}
	ac := &apns2.Client{Host: host, Token: c.tok, HTTPClient: c.http}
	res, err := ac.PushWithContext(context.WithValue(ctx, sentKey{}, s), n)
	return res, s, err
}

// expire makes the next push sign a new JWT, unless another push has
// already replaced the one APNs called expired.
func (c *client) expire(bearer string) {
	c.tok.Lock()
	defer c.tok.Unlock()
	if "bearer "+c.tok.Bearer == bearer {
		c.tok.IssuedAt = 0
	}
}
