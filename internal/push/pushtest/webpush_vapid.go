package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// checkVAPID checks a request's Authorization as a push service does
// (RFC 8292 §3-4): "vapid t=<JWT>, k=<key>", the JWT ES256-signed by k,
// aud the endpoint's origin, exp in the future and at most 24 h ahead,
// sub a mailto: address or an https URL, and k the expected key when the
// test set one. It returns the status to refuse with (401 when the
// authentication is absent, 403 when it is invalid) and why, or 0.
func checkVAPID(r *http.Request, origin, wantKey string, now time.Time) (int, string) {
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
	keyBytes, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return http.StatusForbidden, "k is not base64url without padding"
	}
	key, err := ecdsaKey(keyBytes)
	if err != nil {
		return http.StatusForbidden, "k is not a P-256 public key"
	}
	if wantKey != "" && strings.TrimRight(wantKey, "=") != k {
		return http.StatusForbidden, "k is not the subscription's VAPID key"
	}

	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithAudience(origin),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	).ParseWithClaims(t, claims, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return http.StatusForbidden, "JWT refused: " + err.Error()
	}
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(now) > 24*time.Hour {
		return http.StatusForbidden, "JWT exp more than 24 hours ahead"
	}
	sub, _ := claims["sub"].(string)
	if !validSubject(sub) {
		return http.StatusForbidden, fmt.Sprintf("JWT sub is neither a mailto: address nor an https URL: %q", sub)
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
