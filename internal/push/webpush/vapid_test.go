package webpush

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/push"
)

// claimsOf verifies header's JWT with its k= key as a push service does
// and returns the claims.
func claimsOf(t *testing.T, header string, now time.Time) jwt.MapClaims {
	t.Helper()
	rest, ok := strings.CutPrefix(header, "vapid t=")
	tok, k, ok2 := strings.Cut(rest, ", k=")
	if !ok || !ok2 {
		t.Fatalf("header %q", header)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b64(t, k))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(func() time.Time { return now })).
		ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestVAPIDTokenReuse: one JWT per (origin, key, subject), signed for
// 12 h, reused until an hour before its exp; its sub is the subject as
// configured (no "mailto:mailto:").
func TestVAPIDTokenReuse(t *testing.T) {
	priv, pub, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	creds := &push.Credentials{VAPIDPrivateKey: priv, VAPIDPublicKey: pub, VAPIDSubject: "mailto:ops@parley.example"}
	var s signers
	sg, err := s.get(creds)
	if err != nil {
		t.Fatal(err)
	}
	const fcm, moz = "https://fcm.googleapis.com", "https://updates.push.services.mozilla.com"
	t0 := time.Unix(1_800_000_000, 0)
	h := func(sg *signer, origin string, at time.Time) string {
		t.Helper()
		v, err := sg.header(origin, at)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := h(sg, fcm, t0)
	c := claimsOf(t, first, t0)
	if c["aud"] != fcm || c["sub"] != "mailto:ops@parley.example" || c["exp"] != float64(t0.Add(12*time.Hour).Unix()) {
		t.Errorf("claims %v: want aud %s, the subject as configured, exp in 12 h", c, fcm)
	}
	if !strings.HasSuffix(first, ", k="+pub) {
		t.Errorf("header %q does not end with k=%s", first, pub)
	}
	if again := h(sg, fcm, t0.Add(10*time.Hour)); again != first {
		t.Error("the token was not reused 10 h into its 12")
	}
	other := h(sg, moz, t0)
	if other == first || claimsOf(t, other, t0)["aud"] != moz {
		t.Error("another origin did not get a token of its own")
	}
	renewed := h(sg, fcm, t0.Add(11*time.Hour+time.Second))
	if renewed == first {
		t.Error("the token was still reused with under an hour left")
	}
	if c := claimsOf(t, renewed, t0.Add(11*time.Hour)); c["exp"] != float64(t0.Add(23*time.Hour+time.Second).Unix()) {
		t.Errorf("renewed exp %v", c["exp"])
	}

	// The same credentials share the signer (checked once); another
	// subject gets its own tokens.
	if again, _ := s.get(&push.Credentials{VAPIDPrivateKey: priv, VAPIDPublicKey: pub, VAPIDSubject: "mailto:ops@parley.example"}); again != sg {
		t.Error("the same credentials were checked again")
	}
	https, err := s.get(&push.Credentials{VAPIDPrivateKey: priv, VAPIDPublicKey: pub, VAPIDSubject: "https://parley.example/contact"})
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, h(https, fcm, t0), t0); c["sub"] != "https://parley.example/contact" {
		t.Errorf("sub %v, want the https subject", c["sub"])
	}
	// Bad credentials are refused every time, not cached.
	bad := &push.Credentials{VAPIDPrivateKey: priv, VAPIDPublicKey: pub, VAPIDSubject: "ops@parley.example"}
	for range 2 {
		if _, err := s.get(bad); err == nil {
			t.Error("a subject neither mailto: nor https was accepted")
		}
	}
}
