package push

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
)

// EventInput is an event as a client sends it (REST.md §10.4).
type EventInput struct {
	NotificationType, PushType, Environment, EventType, Message string
	Sel                                                         Selector
}

// selectorField names the recipients in errors (the SDK sends event[user]).
const selectorField = "user"

// CreateEvent validates in, records the event and queues its pushes, in
// one transaction. Ids that are not users of the app are ignored.
func (s *Service) CreateEvent(ctx context.Context, c Caller, in EventInput) (*Event, error) {
	if in.NotificationType != "push" {
		return nil, apperr.Invalid("notification_type", "must be push")
	}
	if in.PushType != "" && !validChannel(in.PushType) {
		return nil, apperr.Invalid("push_type", "must be one of apns, apns_voip, gcm, web")
	}
	env, err := validEnvironment(in.Environment)
	if err != nil {
		return nil, err
	}
	if in.EventType != "" && in.EventType != "one_shot" {
		return nil, apperr.Invalid("event_type", "only one_shot is supported")
	}
	note, _, err := s.decodeMessage(Channel(in.PushType), in.Message)
	if err != nil {
		return nil, err
	}
	if in.Sel.Empty() {
		return nil, apperr.Invalid(selectorField, "a recipient is required: user.ids, user.tags or external_user.ids")
	}
	max := s.lim.MaxEventRecipients
	if len(in.Sel.IDs) > max || len(in.Sel.ExternalIDs) > max {
		return nil, apperr.Invalid(selectorField, "an event may have at most %d recipients", max)
	}
	n, err := s.st.EventRecipients(ctx, c.AppID, in.Sel, max)
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, apperr.Invalid(selectorField, "the selection has more than %d recipients, the limit of an event", max)
	}
	channels := []Channel{Channel(in.PushType)}
	if in.PushType == "" {
		ios := APNs
		if truthy(note["ios_voip"]) {
			ios = APNsVoIP
		}
		channels = []Channel{Web, GCM, ios}
	}
	e := &Event{AppID: c.AppID, UserID: c.UserID, PushType: Channel(in.PushType), Environment: env, Message: in.Message,
		CreatedAt: s.now()}
	queued, err := s.st.CreateEvent(ctx, e, in.Sel, channels)
	if err != nil {
		return nil, err
	}
	s.log.Debug("push: event queued", "app_id", c.AppID, "event_id", e.ID, "pushes", queued)
	return e, nil
}

// truthy reads a flag of the universal payload: 1, "1", true.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v == 1
	case string:
		return v == "1" || v == "true"
	}
	return false
}

// decodeMessage checks an event's message: for a universal push (pt "")
// base64 of a JSON object, returned as note; with a push type the
// platform payload, "payload=<base64 JSON>" or base64 JSON, returned raw.
// The size is checked on the encoded text first, so an oversized message
// costs no decoding.
func (s *Service) decodeMessage(pt Channel, msg string) (Notification, json.RawMessage, error) {
	const field = "message"
	limit := s.lim.MaxEventMessage
	if msg == "" {
		return nil, nil, apperr.Invalid(field, "is required")
	}
	if pt != "" {
		msg = strings.TrimPrefix(msg, "payload=")
	}
	if len(msg) > base64.StdEncoding.EncodedLen(limit) {
		return nil, nil, apperr.Invalid(field, "is larger than %d bytes decoded, the limit", limit)
	}
	raw, err := decodeB64(msg)
	if err != nil {
		return nil, nil, apperr.Invalid(field, "must be base64 of a JSON object")
	}
	if len(raw) > limit {
		return nil, nil, apperr.Invalid(field, "is larger than %d bytes decoded, the limit", limit)
	}
	var note Notification
	if err := json.Unmarshal(raw, &note); err != nil || note == nil {
		return nil, nil, apperr.Invalid(field, "must be base64 of a JSON object")
	}
	return note, json.RawMessage(raw), nil
}

// DecodeEventMessage returns what an event carries: the universal
// payload (push type "") or the platform payload as is. The dispatcher
// calls it on an event the service accepted.
func DecodeEventMessage(e Event) (Notification, json.RawMessage, error) {
	msg := e.Message
	if e.PushType != "" {
		msg = strings.TrimPrefix(msg, "payload=")
	}
	raw, err := decodeB64(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("push: event %d: message: %w", e.ID, err)
	}
	if e.PushType != "" {
		if !json.Valid(raw) {
			return nil, nil, fmt.Errorf("push: event %d: message is not JSON", e.ID)
		}
		return nil, json.RawMessage(bytes.TrimSpace(raw)), nil
	}
	var note Notification
	if err := json.Unmarshal(raw, &note); err != nil || note == nil {
		return nil, nil, errors.Join(fmt.Errorf("push: event %d: message is not a JSON object", e.ID), err)
	}
	return note, nil, nil
}
