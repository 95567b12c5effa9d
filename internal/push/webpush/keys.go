package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/push"
)

// GenerateVAPIDKeys makes a VAPID key pair: the P-256 private scalar (32
// bytes) and public point (65 bytes, uncompressed), base64url without
// padding — the form of push.Credentials, which webpush-go reads as is.
func GenerateVAPIDKeys() (private, public string, err error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return base64.RawURLEncoding.EncodeToString(k.Bytes()),
		base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), nil
}

// vapid is an app's VAPID credentials, checked and in the form
// webpush-go takes.
type vapid struct {
	private, public string
	// subscriber is the JWT sub without "mailto:": webpush-go v1.4.0
	// prefixes "mailto:" to anything that is not an https URL.
	subscriber string
}

// vapidOf checks c's VAPID keys. Its errors never include a key: they
// end up in logs and the outbox's last error.
func vapidOf(c *push.Credentials) (vapid, error) {
	if c == nil || c.VAPIDPrivateKey == "" || c.VAPIDPublicKey == "" || c.VAPIDSubject == "" {
		return vapid{}, fmt.Errorf("webpush: VAPID keys and subject: %w", push.ErrNoCredentials)
	}
	priv, err := decodeKey(c.VAPIDPrivateKey)
	if err != nil {
		return vapid{}, errors.New("webpush: the VAPID private key is not base64url")
	}
	k, err := ecdh.P256().NewPrivateKey(priv)
	if err != nil {
		return vapid{}, errors.New("webpush: the VAPID private key is not a P-256 scalar")
	}
	pub, err := decodeKey(c.VAPIDPublicKey)
	if err != nil || !bytes.Equal(pub, k.PublicKey().Bytes()) {
		// A push service would refuse every push signed with the wrong
		// pair (403); say why here instead.
		return vapid{}, errors.New("webpush: the VAPID public key is not the private key's")
	}
	sub := c.VAPIDSubject
	switch {
	case strings.HasPrefix(sub, "mailto:"):
		sub = strings.TrimPrefix(sub, "mailto:")
	case strings.HasPrefix(sub, "https:"):
	default:
		return vapid{}, fmt.Errorf("webpush: the VAPID subject must be mailto: or an https URL, not %q", sub)
	}
	return vapid{
		private:    base64.RawURLEncoding.EncodeToString(priv),
		public:     base64.RawURLEncoding.EncodeToString(pub),
		subscriber: sub,
	}, nil
}

// checkSubscriptionKeys checks a browser's p256dh (a P-256 point) and
// auth secret (16 bytes).
func checkSubscriptionKeys(p256dh, auth string) error {
	pub, err := decodeKey(p256dh)
	if err != nil {
		return errors.New("p256dh is not base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return errors.New("p256dh is not a P-256 point")
	}
	a, err := decodeKey(auth)
	if err != nil || len(a) != 16 {
		return errors.New("auth is not 16 bytes of base64url")
	}
	return nil
}

// decodeKey reads base64url with or without padding.
func decodeKey(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
