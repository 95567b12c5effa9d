package c2s

import (
	"context"
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/xmpp"
)

// roomIQ is the one dispatch point of IQs addressed to a room; false when
// el is not one (the session answers it). Only disco#items is served
// (REALTIME.md §15.7): the SDK's muc.listOnlineUsers().
func (s *Session) roomIQ(ctx context.Context, el *xmpp.Element) bool {
	if el.Attr("type") != "get" || el.Child("query", xmpp.NSDiscoItems) == nil {
		return false
	}
	j, err := xmpp.ParseJID(el.Attr("to"))
	if err != nil || j.Domain != "muc."+s.e.cfg.Domain || j.Local == "" {
		return false
	}
	k, ok := s.roomOf(j)
	if !ok || j.Resource != "" {
		s.write(xmpp.StanzaError(el, xmpp.ItemNotFound, "Dialog not found"))
		return true
	}
	// Who may join may see who joined: others are refused (the SDK then
	// resolves an empty list).
	if _, err := s.e.chat.CanJoin(ctx, chat.Caller{AppID: s.appID, UserID: s.userID}, k.dialog); err != nil {
		cond := xmpp.InternalServerError
		switch apperr.KindOf(err) {
		case apperr.KindNotFound, apperr.KindInvalid, apperr.KindMalformed:
			cond = xmpp.ItemNotFound
		case apperr.KindForbidden:
			cond = xmpp.Forbidden
		default:
			s.log.Error("room items", "err", err)
		}
		s.write(xmpp.StanzaError(el, cond, ""))
		return true
	}
	room := s.e.roomAddr(k)
	res := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result", "id", el.Attr("id"), "from", room, "to", s.jid.String())
	q := res.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSDiscoItems))
	// The joined users, each once whatever their sessions: the SDK reads
	// the id after the last '/' of each jid.
	for _, u := range s.e.joinedUsers(k) {
		id := strconv.FormatInt(u, 10)
		q.AppendChild(xmpp.NewElement("item", "jid", room+"/"+id, "name", id))
	}
	s.write(res)
	return true
}
