package fcm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/push"
)

// message is the FCM HTTP v1 Message resource, as much of it as Parley
// writes for a universal push.
type message struct {
	Token        string            `json:"token"`
	Data         map[string]string `json:"data,omitempty"`
	Notification map[string]any    `json:"notification,omitempty"`
	Android      *android          `json:"android,omitempty"`
}

type android struct {
	Priority     string         `json:"priority,omitempty"`
	TTL          string         `json:"ttl,omitempty"`
	Notification map[string]any `json:"notification,omitempty"`
}

// topNotification holds the keys of android_fcm_notification that belong
// to the cross-platform message.notification; the rest go to
// android.notification.
var topNotification = map[string]bool{"title": true, "body": true, "image": true}

// androidNotification is FCM v1's AndroidNotification: keys outside it
// would make FCM refuse the whole message (400 "Unknown name"), so they
// are dropped rather than sent.
var androidNotification = map[string]bool{
	"icon": true, "color": true, "sound": true, "tag": true, "click_action": true,
	"body_loc_key": true, "body_loc_args": true, "title_loc_key": true, "title_loc_args": true,
	"channel_id": true, "ticker": true, "sticky": true, "event_time": true, "local_only": true,
	"notification_priority": true, "default_sound": true, "default_vibrate_timings": true,
	"default_light_settings": true, "vibrate_timings": true, "visibility": true,
	"notification_count": true, "light_settings": true, "bypass_proxy_notification": true,
	"proxy": true,
}

// legacyNotification renames the legacy FCM API's keys, which
// ConnectyCube apps still write in android_fcm_notification.
var legacyNotification = map[string]string{"android_channel_id": "channel_id"}

// No collapse key: FCM keeps at most four collapse keys per offline
// device, so one per push would drop a fifth chat alert; without one it
// keeps up to a hundred. A copy sent twice after a crash (see
// push.Dispatcher) carries the same message_id for the app to skip.

// universal translates a REST.md §10.4 payload to an FCM v1 message.
func universal(d push.Delivery, now time.Time) message {
	m := message{
		Token:   d.Sub.Token,
		Data:    map[string]string{},
		Android: &android{},
	}
	for k, v := range d.Note {
		switch {
		case strings.HasPrefix(k, "ios_"):
			// iOS-only keys (badge, sound, loc data, …) mean nothing to Android.
		case k == "message":
			m.Data["message"] = dataString(v)
			if m.Data["message"] != "" {
				m.Android.Priority = "high"
			}
		case k == "expiration":
			if ttl, ok := ttlUntil(v, now); ok {
				m.Android.TTL = ttl
			}
		case k == "android_fcm_notification":
			obj, ok := v.(map[string]any)
			if !ok {
				m.Data[k] = dataString(v) // not the object the spec names: keep it as data
				continue
			}
			notification(obj, &m)
		case reservedDataKey(k):
			// FCM refuses a message carrying these in data.
		default:
			m.Data[k] = dataString(v)
		}
	}
	if len(m.Data) == 0 {
		m.Data = nil
	}
	return m
}

func notification(obj map[string]any, m *message) {
	for k, v := range obj {
		if n, ok := legacyNotification[k]; ok {
			k = n
		}
		switch {
		case topNotification[k]:
			if m.Notification == nil {
				m.Notification = map[string]any{}
			}
			m.Notification[k] = dataString(v) // FCM's title, body and image are strings
		case androidNotification[k]:
			if m.Android.Notification == nil {
				m.Android.Notification = map[string]any{}
			}
			m.Android.Notification[k] = v
		}
	}
}

// reservedDataKey reports the data keys FCM reserves ("from",
// "message_type", anything starting with "google" or "gcm").
func reservedDataKey(k string) bool {
	return k == "from" || k == "message_type" || strings.HasPrefix(k, "google") || strings.HasPrefix(k, "gcm")
}

// dataString is a universal value as an FCM data value: strings as is,
// anything else as its JSON text.
func dataString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ttlUntil turns an expiration (Unix seconds, a number or a numeric
// string) into android.ttl counted from now; a past expiration is "0s"
// (deliver now or never).
func ttlUntil(v any, now time.Time) (string, bool) {
	var exp float64
	switch x := v.(type) {
	case float64:
		exp = x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		exp = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return "", false
		}
		exp = f
	default:
		return "", false
	}
	if math.IsNaN(exp) || math.IsInf(exp, 0) {
		return "", false
	}
	secs := int64(math.Ceil(exp - float64(now.Unix())))
	if secs < 0 {
		secs = 0
	}
	return strconv.FormatInt(secs, 10) + "s", true
}

// raw sets the device token on a platform-specific payload (the FCM
// message object without a target) and gives the message to send. A
// payload wrapped as {"message": {…}} is unwrapped; a topic or condition
// it names is dropped: an event pushes to the subscription's device only.
func raw(d push.Delivery) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(d.Raw))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, errors.New("fcm: the platform payload is not a JSON object")
	}
	if inner, ok := obj["message"]; ok && len(obj) == 1 {
		obj = nil
		if err := json.Unmarshal(inner, &obj); err != nil || obj == nil {
			return nil, errors.New("fcm: the platform payload's message is not a JSON object")
		}
	}
	delete(obj, "topic")
	delete(obj, "condition")
	tok, err := json.Marshal(d.Sub.Token)
	if err != nil {
		return nil, err
	}
	obj["token"] = tok
	return json.Marshal(obj)
}
