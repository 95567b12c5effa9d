package c2s

import (
	"context"
	"slices"
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/xmpp"
)

// nsDelete is the SDK's message delete extension (REALTIME.md §11).
const nsDelete = "urn:xmpp:message-delete:0"

// Changes is what the engine asks of the chat domain about edits and
// deletes: the domain decides who may change which message and what
// changes (the rules the REST update and delete follow); the engine
// routes what it decided.
type Changes interface {
	StartEdit(ctx context.Context, c chat.Caller, dialogID string, peer int64, messageID, body string) *chat.PendingChange
	StartRemove(ctx context.Context, c chat.Caller, dialogID string, peer int64, messageID string) *chat.PendingChange
	DialogRecipients(ctx context.Context, d *chat.Dialog) (users []int64, everyone bool, err error)
}

// isChange reports whether a message stanza is an edit (<replace>,
// REALTIME.md §10) or a delete (<remove>, §11), which change a stored
// message rather than add one.
func isChange(el *xmpp.Element) bool {
	return el.Child("replace", xmpp.NSCorrect) != nil || el.Child("remove", nsDelete) != nil
}

// change handles an edit or delete stanza like a message (see
// message): the domain queues the change for the group commit, behind
// the session's earlier messages, and the step routes it once it is
// applied, or answers the refusal (an error stanza under the stanza's own
// id, nothing changed, nothing routed). Routing follows the stanza's
// type as for a message (§10 step 2), but a change is never alerted, and
// is kept for an offline recipient only where messages are (private
// dialogs), so that it reaches them once, after the message it changes.
func (s *Session) change(ctx context.Context, el *xmpp.Element, p parsed) (step func(), later bool) {
	caller := chat.Caller{AppID: s.appID, UserID: s.userID}
	dialogID, room := s.roomDialog(p.to)
	var peer int64
	if room {
		if p.to.Resource != "" {
			return func() { s.write(xmpp.StanzaError(el, "feature-not-implemented", "")) }, false
		}
	} else {
		if p.to.Domain != s.e.cfg.Domain {
			return func() { s.write(xmpp.StanzaError(el, "service-unavailable", "")) }, false
		}
		to, appID, ok := xmpp.ParseUserLocal(p.to.Local)
		if !ok || appID != s.appID {
			return func() { s.write(xmpp.StanzaError(el, "service-unavailable", "")) }, false
		}
		dialogID, peer = p.dialogID, to
	}
	var pending *chat.PendingChange
	if r := el.Child("replace", xmpp.NSCorrect); r != nil {
		pending = s.e.chat.StartEdit(ctx, caller, dialogID, peer, r.Attr("id"), p.in.Body)
	} else {
		pending = s.e.chat.StartRemove(ctx, caller, dialogID, peer, el.Child("remove", nsDelete).Attr("id"))
	}
	return func() {
		ch, err := pending.Wait()
		if err != nil {
			if apperr.KindOf(err) == apperr.KindMalformed {
				s.write(xmpp.StanzaError(el, "bad-request", err.Error()))
				return
			}
			s.refuse(el, err, "item-not-found")
			return
		}
		s.routeChange(el, ch, room)
	}, pending.Queued()
}

// routeChange sends an applied change to the dialog's members: a 1-1
// stanza (or a chat stanza to a private dialog's room) to the other
// participant's resources and as a carbon to the sender's other
// resources; a groupchat stanza from the room to every member's
// resources, the sender's included (the echo of §7.3).
func (s *Session) routeChange(el *xmpp.Element, ch *chat.Change, room bool) {
	out := el.Clone()
	out.SetAttr("xmlns", xmpp.NSClient)
	extra := out.Child("extraParams", "")
	if extra == nil {
		extra = out.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient))
	}
	if extra.Child("dialog_id", "") == nil {
		extra.AppendChild(xmpp.NewElement("dialog_id")).AppendText(ch.Dialog.ID)
	}
	if !room || (el.Attr("type") == "chat" && ch.Dialog.Type == chat.Private) {
		for _, u := range ch.Recipients {
			if u == s.userID {
				continue
			}
			to := xmpp.UserJID(u, s.appID, s.e.cfg.Domain)
			copy := out.Clone()
			copy.SetAttr("from", s.jid.String())
			copy.SetAttr("to", to.String())
			copy.SetAttr("type", "chat")
			frame := copy.Encode()
			if s.e.router.Deliver(to, frame) == 0 && ch.KeepOffline {
				s.keepOffline(u, frame)
			}
			s.carbonCopy(copy)
		}
		return
	}
	from := xmpp.RoomJID(s.appID, ch.Dialog.ID, s.e.cfg.Domain)
	from.Resource = strconv.FormatInt(s.userID, 10)
	out.SetAttr("from", from.String())
	out.SetAttr("type", "groupchat")
	s.e.fanOut(s.appID, out, ch.Recipients, ch.Everyone, ch.Reaches, func(u int64, frame []byte) {
		if u != s.userID && ch.KeepOffline {
			s.keepOffline(u, frame)
		}
	})
}

// fanOut sends el to every available resource of users (of every user of
// app when everyone), addressed to each; offline is called with a copy
// addressed to the bare JID of each user with no available resource
// (never when everyone). With everyone, reaches (when not nil) says which
// users may get it (the domain's block filter); users come filtered.
func (e *Engine) fanOut(app int64, el *xmpp.Element, users []int64, everyone bool, reaches func(int64) bool, offline func(u int64, frame []byte)) {
	send := func(sess router.Session) {
		copy := el.Clone()
		copy.SetAttr("to", sess.JID().String())
		sess.Send(copy.Encode())
	}
	if everyone {
		for _, sess := range e.router.Available(func(local string) bool {
			u, a, ok := xmpp.ParseUserLocal(local)
			return ok && a == app && (reaches == nil || reaches(u))
		}) {
			send(sess)
		}
		return
	}
	for _, u := range users {
		bare := xmpp.UserJID(u, app, e.cfg.Domain)
		sessions := e.router.Sessions(bare)
		for _, sess := range sessions {
			send(sess)
		}
		if len(sessions) == 0 && offline != nil {
			copy := el.Clone()
			copy.SetAttr("to", bare.String())
			offline(u, copy.Encode())
		}
	}
}

// notifyMessagesDeleted sends the delete notices of REALTIME.md §11.3
// for messages REST deleted for everyone: one per message to every
// available resource of every member, the deleter's included (the REST
// caller's own clients learn it too); from the room for group, public and
// broadcast dialogs, from the deleter's bare JID for private ones. The
// spec asks only for available resources: an offline member reads the
// history, which no longer has the message.
func (e *Engine) notifyMessagesDeleted(ctx context.Context, d *chat.Dialog, msgs []*chat.Message, by int64) {
	users, everyone, err := e.chat.DialogRecipients(ctx, d)
	if err != nil {
		e.log.Warn("delete notices: dialog members", "dialog", d.ID, "err", err)
		return
	}
	typ, from := "groupchat", xmpp.RoomJID(d.AppID, d.ID, e.cfg.Domain)
	from.Resource = strconv.FormatInt(by, 10)
	scope := privacy.Room
	if d.Type == chat.Private {
		typ, from, scope = "chat", xmpp.UserJID(by, d.AppID, e.cfg.Domain), privacy.Direct
	}
	// Not to members whose block list refuses the deleter, nor across the
	// deleter's own mutual block (REALTIME.md §18.9): dropped silently.
	reaches := func(u int64) bool { return e.chat.Reaches(ctx, d.AppID, by, u, scope) }
	users = slices.DeleteFunc(users, func(u int64) bool { return !reaches(u) })
	for _, m := range msgs {
		el := xmpp.NewElement("message", "xmlns", xmpp.NSClient, "type", typ, "from", from.String(),
			"id", chat.NewMessageID(e.cfg.Now()))
		el.AppendChild(xmpp.NewElement("remove", "xmlns", nsDelete, "id", m.ID))
		el.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient)).
			AppendChild(xmpp.NewElement("dialog_id")).AppendText(d.ID)
		e.fanOut(d.AppID, el, users, everyone, reaches, nil)
	}
}
