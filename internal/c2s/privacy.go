package c2s

import (
	"context"
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Privacy is what the engine asks of the privacy domain (privacy.Service)
// to answer jabber:iq:privacy IQs (REALTIME.md §18).
type Privacy interface {
	Put(ctx context.Context, appID, userID int64, l privacy.List) error
	Delete(ctx context.Context, appID, userID int64, name string) error
	Get(ctx context.Context, appID, userID int64, name string) (privacy.List, error)
	Names(ctx context.Context, appID, userID int64) (privacy.Names, error)
	SetDefault(ctx context.Context, appID, userID int64, name string) error
}

// SetPrivacy attaches the privacy domain; without it privacy IQs get
// service-unavailable.
func (e *Engine) SetPrivacy(p Privacy) { e.privacy = p }

// activeText explains why <active/> is refused: Parley has no per-session
// lists, the default list is every session's effective list.
const activeText = "Active lists are not supported: Parley applies the default list to every session"

// privacyIQ answers an IQ whose payload q is in this area's namespace
// (XEP-0016 as REALTIME.md §18 shows it). It translates only: the rules
// are the privacy domain's.
func (s *Session) privacyIQ(ctx context.Context, el, q *xmpp.Element) {
	p := s.e.privacy
	if p == nil {
		s.write(xmpp.StanzaError(el, "service-unavailable", ""))
		return
	}
	var only *xmpp.Element
	n := 0
	for c := range q.Elements() {
		only = c
		n++
	}
	// XEP-0016 §2.5, §2.6: one list asked for, one change made, at a time.
	if n > 1 {
		s.privacyError(el, q, "bad-request", "A privacy query carries at most one element")
		return
	}
	switch el.Attr("type") {
	case "get":
		switch {
		case only == nil:
			s.privacyNames(ctx, el)
		case only.Name == "list" && xmpp.Namespace(only, xmpp.NSPrivacy) == xmpp.NSPrivacy:
			name, ok := only.LookupAttr("name")
			if !ok {
				s.privacyError(el, q, "bad-request", "A list needs a name")
				return
			}
			l, err := p.Get(ctx, s.appID, s.userID, name)
			if err != nil {
				s.privacyFailed(el, q, err)
				return
			}
			res := s.privacyResult(el)
			res.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSPrivacy)).AppendChild(renderList(l))
			s.write(res)
		default:
			s.privacyError(el, q, "bad-request", "A privacy get asks for the names or for one list")
		}
	case "set":
		if only == nil || xmpp.Namespace(only, xmpp.NSPrivacy) != xmpp.NSPrivacy {
			s.privacyError(el, q, "bad-request", "A privacy set carries one list, default or active element")
			return
		}
		var err error
		switch only.Name {
		case "list":
			var l privacy.List
			if l, err = ParsePrivacyList(only); err == nil {
				err = p.Put(ctx, s.appID, s.userID, l)
			}
		case "default":
			err = p.SetDefault(ctx, s.appID, s.userID, only.Attr("name"))
		case "active":
			s.privacyError(el, q, "feature-not-implemented", activeText)
			return
		default:
			err = apperr.Malformed("A privacy set carries one list, default or active element")
		}
		if err != nil {
			s.privacyFailed(el, q, err)
			return
		}
		s.write(s.privacyResult(el))
	default:
		s.privacyError(el, q, "bad-request", "")
	}
}

// privacyNames answers getNames (§18.6): <default> only when there is a
// default list (the SDK reads an absent element as null, a nameless one
// as ""), never <active>, then the lists in creation order.
func (s *Session) privacyNames(ctx context.Context, el *xmpp.Element) {
	names, err := s.e.privacy.Names(ctx, s.appID, s.userID)
	if err != nil {
		s.privacyFailed(el, nil, err)
		return
	}
	res := s.privacyResult(el)
	q := res.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSPrivacy))
	if names.Default != "" {
		q.AppendChild(xmpp.NewElement("default", "name", names.Default))
	}
	for _, n := range names.Lists {
		q.AppendChild(xmpp.NewElement("list", "name", n))
	}
	s.write(res)
}

// privacyResult is the empty result of el.
func (s *Session) privacyResult(el *xmpp.Element) *xmpp.Element {
	r := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result", "id", el.Attr("id"), "to", s.jid.String())
	if to := el.Attr("to"); to != "" {
		r.SetAttr("from", to)
	}
	return r
}

// privacyFailed answers a refused request with the condition of its
// domain error (REALTIME.md §19).
func (s *Session) privacyFailed(el, q *xmpp.Element, err error) {
	cond := "internal-server-error"
	switch apperr.KindOf(err) {
	case apperr.KindMalformed, apperr.KindInvalid:
		cond = "bad-request"
	case apperr.KindNotFound:
		cond = "item-not-found"
	case apperr.KindConflict:
		cond = "conflict"
	case apperr.KindTooLarge:
		cond = "resource-constraint" // over --privacy-max-lists
	default:
		s.log.Error("privacy list request failed", "err", err)
	}
	text := ""
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		text = e.Message
	}
	s.privacyError(el, q, cond, text)
}

// privacyError writes the error reply to el. Like the examples of §18.7
// and §18.10 it echoes the request's <query>, with each child reduced to
// its attributes (the list's name, not its items).
func (s *Session) privacyError(el, q *xmpp.Element, cond, text string) {
	r := xmpp.StanzaError(el, cond, text)
	if r.Attr("to") == "" {
		r.SetAttr("to", s.jid.String()) // as §18.10 shows it
	}
	if q != nil {
		echo := xmpp.NewElement("query", "xmlns", xmpp.NSPrivacy)
		for c := range q.Elements() {
			echo.AppendChild(&xmpp.Element{Name: c.Name, Attrs: c.Attrs})
		}
		r.Children = append([]xmpp.Node{{Elem: echo}}, r.Children...)
	}
	s.write(r)
}

// kindChildren are an item's child elements (XEP-0016 §2.1) and the kinds
// they stand for, in the order the SDK writes them (§18.2), which is the
// order getList returns them in.
var kindChildren = []struct {
	name string
	kind privacy.Kind
}{
	{"message", privacy.Message},
	{"presence-in", privacy.PresenceIn},
	{"presence-out", privacy.PresenceOut},
	{"iq", privacy.IQ},
}

// ParsePrivacyList reads a <list/> element of a set into a privacy.List:
// its name and items as written (not yet validated; the domain does that).
// It refuses, as apperr.KindMalformed, what cannot be read into a List: a
// list without a name, a child other than <item/>, an item without an
// action or a decimal unsigned 32-bit order, an item child other than
// message, iq, presence-in, presence-out. It never panics.
func ParsePrivacyList(l *xmpp.Element) (privacy.List, error) {
	name, ok := l.LookupAttr("name")
	if !ok {
		return privacy.List{}, apperr.Malformed("A list needs a name")
	}
	out := privacy.List{Name: name}
	for it := range l.Elements() {
		if it.Name != "item" || xmpp.Namespace(it, xmpp.NSPrivacy) != xmpp.NSPrivacy {
			return privacy.List{}, apperr.Malformed("A list holds only items")
		}
		order, err := strconv.ParseUint(it.Attr("order"), 10, 32)
		if err != nil {
			return privacy.List{}, apperr.Malformed("An item needs an order: an unsigned integer")
		}
		item := privacy.Item{Type: it.Attr("type"), Value: it.Attr("value"), Action: it.Attr("action"), Order: uint32(order)}
		if _, ok := it.LookupAttr("type"); ok && item.Type == "" {
			// Present but empty is not "no type" (which matches everyone).
			return privacy.List{}, apperr.Malformed("An item's type is jid, group or subscription")
		}
		for c := range it.Elements() {
			k := privacy.Kind(0)
			for _, kc := range kindChildren {
				if c.Name == kc.name {
					k = kc.kind
				}
			}
			if k == 0 || xmpp.Namespace(c, xmpp.NSPrivacy) != xmpp.NSPrivacy {
				return privacy.List{}, apperr.Malformed("An item's children are message, iq, presence-in and presence-out")
			}
			item.Kinds |= k
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// renderList writes l as getList returns it (§18.7): items in ascending
// order with their attributes and child elements.
func renderList(l privacy.List) *xmpp.Element {
	el := xmpp.NewElement("list", "name", l.Name)
	for _, it := range l.Items {
		item := &xmpp.Element{Name: "item", Attrs: make([]xmpp.Attr, 0, 4)}
		if it.Type != "" {
			item.Attrs = append(item.Attrs, xmpp.Attr{Name: "type", Value: it.Type})
		}
		if it.Type != "" || it.Value != "" {
			item.Attrs = append(item.Attrs, xmpp.Attr{Name: "value", Value: it.Value})
		}
		item.Attrs = append(item.Attrs, xmpp.Attr{Name: "action", Value: it.Action},
			xmpp.Attr{Name: "order", Value: strconv.FormatUint(uint64(it.Order), 10)})
		for _, kc := range kindChildren {
			if it.Kinds&kc.kind != 0 {
				item.AppendChild(xmpp.NewElement(kc.name))
			}
		}
		el.AppendChild(item)
	}
	return el
}
