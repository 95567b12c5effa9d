package c2s

import (
	"context"
	"strconv"

	"github.com/parley-chat/parley/internal/xmpp"
)

// lastActivityIQ answers a last activity query (REALTIME.md §16.2, XEP-0012)
// on behalf of the queried user, never forwarding it (the SDK would answer
// with an error):
//
//	<iq type="result" from="{user's bare JID}" to="{asker}"><query xmlns="jabber:iq:last" seconds="N"/></iq>
//
// Errors: bad-request for a JID that is not a user's (jid-malformed is not
// in the SDK's table of conditions); item-not-found for a user of another
// app, an unknown user and a user who never connected; service-unavailable
// when the user's privacy list blocks the asker.
func (s *Session) lastActivityIQ(ctx context.Context, el, q *xmpp.Element) {
	p := s.e.presence
	if p == nil {
		s.write(xmpp.StanzaError(el, "service-unavailable", ""))
		return
	}
	if el.Attr("type") != "get" || q.Name != "query" {
		s.write(xmpp.StanzaError(el, "bad-request", "expected a get of <query/>"))
		return
	}
	target, appID, ok := s.userOf(el.Attr("to"))
	if !ok {
		s.write(xmpp.StanzaError(el, "bad-request", "to is not a user's JID"))
		return
	}
	if appID != s.appID {
		s.write(xmpp.StanzaError(el, "item-not-found", errUnknownUser))
		return
	}
	var seconds int64
	err := onFreshStack(func() (err error) {
		seconds, err = p.LastActivity(ctx, s.appID, s.userID, target)
		return err
	})
	if err != nil {
		s.presenceError(el, err)
		return
	}
	r := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result", "id", el.Attr("id"),
		"from", xmpp.UserJID(target, appID, s.e.cfg.Domain).String(), "to", s.jid.String())
	r.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSLast, "seconds", strconv.FormatInt(seconds, 10)))
	s.write(r)
}
