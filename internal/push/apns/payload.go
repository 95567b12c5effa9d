package apns

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/push"
	"github.com/sideshow/apns2"
)

// APNs' payload limits (bytes of the JSON body).
const (
	maxPayload     = 4096
	maxVoIPPayload = 5120
)

// message is what one push becomes on the wire, before the client sends it.
type message struct {
	payload    []byte
	pushType   apns2.EPushType
	priority   int
	expiration time.Time // zero: no apns-expiration header
}

// build translates d to an APNs message: the universal form of REST.md
// §10.4, or a platform-specific payload sent as is.
func build(d push.Delivery) (*message, error) {
	var m *message
	var err error
	if len(d.Raw) > 0 {
		m, err = fromRaw(d.Raw)
	} else {
		m, err = fromNote(d.Note)
	}
	if err != nil {
		return nil, err
	}
	limit := maxPayload
	if d.Sub.Channel == push.APNsVoIP {
		// A VoIP push is always voip, high priority, whatever it carries:
		// PushKit wakes the app for a call.
		m.pushType, m.priority, limit = apns2.PushTypeVOIP, apns2.PriorityHigh, maxVoIPPayload
	}
	if len(m.payload) > limit {
		return nil, fmt.Errorf("apns: payload is %d bytes, over APNs' limit of %d", len(m.payload), limit)
	}
	return m, nil
}

// fromRaw takes a platform-specific payload: the APNs JSON, sent byte for
// byte. It is read only to choose the push type (a silent push, aps with
// content-available and nothing to show, is background).
func fromRaw(raw json.RawMessage) (*message, error) {
	var p struct {
		APS map[string]any `json:"aps"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("apns: the platform payload is not a JSON object: %w", err)
	}
	m := &message{payload: raw, pushType: apns2.PushTypeAlert, priority: apns2.PriorityHigh}
	if flag(p.APS["content-available"]) && p.APS["alert"] == nil && p.APS["badge"] == nil && p.APS["sound"] == nil {
		m.pushType, m.priority = apns2.PushTypeBackground, apns2.PriorityLow
	}
	return m, nil
}

// fromNote translates the universal keys (REST.md §10.4) to aps and passes
// every other key, except ios_* and android_* ones, as custom data.
func fromNote(n push.Notification) (*message, error) {
	aps := map[string]any{}
	alert := map[string]any{}
	body := ""
	if v, ok := n["message"]; ok && v != nil {
		body = text(v)
	}
	if body != "" {
		alert["body"] = body
	}
	if v, ok := integer(n["ios_badge"]); ok {
		aps["badge"] = v
	}
	if v := n["ios_sound"]; v != nil && v != "" {
		aps["sound"] = v // a name, or the critical-alert dictionary
	}
	contentAvailable := flag(n["ios_content_available"])
	if contentAvailable {
		aps["content-available"] = 1
	}
	if flag(n["ios_mutable_content"]) {
		aps["mutable-content"] = 1
	}
	if s := text(n["ios_category"]); s != "" {
		aps["category"] = s
	}
	if s := text(n["ios_thread_id"]); s != "" {
		aps["thread-id"] = s
	}
	if err := locData(n["ios_loc_data"], alert); err != nil {
		return nil, err
	}
	if len(alert) > 0 {
		aps["alert"] = alert
	}

	out := map[string]any{}
	for k, v := range n {
		switch {
		case k == "message" || k == "expiration" || k == "aps":
			// translated, or aps that custom data must not overwrite
		case strings.HasPrefix(k, "ios_") || strings.HasPrefix(k, "android_"):
		default:
			out[k] = v
		}
	}
	out["aps"] = aps
	payload, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("apns: payload: %w", err)
	}

	m := &message{payload: payload, pushType: apns2.PushTypeAlert, priority: apns2.PriorityHigh}
	switch t := text(n["ios_push_type"]); {
	case t == "background", t == "" && contentAvailable && body == "":
		m.pushType, m.priority = apns2.PushTypeBackground, apns2.PriorityLow
	}
	if exp, ok := integer(n["expiration"]); ok && exp > 0 {
		m.expiration = time.Unix(exp, 0)
	}
	return m, nil
}

// locData copies ios_loc_data's keys to Apple's alert keys. It may be an
// object or that object as a JSON string.
func locData(v any, alert map[string]any) error {
	if v == nil {
		return nil
	}
	var ld map[string]any
	switch x := v.(type) {
	case map[string]any:
		ld = x
	case string:
		if x == "" {
			return nil
		}
		if err := json.Unmarshal([]byte(x), &ld); err != nil {
			return errors.New("apns: ios_loc_data is not a JSON object")
		}
	default:
		return errors.New("apns: ios_loc_data is not an object")
	}
	for from, to := range map[string]string{"title_loc_key": "title-loc-key", "body_loc_key": "loc-key"} {
		if s := text(ld[from]); s != "" {
			alert[to] = s
		}
	}
	for from, to := range map[string]string{"title_loc_args": "title-loc-args", "body_loc_args": "loc-args"} {
		if args := stringList(ld[from]); args != nil {
			alert[to] = args
		}
	}
	return nil
}

// text renders a scalar as a string ("" for nil, objects and arrays).
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int, int64, bool:
		return fmt.Sprint(x)
	}
	return ""
}

// stringList reads a list of strings; APNs wants strings, so numbers become
// their text, and a lone string is a list of one.
func stringList(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, text(e))
		}
		return out
	case []string:
		return x
	case string:
		return []string{x}
	}
	return nil
}

// integer reads a whole number given as a number or as a string ("3"): the
// SDKs send both.
func integer(v any) (int64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		return int64(x), true
	case int64:
		return x, true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		g, err := x.Float64()
		if err != nil {
			return 0, false
		}
		f = g
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, true
		}
		g, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		f = g
	default:
		return 0, false
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// flag reads a 0/1 switch: 1, "1", true.
func flag(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	if s, ok := v.(string); ok && strings.EqualFold(strings.TrimSpace(s), "true") {
		return true
	}
	i, ok := integer(v)
	return ok && i != 0
}
