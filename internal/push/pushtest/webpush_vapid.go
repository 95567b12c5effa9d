package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifiedToken is what a verified VAPID JWT says: checked again at
// every use, since a token verified once stays signed but not in date.
type verifiedToken struct {
	aud      []string
	exp, nbf time.Time // nbf zero when absent
	sub      string
}

// vapidCache remembers the VAPID JWTs whose signature verified, by token
// and key, as a push service does: a sender reuses one token for hours,
// and an ES256 verification per push would be most of the service's
// work. Every other check is still made on every request.
type vapidCache struct {
	mu sync.Mutex
	m  map[[2]string]verifiedToken // by [t, k]
}

// maxVerified bounds the cache; it is cleared when full.
const maxVerified = 4096

func (c *vapidCache) get(t, k string) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[[2]string{t, k}]
	return v, ok
}

func (c *vapidCache) put(t, k string, v verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerified {
		c.m = map[[2]string]verifiedToken{}
	}
	c.m[[2]string{t, k}] = v
}

// check checks a request's Authorization as a push service does (RFC
// 8292 §3-4): "vapid t=<JWT>, k=<key>", the JWT ES256-signed by k, aud
// the endpoint's origin, exp in the future and at most 24 h ahead, sub a
// mailto: address or an https URL, and k the expected key when the test
// set one. It returns the status to refuse with (401 when the
// authentication is absent, 403 when it is invalid) and why, or 0.
func (c *vapidCache) check(r *http.Request, origin, wantKey string, now time.Time) (int, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return http.StatusUnauthorized, "no Authorization header"
	}
	scheme, params, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "vapid") {
		return http.StatusUnauthorized, fmt.Sprintf("Authorization scheme is not vapid: %q", scheme)
	}
	var t, k string
	for _, p := range strings.Split(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(name) {
		case "t":
			t = value
		case "k":
			k = value
		}
	}
	if t == "" || k == "" {
		return http.StatusUnauthorized, "vapid authorization without t= and k="
	}
	v, cached := c.get(t, k)
	var key *ecdsa.PublicKey
	if !cached {
		// First sight of this token: k must be a key and the signature
		// its. A token in the cache passed both with this k.
		keyBytes, err := base64.RawURLEncoding.DecodeString(k)
		if err != nil {
			return http.StatusForbidden, "k is not base64url without padding"
		}
		if key, err = ecdsaKey(keyBytes); err != nil {
			return http.StatusForbidden, "k is not a P-256 public key"
		}
	}
	if wantKey != "" && strings.TrimRight(wantKey, "=") != k {
		return http.StatusForbidden, "k is not the subscription's VAPID key"
	}
	if !cached {
		claims := jwt.MapClaims{}
		_, err := jwt.NewParser(
			jwt.WithValidMethods([]string{"ES256"}),
			jwt.WithAudience(origin),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(func() time.Time { return now }),
		).ParseWithClaims(t, claims, func(*jwt.Token) (any, error) { return key, nil })
		if err != nil {
			return http.StatusForbidden, "JWT refused: " + err.Error()
		}
		v.aud, _ = claims.GetAudience()
		exp, _ := claims.GetExpirationTime()
		v.exp = exp.Time
		if nbf, _ := claims.GetNotBefore(); nbf != nil {
			v.nbf = nbf.Time
		}
		v.sub, _ = claims["sub"].(string)
		c.put(t, k, v)
	}
	// Checked on every use, cached or not (the parser checked them too the
	// first time, with the same clock).
	if !slices.Contains(v.aud, origin) {
		return http.StatusForbidden, "JWT refused: token has invalid audience"
	}
	if !now.Before(v.exp) {
		return http.StatusForbidden, "JWT refused: token is expired"
	}
	if now.Before(v.nbf) {
		return http.StatusForbidden, "JWT refused: token is not valid yet"
	}
	if v.exp.Sub(now) > 24*time.Hour {
		return http.StatusForbidden, "JWT exp more than 24 hours ahead"
	}
	if !validSubject(v.sub) {
		return http.StatusForbidden, fmt.Sprintf("JWT sub is neither a mailto: address nor an https URL: %q", v.sub)
	}
	return 0, ""
}

// validSubject: "mailto:" and one address, or an https URL (RFC 8292 §2.1).
func validSubject(sub string) bool {
	if addr, ok := strings.CutPrefix(sub, "mailto:"); ok {
		a, err := mail.ParseAddress(addr)
		return err == nil && a.Name == "" && a.Address == addr
	}
	u, err := url.Parse(sub)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// ecdsaKey reads an uncompressed P-256 point for jwt's ES256.
func ecdsaKey(b []byte) (*ecdsa.PublicKey, error) {
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
}
