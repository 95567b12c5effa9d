package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Offline messages (REALTIME.md §20.5) stay in the store until they are
// known delivered: acknowledged by the client (stream management), or,
// without stream management, written to its socket. A session that ends
// before that, or a crash, leaves them kept for the next login; nothing is
// kept twice, because they were never removed. They are read a page at a
// time, so a user with thousands kept costs a page of memory, not all of
// them; with stream management the next page waits for the client to
// acknowledge enough of the previous ones (the reader cannot wait for an
// acknowledgement it would itself have to read, so pages after the first
// window follow the acknowledgements).

// offlinePage is how many kept messages are read from the store at once.
const offlinePage = 100

// offlineCursor is a session's progress through the user's kept
// messages. Only the session's reader uses it (and finish, after the
// reader is done).
type offlineCursor struct {
	active      bool  // this session claimed the user's offline delivery
	checkAge    bool  // the first page is still to be read
	more        bool  // the store may hold rows after last
	last        int64 // the highest row id queued
	deleted     int64 // rows up to this id are deleted
	pushed      int   // copies queued so far
	pushedBytes int64 // their bytes
}

// keepOffline stores a delivered copy for a user with no available
// resource (REALTIME.md §20.5). Past --offline-max kept for that user it
// is not kept (the oldest, which the user has waited for longest, stay);
// it is counted and logged, never dropped silently. The message itself is
// in the dialog's history when it was saved.
func (s *Session) keepOffline(to int64, frame []byte) {
	kept, err := s.e.offline.PushOffline(context.Background(), s.appID, to, frame, s.e.cfg.Now(), s.e.cfg.OfflineMax)
	if err != nil {
		s.log.Error("keep offline message", "to", to, "err", err)
		return
	}
	if !kept {
		n := s.e.offlineRefused.Add(1)
		s.log.Warn("offline messages over the limit: message not kept for offline delivery",
			"to", to, "app", s.appID, "limit", s.e.cfg.OfflineMax, "not_kept_total", n)
	}
}

// OfflineNotKept is how many messages were not kept for offline delivery
// because their recipient had --offline-max kept already.
func (e *Engine) OfflineNotKept() int64 { return e.offlineRefused.Load() }

// deliverOffline starts sending what was kept for this user, in order,
// each with a delay element stamped with the time it was kept; right
// after the initial presence, as the spec says. The latest session of a
// user to log in delivers them: one still delivering stops queueing more
// (what it has queued may reach both: rows are deleted only once
// acknowledged, so delivery is at least once). Taking over rather than
// waiting matters for a client that reconnects before its old connection
// was seen to fail.
func (s *Session) deliverOffline(ctx context.Context) {
	s.e.claimOffline(s)
	s.off.active, s.off.more, s.off.checkAge = true, true, true
	s.pumpOffline(ctx)
}

// expireOffline removes the user's kept messages older than OfflineMaxAge,
// counted and logged. It runs only when the first page shows one: a login
// with nothing kept costs one read, no write.
func (s *Session) expireOffline(ctx context.Context) {
	var expired int
	err := onFreshStack(func() (err error) {
		expired, err = s.e.offline.ExpireOffline(ctx, s.appID, s.userID, s.e.cfg.Now().Add(-s.e.cfg.OfflineMaxAge))
		return err
	})
	if err != nil {
		s.log.Error("expire offline messages", "err", err)
	} else if expired > 0 {
		s.log.Warn("offline messages expired undelivered", "count", expired, "max_age", s.e.cfg.OfflineMaxAge)
	}
}

// pumpOffline queues kept messages until none is left or, with stream
// management, until the unacknowledged ones fill the window.
func (s *Session) pumpOffline(ctx context.Context) {
	l := s.out.currentLink()
	if l == nil {
		return
	}
	for s.off.more && s.offlineRoom() {
		if !s.e.deliversOffline(s) {
			s.off.more = false // a newer session of the user took over
			break
		}
		var page []chat.Kept
		err := onFreshStack(func() (err error) {
			page, err = s.e.offline.PeekOffline(ctx, s.appID, s.userID, s.off.last, offlinePage)
			return err
		})
		if err != nil {
			s.log.Error("load offline messages", "err", err)
			s.off.more = false // they stay kept for the next login
			break
		}
		if s.off.checkAge {
			s.off.checkAge = false
			if len(page) > 0 && page[0].At.Before(s.e.cfg.Now().Add(-s.e.cfg.OfflineMaxAge)) {
				s.expireOffline(ctx)
				continue // read the first page again
			}
		}
		if len(page) == 0 {
			s.off.more = false
			break
		}
		s.off.more = len(page) == offlinePage
		s.log.Debug("offline page", "rows", len(page))
		for _, k := range page {
			if !s.offlineRoom() {
				s.off.more = true // the rest of the page is read again later
				return
			}
			b := s.offlineCopy(k)
			if b != nil && !s.out.pushWaitFrame(frame{b: b, kind: kindStanza, off: k.ID}, l.stop) {
				s.off.more = false // the session ended: the rest stays kept
				return
			}
			s.off.last = k.ID
			if b != nil {
				s.off.pushed++
				s.off.pushedBytes += int64(len(b))
			}
		}
		if !s.smOn {
			// No acknowledgements: written is delivered. The page's
			// rows go once the writer has written it.
			if !s.flushWait(l) {
				s.off.more = false
				return
			}
			s.deleteOffline(s.off.last)
		}
	}
	s.offlineSettled()
}

// offlineRoom reports whether another kept message may be queued: without
// stream management the queue's bound paces them (pushWait); with it, the
// copies not yet acknowledged stay under half of what the session may
// hold unacknowledged, so that live deliveries still fit.
func (s *Session) offlineRoom() bool {
	if !s.smOn {
		return true
	}
	acked, ackedBytes, _ := s.out.offlineAcked()
	inFlight := s.off.pushed - acked
	return inFlight == 0 || (inFlight < s.out.maxUnacked/2 && s.off.pushedBytes-ackedBytes < s.out.maxBytes/2)
}

// offlineAcked follows an acknowledgement that covered kept messages up to
// row id upTo: their rows go, and the next ones are queued.
func (s *Session) offlineAcked(upTo int64) {
	s.deleteOffline(upTo)
	if s.off.more {
		s.pumpOffline(context.Background())
		return
	}
	s.offlineSettled()
}

// offlineSettled forgets the claim once everything this session queued
// is deleted.
func (s *Session) offlineSettled() {
	if s.off.active && !s.off.more && s.off.deleted >= s.off.last {
		s.off.active = false
		s.e.releaseOffline(s)
	}
}

// endOffline settles offline delivery when the session ends: the rows
// known delivered (upTo) go, the others stay kept.
func (s *Session) endOffline(upTo int64) {
	if upTo > s.off.deleted {
		s.deleteOffline(upTo)
	}
	if s.off.active {
		s.off.active = false
		s.e.releaseOffline(s)
	}
}

func (s *Session) deleteOffline(upTo int64) {
	if upTo <= s.off.deleted {
		return
	}
	err := onFreshStack(func() error {
		return s.e.offline.DeleteOffline(context.Background(), s.appID, s.userID, upTo)
	})
	if err != nil {
		// They stay kept and are delivered again next time.
		s.log.Error("delete delivered offline messages", "err", err)
		return
	}
	s.off.deleted = upTo
}

// offlineCopy is the kept stanza as delivered: addressed to this
// resource, with its delay stamp; nil when it does not parse.
func (s *Session) offlineCopy(k chat.Kept) []byte {
	el, err := xmpp.ParseElement(k.Stanza, s.e.cfg.Limits)
	if err != nil {
		s.log.Error("kept message does not parse", "err", err)
		return nil
	}
	el.SetAttr("to", s.jid.String())
	if el.Child("delay", xmpp.NSDelay) == nil { // kept twice: the first stamp is the true one
		el.AppendChild(xmpp.NewElement("delay", "xmlns", xmpp.NSDelay, "from", s.e.cfg.Domain,
			"stamp", k.At.UTC().Format("2006-01-02T15:04:05Z")))
	}
	return el.Encode()
}

// flushWait waits until the writer wrote everything queued before now;
// false when the connection stopped first (a write that stalls ends it
// within writeTimeout).
func (s *Session) flushWait(l *link) bool {
	select {
	case <-s.flushed:
	default:
	}
	if !s.out.pushWait(nil, kindFlush, l.stop) {
		return false
	}
	select {
	case <-s.flushed:
		return true
	case <-l.stop:
		return false
	}
}

// claimOffline makes s the session delivering its user's kept messages.
func (e *Engine) claimOffline(s *Session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offlineBy[s.userID] = s
}

// deliversOffline reports whether s is still the session delivering its
// user's kept messages.
func (e *Engine) deliversOffline(s *Session) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.offlineBy[s.userID] == s
}

func (e *Engine) releaseOffline(s *Session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.offlineBy[s.userID] == s {
		delete(e.offlineBy, s.userID)
	}
}
