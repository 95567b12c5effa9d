package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/push"
)

// GenerateVAPIDKeys makes a VAPID key pair: the P-256 private scalar (32
// bytes) and public point (65 bytes, uncompressed), base64url without
// padding: the form of push.Credentials.
func GenerateVAPIDKeys() (private, public string, err error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return base64.RawURLEncoding.EncodeToString(k.Bytes()),
		base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), nil
}

// vapid is an app's VAPID credentials, checked.
type vapid struct {
	key    *ecdsa.PrivateKey // for the JWT's ES256 signature
	public string            // base64url without padding: the header's k=
	// subject is the JWT sub as configured: "mailto:…" or an https URL.
	// (webpush-go prefixed "mailto:" to anything not https, so a subject
	// already "mailto:…" went out as "mailto:mailto:…".)
	subject string
}

var errNoVAPID = fmt.Errorf("webpush: VAPID keys and subject: %w", push.ErrNoCredentials)

// vapidOf checks c's VAPID keys. Its errors never include a key: they
// end up in logs and the outbox's last error.
func vapidOf(c *push.Credentials) (vapid, error) {
	if c == nil || c.VAPIDPrivateKey == "" || c.VAPIDPublicKey == "" || c.VAPIDSubject == "" {
		return vapid{}, errNoVAPID
	}
	priv, err := decodeKey(c.VAPIDPrivateKey)
	if err != nil {
		return vapid{}, errors.New("webpush: the VAPID private key is not base64url")
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), priv)
	if err != nil {
		return vapid{}, errors.New("webpush: the VAPID private key is not a P-256 scalar")
	}
	own, err := k.PublicKey.Bytes()
	if err != nil {
		return vapid{}, errors.New("webpush: the VAPID private key is not a P-256 scalar")
	}
	pub, err := decodeKey(c.VAPIDPublicKey)
	if err != nil || !bytes.Equal(pub, own) {
		// A push service would refuse every push signed with the wrong
		// pair (403); say why here instead.
		return vapid{}, errors.New("webpush: the VAPID public key is not the private key's")
	}
	sub := c.VAPIDSubject
	if !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return vapid{}, fmt.Errorf("webpush: the VAPID subject must be mailto: or an https URL, not %q", sub)
	}
	return vapid{key: k, public: base64.RawURLEncoding.EncodeToString(pub), subject: sub}, nil
}

// subscriptionKeys reads a browser's p256dh (a P-256 point) and auth
// secret (16 bytes).
func subscriptionKeys(p256dh, auth string) (*ecdh.PublicKey, []byte, error) {
	pub, err := decodeKey(p256dh)
	if err != nil {
		return nil, nil, errors.New("p256dh is not base64url")
	}
	ua, err := ecdh.P256().NewPublicKey(pub)
	if err != nil {
		return nil, nil, errors.New("p256dh is not a P-256 point")
	}
	a, err := decodeKey(auth)
	if err != nil || len(a) != 16 {
		return nil, nil, errors.New("auth is not 16 bytes of base64url")
	}
	return ua, a, nil
}

// decodeKey reads base64url with or without padding.
func decodeKey(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
