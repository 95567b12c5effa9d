package c2s

import (
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Client state (REALTIME.md §16.4). An app in the background marks its
// session inactive: the SDK with the tigase mobile IQ (markInactive sends
// enable="true", markActive enable="false"), other clients with the
// XEP-0352 nonzas. An inactive session still gets everything; the state
// only decides chat alerts: a user whose available sessions are all
// inactive is as good as offline for them, since nobody is looking at the
// app. New sessions start active.

const (
	nsCSI    = "urn:xmpp:csi:0"
	nsMobile = "http://tigase.org/protocol/mobile#v2"
	nsRoster = "jabber:iq:roster"
)

// clientStateNonza handles <active/> and <inactive/> (XEP-0352); true when
// el was one. Nonzas are not stanzas: not answered, not counted by stream
// management.
func (s *Session) clientStateNonza(el *xmpp.Element) bool {
	if el.Attr("xmlns") != nsCSI {
		return false
	}
	switch el.Name {
	case "active":
		s.inactive.Store(false)
	case "inactive":
		s.inactive.Store(true)
	default:
		return false
	}
	return true
}

// clientIQ answers the IQs of this file's kind; true when el was one.
// Besides the mobile IQ, a roster get is answered with an empty roster:
// there are no rosters (REALTIME.md §20.6), and standard clients (and
// bots built on them) fetch one after login and give up on an error.
func (s *Session) clientIQ(el *xmpp.Element, result func() *xmpp.Element) bool {
	typ := el.Attr("type")
	if m := el.Child("mobile", nsMobile); m != nil && typ == "set" {
		switch m.Attr("enable") {
		case "true", "1":
			s.inactive.Store(true)
		case "false", "0":
			s.inactive.Store(false)
		default:
			s.write(xmpp.StanzaError(el, "bad-request", "enable must be true or false"))
			return true
		}
		s.write(result())
		return true
	}
	if typ == "get" && el.Child("query", nsRoster) != nil {
		r := result()
		r.AppendChild(xmpp.NewElement("query", "xmlns", nsRoster))
		s.write(r)
		return true
	}
	return false
}

// activeAmong reports whether one of the sessions is marked active.
func activeAmong(sessions []router.Session) bool {
	for _, sess := range sessions {
		if o, ok := sess.(*Session); !ok || !o.inactive.Load() {
			return true
		}
	}
	return false
}

// Away answers the chat domain (chat.Attention): a user counts as away for
// chat alerts (REALTIME.md §20.4 rule 4) with no available session, or
// only inactive ones. A session parked for stream resumption is still
// available: its messages wait for it.
func (e *Engine) Away(appID, userID int64) bool {
	return !activeAmong(e.router.Sessions(xmpp.UserJID(userID, appID, e.cfg.Domain)))
}
