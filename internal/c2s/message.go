package c2s

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Chat is what the engine asks of the chat domain.
type Chat interface {
	StartDirect(ctx context.Context, c chat.Caller, to int64, dialogID string, save bool, in chat.MessageInput) *chat.Pending
	StartDialog(ctx context.Context, c chat.Caller, dialogID string, save bool, in chat.MessageInput) *chat.Pending
	StartMarker(ctx context.Context, c chat.Caller, to int64, dialogID, messageID string, read bool) (wait func() (route bool, err error))
	DirectTyping(ctx context.Context, c chat.Caller, to int64, dialogID string) bool
	Changes // edits and deletes (edits.go)
	CanJoin(ctx context.Context, c chat.Caller, dialogID string) (*chat.Room, error)
	Audience(ctx context.Context, d *chat.Dialog) (users []int64, everyone bool, err error)
	// Reaches and SeesPresence decide, by the users' block lists, the
	// stanzas the domain does not otherwise see (headlines, notices,
	// occupant presences); what they refuse is dropped silently.
	Reaches(ctx context.Context, appID, from, to int64, scope privacy.Scope) bool
	SeesPresence(ctx context.Context, appID, viewer, subject int64) bool
}

// reserved extraParams children: meaning for the server, not custom data
// (REALTIME.md §5.4).
var reserved = map[string]bool{"save_to_history": true, "dialog_id": true, "date_sent": true, "attachment": true,
	"silent": true, "moduleIdentifier": true, "send_to_chat": true}

// parsed is what the engine reads out of a message stanza.
type parsed struct {
	to        xmpp.JID
	extra     *xmpp.Element // <extraParams>, nil when absent
	dialogID  string
	save      bool
	in        chat.MessageInput
	marker    string // "received" or "displayed"
	markerID  string
	chatState bool
}

func parseMessage(el *xmpp.Element) (parsed, bool) {
	var p parsed
	to, err := xmpp.ParseJID(el.Attr("to"))
	if err != nil || to.Local == "" {
		return p, false
	}
	p.to = to
	p.in.ID = el.Attr("id")
	if b := el.Child("body", ""); b != nil {
		p.in.Body = b.Text()
	}
	for _, name := range []string{"received", "displayed"} {
		if m := el.Child(name, xmpp.NSMarkers); m != nil {
			p.marker, p.markerID = name, m.Attr("id")
		}
	}
	for c := range el.Elements() {
		if xmpp.Namespace(c, "") == xmpp.NSChatStates {
			p.chatState = true
		}
	}
	p.extra = el.Child("extraParams", "")
	if p.extra == nil {
		return p, true
	}
	for c := range p.extra.Elements() {
		switch c.Name {
		case "save_to_history":
			p.save = c.Text() == "1" || c.Text() == "true"
		case "silent":
			p.in.Silent = c.Text() == "1" || c.Text() == "true"
		case "dialog_id":
			p.dialogID = strings.TrimSpace(c.Text())
		case "date_sent":
			if n, err := strconv.ParseInt(strings.TrimSpace(c.Text()), 10, 64); err == nil && n > 0 {
				p.in.DateSent = n
			}
		case "attachment":
			att := chat.Attachment{}
			for _, a := range c.Attrs {
				if a.Name != "xmlns" {
					att[a.Name] = a.Value
				}
			}
			p.in.Attachments = append(p.in.Attachments, att)
		default:
			if reserved[c.Name] {
				continue
			}
			if p.in.Custom == nil {
				p.in.Custom = map[string]any{}
			}
			p.in.Custom[c.Name] = customValue(c)
		}
	}
	return p, true
}

// customValue turns an extension element into a string (leaf) or a nested
// object (REALTIME.md §5.4).
func customValue(e *xmpp.Element) any {
	hasChild := false
	out := map[string]any{}
	for c := range e.Elements() {
		hasChild = true
		out[c.Name] = customValue(c)
	}
	if !hasChild {
		return e.Text()
	}
	return out
}

// roomDialog reads a room JID {appId}_{dialogId}@muc.{domain}.
func (s *Session) roomDialog(j xmpp.JID) (string, bool) {
	if j.Domain != "muc."+s.e.cfg.Domain {
		return "", false
	}
	appID, dialogID, ok := xmpp.ParseRoomLocal(j.Local)
	if !ok || appID != s.appID {
		return "", false
	}
	return dialogID, true
}

// message handles a message stanza of a bound stream (REALTIME.md §6-§9)
// in two parts (see pipeline.go): message itself reads the stanza and
// hands it to the domain, which may start storing it; the step it returns
// does the rest (waits for the store when the message is being stored,
// then delivers or refuses), and later reports whether it waits. The step
// runs with a context that outlives the connection: a message the store
// took is delivered even if its sender is gone by then.
func (s *Session) message(ctx context.Context, el *xmpp.Element) (step func(), later bool) {
	switch el.Attr("type") {
	case "error":
		return nil, false
	case "headline":
		return s.headline(el) // routed as sent, never stored (headline.go)
	}
	p, ok := parseMessage(el)
	if !ok {
		return func() { s.write(xmpp.StanzaError(el, "bad-request", "")) }, false
	}
	if isChange(el) {
		return s.change(ctx, el, p) // edits and deletes: edits.go
	}
	caller := chat.Caller{AppID: s.appID, UserID: s.userID}
	after := context.WithoutCancel(ctx)
	if dialogID, isRoom := s.roomDialog(p.to); isRoom {
		return s.roomMessage(ctx, after, el, p, caller, dialogID)
	}
	if p.to.Domain != s.e.cfg.Domain {
		return func() { s.write(xmpp.StanzaError(el, "service-unavailable", "")) }, false
	}
	to, appID, ok := xmpp.ParseUserLocal(p.to.Local)
	if !ok || appID != s.appID {
		return func() { s.write(xmpp.StanzaError(el, "service-unavailable", "")) }, false
	}
	bare := xmpp.JID{Local: p.to.Local, Domain: p.to.Domain}
	if p.chatState && p.marker == "" {
		// Typing: routed, never stored (REALTIME.md §9), unless the domain
		// drops it (a dialog id that is not the pair's).
		if !s.e.chat.DirectTyping(ctx, caller, to, p.dialogID) {
			return nil, false
		}
		return func() { s.deliverDirect(el, bare, nil, "") }, false
	}
	if p.marker != "" {
		// A marker is routed once the receipt it means is recorded (with
		// the next group commit, REALTIME.md §8.2), and only if the domain
		// found it right; else it is dropped silently.
		marked := s.e.chat.StartMarker(ctx, caller, to, p.dialogID, p.markerID, p.marker == "displayed")
		return func() {
			route, err := marked()
			if err != nil {
				s.log.Warn("record marker", "err", err)
			}
			if route {
				s.deliverDirect(el, bare, nil, "")
			}
		}, true
	}
	pending := s.e.chat.StartDirect(ctx, caller, to, p.dialogID, p.save, p.in)
	return func() {
		acc, err := pending.Wait()
		if err != nil {
			s.refuse(el, err, "service-unavailable")
			return
		}
		if !slices.Contains(acc.Recipients, to) {
			return // the domain dropped it (a block, REALTIME.md §18.9)
		}
		s.deliverDirect(el, bare, acc, "")
	}, pending.Stored()
}

// roomMessage handles a message to a dialog's room JID: groupchat fans out
// to the members; chat to a private dialog's room is a 1-1 message to the
// other participant (REALTIME.md §6.4, §7).
func (s *Session) roomMessage(ctx, after context.Context, el *xmpp.Element, p parsed, caller chat.Caller, dialogID string) (step func(), later bool) {
	if p.to.Resource != "" {
		return func() { s.write(xmpp.StanzaError(el, "feature-not-implemented", "")) }, false
	}
	if p.chatState && p.in.Body == "" {
		p.save = false
	}
	pending := s.e.chat.StartDialog(ctx, caller, dialogID, p.save, p.in)
	return func() { s.deliverRoom(after, el, p, dialogID, pending) }, pending.Stored()
}

// deliverRoom is the step of a room message: once it is stored (when it
// is), the copies to the members, or the refusal.
func (s *Session) deliverRoom(ctx context.Context, el *xmpp.Element, p parsed, dialogID string, pending *chat.Pending) {
	acc, err := pending.Wait()
	if err != nil {
		s.refuse(el, err, "item-not-found")
		return
	}
	if el.Attr("type") == "chat" && acc.Dialog.Type == chat.Private {
		for _, u := range acc.Recipients {
			if u == s.userID {
				continue
			}
			to := xmpp.UserJID(u, s.appID, s.e.cfg.Domain)
			s.deliverDirect(el, to, acc, dialogID)
		}
		return
	}
	room := xmpp.RoomJID(s.appID, dialogID, s.e.cfg.Domain)
	room.Resource = strconv.FormatInt(s.userID, 10)
	out := s.stamp(el, acc, dialogID)
	out.SetAttr("type", "groupchat")
	out.SetAttr("from", room.String())
	// Copies queued, counted once (Stats) rather than with an atomic add
	// per member.
	routed := int64(0)
	defer func() { s.e.routed.Add(routed) }()
	if acc.Everyone {
		// A broadcast reaches every available user of the application;
		// nothing is kept or pushed for the others (they read REST history).
		live := s.e.router.Available(func(local string) bool {
			u, app, ok := xmpp.ParseUserLocal(local)
			return ok && app == s.appID && !(p.chatState && u == s.userID) && acc.Reaches(u)
		})
		if len(live) > 0 {
			s.ackAhead(el) // before any copy can be answered (sm.go)
		}
		for _, sess := range live {
			copy := out.Clone()
			copy.SetAttr("to", sess.JID().String())
			if sess.Send(copy.Encode()) {
				routed++
			}
		}
		return
	}
	// The copies kept for offline members first, then the sender's <a/>
	// (sm.go), then the live copies: an acknowledged message is kept for
	// everyone it could not reach, and acknowledged before anyone can
	// answer it.
	var live []router.Session
	for _, u := range acc.Recipients {
		if p.chatState && u == s.userID {
			continue // typing is not echoed to its sender
		}
		sessions := s.e.router.Sessions(xmpp.UserJID(u, s.appID, s.e.cfg.Domain))
		live = append(live, sessions...)
		if len(sessions) == 0 && u != s.userID && acc.KeepOffline && isContent(out) {
			copy := out.Clone()
			copy.SetAttr("to", xmpp.UserJID(u, s.appID, s.e.cfg.Domain).String())
			s.keepOffline(u, copy.Encode())
		}
	}
	if len(live) > 0 {
		s.ackAhead(el)
	}
	for _, sess := range live {
		copy := out.Clone()
		copy.SetAttr("to", sess.JID().String())
		if sess.Send(copy.Encode()) {
			routed++
		}
	}
}

// deliverDirect sends a 1-1 copy from the sender's full JID to every
// available resource of `to` and returns how many got it.
func (s *Session) deliverDirect(el *xmpp.Element, to xmpp.JID, acc *chat.Accepted, dialogID string) int {
	var out *xmpp.Element
	if acc != nil {
		out = s.stamp(el, acc, dialogID)
	} else {
		out = el.Clone()
	}
	out.SetAttr("from", s.jid.String())
	out.SetAttr("to", to.String())
	out.SetAttr("type", "chat")
	frame := out.Encode()
	if acc != nil && s.smOn && tracked(el) && len(s.e.router.Sessions(to)) > 0 {
		// Acknowledged before the copy can be answered (sm.go); not when
		// the copy is kept offline, which it is before the <a/> the
		// pipeline step's end allows.
		s.ackAhead(el)
	}
	n := s.e.router.Deliver(to, frame)
	s.e.routed.Add(int64(n))
	if n == 0 && acc != nil && acc.KeepOffline && isContent(out) {
		if uid, _, ok := xmpp.ParseUserLocal(to.Local); ok {
			s.keepOffline(uid, frame)
		}
	}
	if acc != nil && isContent(out) {
		s.carbonCopy(out)
	}
	return n
}

// carbonCopy sends the delivered copy of a 1-1 content message, wrapped
// in <sent/>, to the sender's other resources that enabled carbons
// (REALTIME.md §4.3). Typing and markers are not copied.
func (s *Session) carbonCopy(delivered *xmpp.Element) {
	bare := s.jid.Bare()
	for _, other := range s.e.router.Sessions(bare) {
		o, ok := other.(*Session)
		if !ok || o == s || !o.carbons.Load() {
			continue
		}
		wrap := xmpp.NewElement("message", "xmlns", xmpp.NSClient, "from", bare.String(), "to", o.jid.String(), "type", "chat")
		wrap.AppendChild(xmpp.NewElement("sent", "xmlns", xmpp.NSCarbons)).
			AppendChild(xmpp.NewElement("forwarded", "xmlns", xmpp.NSForward)).
			AppendChild(delivered)
		o.Send(wrap.Encode())
	}
}

// isContent: a body or an attachment (what offline storage keeps).
func isContent(el *xmpp.Element) bool {
	if b := el.Child("body", ""); b != nil && b.Text() != "" {
		return true
	}
	x := el.Child("extraParams", "")
	return x != nil && x.Child("attachment", "") != nil
}

// stamp is the delivered copy of a content message: the stored id, and
// <extraParams> carrying dialog_id and date_sent, appended when missing
// (REALTIME.md §6.3 step 4).
func (s *Session) stamp(el *xmpp.Element, acc *chat.Accepted, dialogID string) *xmpp.Element {
	out := el.Clone()
	out.SetAttr("xmlns", xmpp.NSClient)
	if acc.ID != "" {
		out.SetAttr("id", acc.ID)
	}
	if acc.Dialog != nil {
		dialogID = acc.Dialog.ID
	}
	extra := out.Child("extraParams", "")
	if extra == nil {
		extra = out.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient))
	}
	if dialogID != "" && extra.Child("dialog_id", "") == nil {
		extra.AppendChild(xmpp.NewElement("dialog_id")).AppendText(dialogID)
	}
	if d := extra.Child("date_sent", ""); d == nil {
		extra.AppendChild(xmpp.NewElement("date_sent")).AppendText(strconv.FormatInt(acc.DateSent, 10))
	}
	return out
}

// refuse answers a message the domain refused with the matching stanza
// error; notFound is the condition for an unknown addressee.
func (s *Session) refuse(el *xmpp.Element, err error, notFound string) {
	cond := "internal-server-error"
	switch apperr.KindOf(err) {
	case apperr.KindNotFound:
		cond = notFound
	case apperr.KindForbidden:
		cond = "forbidden"
	case apperr.KindInvalid, apperr.KindMalformed:
		cond = "not-acceptable"
	case apperr.KindBlocked:
		// The addressee's block list (REALTIME.md §18.9): the SDK's
		// onMessageErrorListener gets {code: 503, info: "Service not available."}.
		cond = "service-unavailable"
	case apperr.KindBlocking:
		cond = "not-acceptable" // the sender's own mutual block
	default:
		s.log.Error("message failed", "err", err)
	}
	text := ""
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		text = e.Error()
	}
	s.write(xmpp.StanzaError(el, cond, text))
}
