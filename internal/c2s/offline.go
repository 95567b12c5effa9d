package c2s

import (
	"context"
	"github.com/parley-chat/parley/internal/chat"
	"time"

	"github.com/parley-chat/parley/internal/xmpp"
)

// keepOffline stores a delivered copy for a user with no available
// resource (REALTIME.md §20.5).
func (s *Session) keepOffline(to int64, frame []byte) {
	if err := s.e.offline.PushOffline(context.Background(), s.appID, to, frame, time.Now(), s.e.cfg.OfflineMax); err != nil {
		s.log.Error("keep offline message", "to", to, "err", err)
	}
}

// deliverOffline sends what was kept for this user, in order, each with a
// delay element stamped with the time it was kept; right after the initial
// presence, as the spec says.
func (s *Session) deliverOffline(ctx context.Context) {
	var kept []chat.Kept
	err := onFreshStack(func() (err error) {
		kept, err = s.e.offline.PopOffline(ctx, s.appID, s.userID, s.e.cfg.OfflineMaxAge, time.Now())
		return err
	})
	if err != nil {
		s.log.Error("load offline messages", "err", err)
		return
	}
	for i, k := range kept {
		el, err := xmpp.ParseElement(k.Stanza, s.e.cfg.Limits)
		if err != nil {
			s.log.Error("kept message does not parse", "err", err)
			continue
		}
		el.SetAttr("to", s.jid.String())
		if el.Child("delay", xmpp.NSDelay) == nil { // kept twice: the first stamp is the true one
			el.AppendChild(xmpp.NewElement("delay", "xmlns", xmpp.NSDelay, "from", s.e.cfg.Domain,
				"stamp", k.At.UTC().Format("2006-01-02T15:04:05Z")))
		}
		if !s.write(el) {
			// The session ended before taking them all: keep the rest,
			// in order, for the next one.
			for _, rest := range kept[i:] {
				if err := s.e.offline.PushOffline(context.Background(), s.appID, s.userID, rest.Stanza, rest.At, s.e.cfg.OfflineMax); err != nil {
					s.log.Error("keep offline message again", "err", err)
				}
			}
			return
		}
	}
}
