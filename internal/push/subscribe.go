package push

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
)

// SubscriptionInput is a subscription as a client sends it (REST.md
// §10.1): Token is push_token.client_identification_sequence.
type SubscriptionInput struct {
	Channel, Platform, UDID, Environment, Token, Bundle string
	WebEndpoint, WebAuth, WebP256dh                     string
}

// Subscribe validates in and creates the caller's subscription, or
// replaces the one of the same device and channel.
func (s *Service) Subscribe(ctx context.Context, c Caller, in SubscriptionInput) (*Subscription, error) {
	sub, err := validateSubscription(in)
	if err != nil {
		return nil, err
	}
	sub.AppID, sub.UserID = c.AppID, c.UserID
	have, err := s.st.Subscriptions(ctx, c.AppID, c.UserID)
	if err != nil {
		return nil, err
	}
	replaces := false
	for _, h := range have {
		if h.UDID == sub.UDID && h.Channel == sub.Channel {
			replaces = true
		}
	}
	if !replaces && len(have) >= s.lim.MaxSubscriptionsPerUser {
		return nil, apperr.Invalid("udid", "a user may have at most %d subscriptions: delete one first", s.lim.MaxSubscriptionsPerUser)
	}
	sub.UpdatedAt = s.now()
	if err := s.st.PutSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// Subscriptions lists the caller's subscriptions.
func (s *Service) Subscriptions(ctx context.Context, c Caller) ([]Subscription, error) {
	return s.st.Subscriptions(ctx, c.AppID, c.UserID)
}

// Unsubscribe deletes one of the caller's subscriptions: another app's or
// an unknown id is 404, another user's 403.
func (s *Service) Unsubscribe(ctx context.Context, c Caller, id int64) error {
	sub, err := s.st.Subscription(ctx, c.AppID, id)
	if errors.Is(err, ErrNotFound) {
		return apperr.NotFound("Subscription")
	}
	if err != nil {
		return err
	}
	if sub.UserID != c.UserID {
		return apperr.Forbidden("the subscription belongs to another user")
	}
	err = s.st.DeleteSubscription(ctx, c.AppID, id)
	if errors.Is(err, ErrNotFound) { // deleted meanwhile
		return apperr.NotFound("Subscription")
	}
	return err
}

func validChannel(ch string) bool {
	for _, c := range Channels {
		if string(c) == ch {
			return true
		}
	}
	return false
}

func validEnvironment(env string) (string, error) {
	switch env {
	case "":
		return Development, nil
	case Development, Production:
		return env, nil
	}
	return "", apperr.Invalid("environment", "must be development or production")
}

func validateSubscription(in SubscriptionInput) (*Subscription, error) {
	if !validChannel(in.Channel) {
		return nil, apperr.Invalid("notification_channel", "must be one of apns, apns_voip, gcm, web")
	}
	switch in.Platform {
	case "ios", "android", "web":
	default:
		return nil, apperr.Invalid("platform", "must be one of ios, android, web")
	}
	if (in.Channel == string(Web)) != (in.Platform == "web") {
		return nil, apperr.Invalid("platform", "channel web goes with platform web only")
	}
	env, err := validEnvironment(in.Environment)
	if err != nil {
		return nil, err
	}
	if in.UDID == "" {
		return nil, apperr.Invalid("udid", "is required")
	}
	if len(in.UDID) > 255 {
		return nil, apperr.Invalid("udid", "is longer than 255 characters")
	}
	if len(in.Bundle) > 255 || !printable(in.Bundle) {
		return nil, apperr.Invalid("bundle_identifier", "must be printable ASCII of at most 255 characters")
	}
	sub := &Subscription{Channel: Channel(in.Channel), Platform: in.Platform, UDID: in.UDID, Environment: env, Bundle: in.Bundle}
	if sub.Channel == Web {
		if err := validEndpoint(in.WebEndpoint); err != nil {
			return nil, err
		}
		auth, err := decodeB64(in.WebAuth)
		if err != nil || len(auth) != 16 {
			return nil, apperr.Invalid("web_auth", "must be base64url of 16 bytes")
		}
		key, err := decodeB64(in.WebP256dh)
		if err != nil || len(key) != 65 || key[0] != 4 {
			return nil, apperr.Invalid("web_p256dh", "must be base64url of an uncompressed P-256 point (65 bytes)")
		}
		if _, err := ecdh.P256().NewPublicKey(key); err != nil {
			return nil, apperr.Invalid("web_p256dh", "is not a point on P-256")
		}
		// Kept as the browser's form: base64url without padding.
		sub.Token = in.WebEndpoint
		sub.WebAuth = base64.RawURLEncoding.EncodeToString(auth)
		sub.WebP256dh = base64.RawURLEncoding.EncodeToString(key)
		return sub, nil
	}
	const field = "client_identification_sequence"
	switch {
	case in.Token == "":
		return nil, apperr.Invalid(field, "is required for channel %s", in.Channel)
	case len(in.Token) > 4096:
		return nil, apperr.Invalid(field, "is longer than 4096 characters")
	case !printable(in.Token):
		return nil, apperr.Invalid(field, "must be printable ASCII")
	}
	if sub.Channel == APNs || sub.Channel == APNsVoIP {
		if len(in.Token) < 64 || len(in.Token) > 200 || !isHex(in.Token) {
			return nil, apperr.Invalid(field, "an APNs device token is 64 to 200 hex digits")
		}
	}
	sub.Token = in.Token
	return sub, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// validEndpoint accepts an absolute https URL, or http to a loopback host
// (a push service run on the same machine, in development and tests).
func validEndpoint(s string) error {
	const field = "web_endpoint"
	if s == "" {
		return apperr.Invalid(field, "is required for channel web")
	}
	if len(s) > 2048 {
		return apperr.Invalid(field, "is longer than 2048 characters")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" || u.User != nil || !printable(s) {
		return apperr.Invalid(field, "must be an absolute https URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
	}
	return apperr.Invalid(field, "must be an https URL (http only to a loopback host)")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// decodeB64 decodes base64url or standard base64, padded or not:
// browsers give base64url without padding, other clients vary.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}
