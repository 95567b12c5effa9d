package c2s

import (
	"context"
	"slices"
	"strconv"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/xmpp"
)

// restSender stands in for the author of a REST change on the live
// delivery paths of message.go, so that a message created through REST
// goes exactly the way a live one does (recipients, echo, carbons, offline
// keeping, alerts) without a second copy of those rules. It has no
// connection: its JID is the author's bare JID, which is no session of
// the router, so every one of the author's resources counts as "another"
// resource and gets the carbon or echo. Nothing on those paths writes to
// the sender itself once the domain accepted the message.
func (e *Engine) restSender(appID, userID int64) *Session {
	return &Session{e: e, log: e.log.With("user", userID, "app", appID, "via", "rest"),
		appID: appID, userID: userID, jid: xmpp.UserJID(userID, appID, e.cfg.Domain)}
}

// notifyMessageCreated delivers a message created through REST with
// send_to_chat=1 (REST.md §6.2) as if its sender had sent it live with
// save_to_history: chat to the other participant of a private dialog
// (kept offline when they are not online, carbons to the sender's
// resources), groupchat to the members of the others (echo to the
// sender's resources). The domain decides the recipients as for a live
// message, without storing it again (it is stored already); the copies
// are queued on the sessions' outboxes, which never block.
func (e *Engine) notifyMessageCreated(ctx context.Context, d *chat.Dialog, m *chat.Message) {
	after := context.WithoutCancel(ctx)
	s := e.restSender(d.AppID, m.SenderID)
	typ := "groupchat"
	if d.Type == chat.Private {
		typ = "chat" // a chat to a private room is the 1-1 message (REALTIME.md §6.4)
	}
	room := xmpp.RoomJID(d.AppID, d.ID, e.cfg.Domain)
	el := xmpp.NewElement("message", "xmlns", xmpp.NSClient, "type", typ, "id", m.ID, "to", room.String())
	if m.Body != "" {
		el.AppendChild(xmpp.NewElement("body")).AppendText(m.Body)
	}
	extra := el.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient))
	extra.AppendChild(xmpp.NewElement("save_to_history")).AppendText("1")
	for _, att := range m.Attachments {
		a := extra.AppendChild(xmpp.NewElement("attachment"))
		keys := make([]string, 0, len(att))
		for k := range att {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			a.SetAttr(k, att[k])
		}
	}
	appendParams(extra, m.Custom)
	// Silent: its chat alerts were queued in the transaction that stored
	// it (chat.Service.CreateMessage); deciding again would queue them twice.
	in := chat.MessageInput{ID: m.ID, Body: m.Body, DateSent: m.DateSent, Attachments: m.Attachments, Custom: m.Custom, Silent: true}
	caller := chat.Caller{AppID: d.AppID, UserID: m.SenderID}
	pending := e.chat.StartDialog(after, caller, d.ID, false, in)
	if _, err := pending.Wait(); err != nil {
		// Committed a moment ago by this very sender: only a change in
		// between (they left, the dialog was deleted) refuses it now.
		s.log.Info("send_to_chat: not delivered", "dialog", d.ID, "message", m.ID, "err", err)
		return
	}
	s.deliverRoom(after, el, parsed{in: in}, d.ID, pending)
}

// notifyReactionsChanged sends the reactions notice (REALTIME.md §12) to
// every available resource of every member of the message's dialog, the
// reactor's own resources included (their other devices), never as a
// carbon; groupchat from the reactor's occupant JID, or chat from their
// bare JID in a private dialog. Not stored, not kept offline, no alert.
func (e *Engine) notifyReactionsChanged(ctx context.Context, d *chat.Dialog, m *chat.Message, by int64, add, remove string) {
	users, everyone, err := e.chat.Audience(context.WithoutCancel(ctx), d)
	if err != nil {
		e.log.Warn("reactions notice: members", "dialog", d.ID, "err", err)
		return
	}
	el := xmpp.NewElement("message", "xmlns", xmpp.NSClient, "id", chat.NewID(e.cfg.Now()))
	if d.Type == chat.Private {
		el.SetAttr("type", "chat")
		el.SetAttr("from", xmpp.UserJID(by, d.AppID, e.cfg.Domain).String())
	} else {
		from := xmpp.RoomJID(d.AppID, d.ID, e.cfg.Domain)
		from.Resource = strconv.FormatInt(by, 10)
		el.SetAttr("type", "groupchat")
		el.SetAttr("from", from.String())
	}
	el.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient)).
		AppendChild(xmpp.NewElement("dialog_id")).AppendText(d.ID)
	r := el.AppendChild(xmpp.NewElement("reactions", "user_id", strconv.FormatInt(by, 10), "message_id", m.ID))
	if add != "" {
		r.AppendChild(xmpp.NewElement("reaction", "add", "true", "type", add))
	}
	if remove != "" {
		r.AppendChild(xmpp.NewElement("reaction", "remove", "true", "type", remove))
	}
	// Not to members whose block list refuses the reactor, nor across the
	// reactor's own mutual block (REALTIME.md §18.9): dropped silently.
	scope := privacy.Room
	if d.Type == chat.Private {
		scope = privacy.Direct
	}
	reaches := func(u int64) bool { return e.chat.Reaches(ctx, d.AppID, by, u, scope) }
	var sessions []router.Session
	if everyone {
		sessions = e.router.Available(func(local string) bool {
			u, app, ok := xmpp.ParseUserLocal(local)
			return ok && app == d.AppID && reaches(u)
		})
	} else {
		for _, u := range users {
			if reaches(u) {
				sessions = append(sessions, e.router.Sessions(xmpp.UserJID(u, d.AppID, e.cfg.Domain))...)
			}
		}
	}
	for _, sess := range sessions {
		copy := el.Clone()
		copy.SetAttr("to", sess.JID().String())
		sess.Send(copy.Encode())
	}
}
