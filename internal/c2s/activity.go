package c2s

import (
	"github.com/parley-chat/parley/internal/xmpp"
)

// Activity (REALTIME.md §16.3, §20.6): the time of a user's last inbound
// stanza is what a status-streaming offline push counts its seconds from.
// The spec leaves machine traffic open; a client left open in a drawer
// sends pings, stream management acks and automatic 'received' markers
// forever, and counting them would make "last seen" mean "last
// connected". So activity is what a person did:
//
//   - messages (chat, groupchat, headline) with a body or an attachment,
//     edits and deletes, typing (composing, paused), 'displayed' markers;
//     a headline is a system message or call signal the app sends on the
//     user's action (sendSystemMessage, a call);
//   - presences (the initial one, unavailable, room joins and leaves);
//   - privacy-list IQs (blocking someone is an act of the user).
//
// Not activity: errors; 'received' markers (sent automatically on
// receipt); the automatic chat states active, inactive and gone; every
// other IQ (pings, results and errors, carbons, roster, disco, the client
// state IQ, last activity and status streaming: apps issue them on a
// timer or on screen changes, not on a person's act); and every nonza
// (stream management <r/> and <a/>, client state indication).
//
// countsAsActivity is the one place that decides; the reader calls it on
// each stanza of a bound stream.
func countsAsActivity(el *xmpp.Element) bool {
	if el.Attr("type") == "error" {
		return false
	}
	switch el.Name {
	case "presence":
		return true
	case "iq":
		if t := el.Attr("type"); t != "get" && t != "set" {
			return false
		}
		for c := range el.Elements() {
			return xmpp.Namespace(c, "") == xmpp.NSPrivacy
		}
		return false
	case "message":
		if isContent(el) || isChange(el) || el.Child("displayed", xmpp.NSMarkers) != nil {
			return true
		}
		return el.Child("composing", xmpp.NSChatStates) != nil || el.Child("paused", xmpp.NSChatStates) != nil
	}
	return false
}

// noteActivity records el's time as the session's last activity when it
// counts (one clock read and an atomic store per counted stanza).
func (s *Session) noteActivity(el *xmpp.Element) {
	if countsAsActivity(el) {
		s.pres.lastActive.Store(s.e.cfg.Now().UnixNano())
	}
}
