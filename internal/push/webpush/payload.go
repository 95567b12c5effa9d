package webpush

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/push"
)

// MaxPayload is the largest plaintext a push can carry: RFC 8291 §4 —
// a push service need not take a body over 4096 bytes, which less the
// aes128gcm header (86), the padding delimiter (1) and the GCM tag (16)
// leaves 3993 (the body then fills one record of 4096).
const MaxPayload = 4096 - 86 - 1 - 16

// ErrPayloadTooLarge is the (final) error for a payload over MaxPayload.
var ErrPayloadTooLarge = errors.New("payload over the 3993 bytes a Web Push can carry")

// payloadOf is what the service worker receives: the universal note as
// JSON (it reads "message" and the rest itself) or the raw payload.
func payloadOf(d push.Delivery) ([]byte, error) {
	var body []byte
	switch {
	case d.Note != nil:
		b, err := json.Marshal(d.Note)
		if err != nil {
			return nil, fmt.Errorf("webpush: encoding the note: %w", err)
		}
		body = b
	case len(d.Raw) > 0:
		body = d.Raw
	default:
		return nil, errors.New("webpush: the delivery has no payload")
	}
	if len(body) > MaxPayload {
		return nil, fmt.Errorf("webpush: %d bytes: %w", len(body), ErrPayloadTooLarge)
	}
	return body, nil
}

// topicOf is the Topic header (RFC 8030 §5.4): the outbox row's id, so a
// push sent twice (a retry after a lost answer) replaces the first at the
// push service instead of reaching the device twice. It is at most 32
// characters of the base64url alphabet: "p" and 11 of the id.
func topicOf(id int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return "p" + base64.RawURLEncoding.EncodeToString(b[:])
}

// urgencyOf is "high" for a push the user reads (a non-empty message),
// "normal" for a data-only one. A raw payload is looked at the same way
// when it is a JSON object.
func urgencyOf(d push.Delivery, body []byte) string {
	note := d.Note
	if note == nil {
		_ = json.Unmarshal(body, &note) // not an object: no message
	}
	if m, ok := note["message"]; ok && m != nil && m != "" {
		return "high"
	}
	return "normal"
}

// ttlOf is the push's TTL: the note's "expiration" (Unix seconds,
// REST.md §10.4) when it has one, else the configured TTL. An expiration
// already past gives 0: deliver only to a device online now.
func (p *Provider) ttlOf(d push.Delivery, now time.Time) time.Duration {
	exp, ok := expirationOf(d.Note)
	if !ok {
		return p.ttl
	}
	ttl := time.Unix(exp, 0).Sub(now)
	if ttl < 0 {
		return 0
	}
	// The push services keep a push 4 weeks at most; more is pointless.
	return min(ttl, 28*24*time.Hour).Truncate(time.Second)
}

// expirationOf reads a note's "expiration" as a number or a numeric
// string (both occur in clients' payloads).
func expirationOf(n push.Notification) (int64, bool) {
	switch v := n["expiration"].(type) {
	case float64:
		return int64(v), v > 0
	case int64:
		return v, v > 0
	case int:
		return int64(v), v > 0
	case json.Number:
		i, err := v.Int64()
		return i, err == nil && i > 0
	case string:
		var i int64
		_, err := fmt.Sscan(v, &i)
		return i, err == nil && i > 0
	}
	return 0, false
}
