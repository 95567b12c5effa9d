package pushtest_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/push/pushtest"
)

// vapidKey is an application server key pair.
type vapidKey struct {
	priv *ecdsa.PrivateKey
	k    string // the public point, base64url: the header's k=
}

func newVAPIDKey(t *testing.T) vapidKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := priv.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return vapidKey{priv: priv, k: base64.RawURLEncoding.EncodeToString(pub)}
}

// authorization is a hand-made "vapid t=…, k=…" with the JWT signed by
// signer and claims as given.
func authorization(t *testing.T, signer vapidKey, k string, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(signer.priv)
	if err != nil {
		t.Fatal(err)
	}
	return "vapid t=" + tok + ", k=" + k
}

// encrypt is the RFC 8291 sender side, written out here so the service's
// checks are tested without the provider's library.
func encrypt(t *testing.T, b pushtest.Browser, plain []byte) []byte {
	t.Helper()
	ua, err := base64.RawURLEncoding.DecodeString(b.P256dh)
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := base64.RawURLEncoding.DecodeString(b.Auth)
	uaPub, err := ecdh.P256().NewPublicKey(ua)
	if err != nil {
		t.Fatal(err)
	}
	as, _ := ecdh.P256().GenerateKey(rand.Reader)
	salt := make([]byte, 16)
	rand.Read(salt)
	body, err := pushtest.Encrypt(plain, as, uaPub, auth, salt)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestServiceRefusesBadRequests(t *testing.T) {
	svc := pushtest.NewWebPush(t)
	b := svc.NewSubscription()
	key, other := newVAPIDKey(t), newVAPIDKey(t)
	svc.SetVAPIDKey(key.k)
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"aud": svc.URL, "exp": time.Now().Add(12 * time.Hour).Unix(), "sub": "mailto:ops@parley.example"}
	}
	with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := good(); delete(c, k); return c }

	cases := []struct {
		name   string
		mutate func(r *http.Request)
		status int
		reason string
	}{
		{"valid", func(*http.Request) {}, http.StatusCreated, ""},
		{"GET", func(r *http.Request) { r.Method = http.MethodGet }, http.StatusMethodNotAllowed, "POST"},
		{"aesgcm", func(r *http.Request) { r.Header.Set("Content-Encoding", "aesgcm") }, http.StatusBadRequest, "Content-Encoding"},
		{"no TTL", func(r *http.Request) { r.Header.Del("TTL") }, http.StatusBadRequest, "TTL"},
		{"long Topic", func(r *http.Request) { r.Header.Set("Topic", strings.Repeat("a", 33)) }, http.StatusBadRequest, "Topic"},
		{"Topic not base64url", func(r *http.Request) { r.Header.Set("Topic", "a b") }, http.StatusBadRequest, "Topic"},
		{"bad Urgency", func(r *http.Request) { r.Header.Set("Urgency", "urgent") }, http.StatusBadRequest, "Urgency"},
		{"no Authorization", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized, "Authorization"},
		{"not vapid", func(r *http.Request) { r.Header.Set("Authorization", "WebPush abc") }, http.StatusUnauthorized, "vapid"},
		{"another VAPID key", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, other, other.k, good()))
		}, http.StatusForbidden, "VAPID key"},
		{"signed by another key", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, other, key.k, good()))
		}, http.StatusForbidden, "signature"},
		{"expired", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, with("exp", time.Now().Add(-time.Minute).Unix())))
		}, http.StatusForbidden, "expired"},
		{"exp over 24h", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, with("exp", time.Now().Add(25*time.Hour).Unix())))
		}, http.StatusForbidden, "24 hours"},
		{"no exp", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, without("exp")))
		}, http.StatusForbidden, "exp"},
		{"aud another origin", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, with("aud", "https://push.example.net")))
		}, http.StatusForbidden, "audience"},
		{"aud the endpoint, not its origin", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, with("aud", b.Endpoint)))
		}, http.StatusForbidden, "audience"},
		{"sub mailto:mailto:", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, with("sub", "mailto:mailto:ops@parley.example")))
		}, http.StatusForbidden, "sub"},
		{"sub http", func(r *http.Request) {
			r.Header.Set("Authorization", authorization(t, key, key.k, with("sub", "http://parley.example")))
		}, http.StatusForbidden, "sub"},
		{"alg HS256", func(r *http.Request) {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good()).SignedString([]byte(key.k))
			r.Header.Set("Authorization", "vapid t="+tok+", k="+key.k)
		}, http.StatusForbidden, "signing method"},
		{"tampered body", func(r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			body[len(body)-1] ^= 1
			r.Body = io.NopCloser(bytes.NewReader(body))
		}, http.StatusBadRequest, "decrypt"},
		{"body over 4096", func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(encrypt(t, b, make([]byte, 4096))))
			r.ContentLength = -1
		}, http.StatusRequestEntityTooLarge, "4096"},
		{"unknown endpoint", func(r *http.Request) {
			r.URL.Path = "/push/nosuch"
		}, http.StatusNotFound, "subscription"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(svc.Rejections())
			req, err := http.NewRequest(http.MethodPost, b.Endpoint, bytes.NewReader(encrypt(t, b, []byte(`{"message":"hi"}`))))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Encoding", "aes128gcm")
			req.Header.Set("TTL", "60")
			req.Header.Set("Topic", "p42")
			req.Header.Set("Urgency", "high")
			req.Header.Set("Authorization", authorization(t, key, key.k, good()))
			c.mutate(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, msg, c.status)
			}
			rej := svc.Rejections()
			if c.status == http.StatusCreated {
				if len(rej) != before {
					t.Errorf("a valid push was recorded as refused: %+v", rej[before:])
				}
				return
			}
			if len(rej) != before+1 || rej[before].Status != c.status || !strings.Contains(rej[before].Reason, c.reason) {
				t.Errorf("rejections %+v, want one %d with %q", rej[before:], c.status, c.reason)
			}
		})
	}
	got := svc.Received()
	if len(got) != 1 || string(got[0].Payload) != `{"message":"hi"}` || got[0].Topic != "p42" || got[0].Urgency != "high" || got[0].TTL != time.Minute {
		t.Errorf("received %+v, want only the valid push", got)
	}
}

// TestDecryptRFC8291 opens the example of RFC 8291 Appendix A.
func TestDecryptRFC8291(t *testing.T) {
	b64 := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ua, err := ecdh.P256().NewPrivateKey(b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	auth := b64("BTBZMqHH6r4Tts7J_aSIgg")
	body := b64("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	plain, err := pushtest.Decrypt(body, ua, auth)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != "When I grow up, I want to be a watermelon" {
		t.Errorf("decrypted %q", plain)
	}
	// The other side: our Encrypt with the RFC's sender key and salt
	// gives the RFC's body byte for byte.
	as, err := ecdh.P256().NewPrivateKey(b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := pushtest.Encrypt(plain, as, ua.PublicKey(), auth, b64("DGv6ra1nlYgDCS1FRnbzlw"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, body) {
		t.Errorf("Encrypt gave\n%x\nwant\n%x", again, body)
	}
	// A wrong auth secret does not open it.
	if _, err := pushtest.Decrypt(body, ua, make([]byte, 16)); err == nil {
		t.Error("decrypted with the wrong auth secret")
	}
}

func TestWaitIsBounded(t *testing.T) {
	svc := pushtest.NewWebPush(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got, err := svc.Wait(ctx, 1)
	if err == nil || len(got) != 0 {
		t.Errorf("Wait with nothing sent: %v, %v", got, err)
	}
}
