package c2s

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Headlines (type="headline") carry what the SDK's calling module and its
// system messages exchange (REALTIME.md §13, §14). They are notices for
// whoever is online right now: a call offer or an ICE candidate replayed
// later is worse than useless (the SDK ignores signalling with <delay>),
// and a system message is an app's own live event. So a headline is never
// rewritten to chat (the receiving SDK dispatches on the type), never
// stored, never kept offline, never alerted nor carbon-copied: it is a
// plain route of the stanza as sent, with from stamped, to the addressee's
// available resources, and dropped when there are none. The route reads
// nothing from the store; that an addressee of the caller's app exists is
// not checked (nothing is kept for it either way, and an unknown user
// simply has no resource online).

// headline handles a headline stanza of a bound stream. The returned step
// runs in the session's pipeline, after the messages before it.
func (s *Session) headline(el *xmpp.Element) (step func(), later bool) {
	to, err := xmpp.ParseJID(el.Attr("to"))
	if err != nil || to.Local == "" {
		return func() { s.write(xmpp.StanzaError(el, "bad-request", "")) }, false
	}
	if to.Domain == "muc."+s.e.cfg.Domain {
		// Group system messages are not supported (REALTIME.md §13.2, §19).
		return func() {
			s.write(xmpp.StanzaError(el, "feature-not-implemented", "system messages to a dialog are not supported"))
		}, false
	}
	if to.Domain != s.e.cfg.Domain {
		return func() { s.write(xmpp.StanzaError(el, "service-unavailable", "")) }, false
	}
	toUser, appID, ok := xmpp.ParseUserLocal(to.Local)
	if !ok || appID != s.appID {
		// Another application's users are not reachable, as for chat.
		return func() { s.write(xmpp.StanzaError(el, "service-unavailable", "")) }, false
	}
	return func() {
		// System messages and call signalling across a block are dropped
		// silently (REALTIME.md §18.9); the domain decides.
		if !s.e.chat.Reaches(context.Background(), s.appID, s.userID, toUser, privacy.Direct) {
			return
		}
		out := el.Clone()
		out.SetAttr("xmlns", xmpp.NSClient)
		out.SetAttr("from", s.jid.String())
		s.e.router.Deliver(to, out.Encode())
	}, false
}

// notifySystemMessage delivers a system message created through REST
// (REALTIME.md §13.3): a headline from the caller's bare JID with no body,
// moduleIdentifier first, then every parameter (objects as nested
// elements). Like a live one it only reaches the online resources; the
// sends queue on the sessions' outboxes and never block the request.
func (e *Engine) notifySystemMessage(ctx context.Context, appID, from, to int64, id string, params map[string]any) {
	toJID := xmpp.UserJID(to, appID, e.cfg.Domain)
	msg := xmpp.NewElement("message", "xmlns", xmpp.NSClient, "type", "headline", "id", id,
		"from", xmpp.UserJID(from, appID, e.cfg.Domain).String(), "to", toJID.String())
	extra := msg.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient))
	extra.AppendChild(xmpp.NewElement("moduleIdentifier")).AppendText("SystemNotifications")
	appendParams(extra, params)
	e.router.Deliver(toJID, msg.Encode())
}

// appendParams writes REST parameters as <extraParams> children, in key
// order (a JSON object has none; a fixed one keeps deliveries alike). A
// key that is not an XML name cannot be an element and is left out.
func appendParams(parent *xmpp.Element, params map[string]any) {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "moduleIdentifier" && xmlName(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		appendValue(parent.AppendChild(xmpp.NewElement(k)), params[k])
	}
}

// appendValue writes one value as the SDK encodes an extension's
// (REALTIME.md §5.1): scalars as text, objects as nested elements, lists
// as elements named by their index.
func appendValue(el *xmpp.Element, v any) {
	switch v := v.(type) {
	case map[string]any:
		appendParams(el, v)
	case []any:
		for i, item := range v {
			appendValue(el.AppendChild(xmpp.NewElement(strconv.Itoa(i))), item)
		}
	case nil:
	case string:
		el.AppendText(v)
	case bool:
		el.AppendText(strconv.FormatBool(v))
	case float64:
		el.AppendText(strconv.FormatFloat(v, 'f', -1, 64))
	case json.Number:
		el.AppendText(v.String())
	default:
		el.AppendText(fmt.Sprint(v))
	}
}

// xmlName reports whether s can name an element: what the SDK's own
// extension keys are (letters, digits, _ - .; digit-led names are written
// by the SDK too and read back by it, REALTIME.md §5.2).
func xmlName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}
