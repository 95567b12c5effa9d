package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/push/pushtest"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealRFC8291 encrypts RFC 8291 Appendix A's message with its sender
// key and salt, unpadded as there, and gets its body byte for byte.
func TestSealRFC8291(t *testing.T) {
	ua, err := ecdh.P256().NewPrivateKey(b64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	as, err := ecdh.P256().NewPrivateKey(b64(t, "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	auth := b64(t, "BTBZMqHH6r4Tts7J_aSIgg")
	salt := b64(t, "DGv6ra1nlYgDCS1FRnbzlw")
	plain := []byte("When I grow up, I want to be a watermelon")
	want := b64(t, "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	got, err := seal(plain, as, ua.PublicKey(), auth, salt, len(plain)+1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("seal gave\n%x\nwant RFC 8291 A's\n%x", got, want)
	}
}

// TestEncryptPadsToBuckets: encrypt's bodies are 512, 1024, 2048 or 4096
// bytes, the smallest that holds the data, and open to the data alone
// with the browser's keys.
func TestEncryptPadsToBuckets(t *testing.T) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	for _, c := range []struct{ n, body int }{
		{0, 512}, {200, 512}, {409, 512}, {410, 1024}, {921, 1024}, {922, 2048},
		{1945, 2048}, {1946, 4096}, {MaxPayload, 4096},
	} {
		plain := bytes.Repeat([]byte{'x'}, c.n)
		body, err := encrypt(plain, ua.PublicKey(), auth)
		if err != nil {
			t.Fatalf("%d bytes: %v", c.n, err)
		}
		if len(body) != c.body {
			t.Errorf("%d bytes: body of %d, want %d", c.n, len(body), c.body)
		}
		got, err := pushtest.Decrypt(body, ua, auth)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: decrypted %d bytes, %v", c.n, len(got), err)
		}
	}
	// Two pushes of the same data share neither salt nor ephemeral key.
	a, _ := encrypt([]byte("same"), ua.PublicKey(), auth)
	b, _ := encrypt([]byte("same"), ua.PublicKey(), auth)
	if bytes.Equal(a[:16], b[:16]) || bytes.Equal(a[21:86], b[21:86]) {
		t.Error("two pushes reused a salt or an ephemeral key")
	}
	if _, err := encrypt(make([]byte, MaxPayload+1), ua.PublicKey(), auth); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("%d bytes: %v, want ErrPayloadTooLarge", MaxPayload+1, err)
	}
}
