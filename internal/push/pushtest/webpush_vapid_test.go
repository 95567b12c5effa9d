package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVAPIDCacheChecksEveryUse: a token verified once is taken again
// without its signature being verified, but its key, audience and exp
// are checked at every use, and a token not verified before is.
func TestVAPIDCacheChecksEveryUse(t *testing.T) {
	priv, k := mustKey(t)
	const origin = "http://127.0.0.1:4000"
	now := time.Unix(1_800_000_000, 0)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"aud": origin, "exp": now.Add(12 * time.Hour).Unix(), "sub": "mailto:ops@parley.example",
	}).SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	req := func(tok string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, origin+"/push/x", nil)
		r.Header.Set("Authorization", "vapid t="+tok+", k="+k)
		return r
	}
	var c vapidCache
	if status, reason := c.check(req(tok), origin, k, now); status != 0 {
		t.Fatalf("a valid token: %d %s", status, reason)
	}
	if len(c.m) != 1 {
		t.Fatalf("%d tokens cached after one verification, want 1", len(c.m))
	}
	if status, reason := c.check(req(tok), origin, k, now.Add(11*time.Hour)); status != 0 {
		t.Errorf("the token reused within its exp: %d %s", status, reason)
	}

	_, other := mustKey(t)
	for _, bad := range []struct {
		name, origin, wantKey, reason string
		at                            time.Time
	}{
		{"at its exp", origin, k, "expired", now.Add(12 * time.Hour)},
		{"another subscription's key", origin, other, "VAPID key", now},
		{"another origin", "http://127.0.0.1:4001", k, "audience", now},
		{"exp over 24 h ahead", origin, k, "24 hours", now.Add(-13 * time.Hour)},
	} {
		status, reason := c.check(req(tok), bad.origin, bad.wantKey, bad.at)
		if status != http.StatusForbidden || !strings.Contains(reason, bad.reason) {
			t.Errorf("cached token %s: %d %q, want 403 with %q", bad.name, status, reason, bad.reason)
		}
	}

	// A token never seen is verified: the cached one with its signature
	// altered is refused.
	forged := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	if status, reason := c.check(req(forged), origin, k, now); status != http.StatusForbidden || !strings.Contains(reason, "JWT refused") {
		t.Errorf("a forged signature: %d %q, want 403", status, reason)
	}
	if len(c.m) != 1 {
		t.Errorf("%d tokens cached, want only the valid one", len(c.m))
	}
}

func mustKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := priv.PublicKey.Bytes()
	return priv, base64.RawURLEncoding.EncodeToString(pub)
}
