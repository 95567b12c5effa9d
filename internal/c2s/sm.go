package c2s

import (
	"context"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/xmpp"
)

// Stream management (XEP-0198). Every session that enables it has its
// stanzas counted both ways: the client learns what the server handled
// (the SDK's 'sent' status, REALTIME.md §17), and the server keeps what it
// wrote until the client acknowledges it, so a connection that dies takes
// nothing with it: unacknowledged messages are written again after a
// resume, or kept as offline messages when the session ends.
//
// A session enabled with resume="true" outlives a lost connection for
// ResumeTimeout ("parked"): it stays routed and available, deliveries
// queue up, and a new connection that authenticates as the same user can
// take it up with <resume previd=.../> instead of binding.

// smElement handles a stream management nonza of a bound stream; true
// ends the stream.
func (s *Session) smElement(el *xmpp.Element) bool {
	switch el.Name {
	case "enable":
		if s.smOn {
			s.write(smFailed("unexpected-request"))
			return false
		}
		// h counts the stanzas handled since enable; a stanza is counted
		// after it was processed, so an ack for a saved message means it
		// is stored.
		s.smOn, s.handled = true, 0
		enabled := xmpp.NewElement("enabled", "xmlns", xmpp.NSSM)
		if r := el.Attr("resume"); r == "true" || r == "1" {
			s.resumeID = randomString(24)
			s.e.rememberResumable(s.resumeID, s)
			enabled.SetAttr("id", s.resumeID)
			enabled.SetAttr("resume", "true")
			enabled.SetAttr("max", strconv.Itoa(int(s.e.cfg.ResumeTimeout/time.Second)))
		}
		if l := s.out.currentLink(); l != nil {
			s.out.pushWait(enabled.Encode(), kindSMStart, l.stop)
		}
	case "r":
		s.write(xmpp.NewElement("a", "xmlns", xmpp.NSSM, "h", strconv.FormatUint(uint64(s.handled), 10)))
	case "a":
		h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
		if err != nil {
			s.streamError("undefined-condition", "the acknowledged count is not a count of sent stanzas")
			return true
		}
		ok, offDone := s.out.ack(uint32(h))
		if !ok {
			s.streamError("undefined-condition", "the acknowledged count is not a count of sent stanzas")
			return true
		}
		if offDone > s.off.deleted {
			s.offlineAcked(offDone)
		}
	case "resume":
		s.write(smFailed("unexpected-request"))
	default:
		s.write(smFailed("feature-not-implemented"))
	}
	return false
}

// ackAhead writes an unsolicited <a h> (XEP-0198 lets either party send
// one at any time) that already counts the content message whose pipeline
// step is running, once it is accepted and before its copies are routed.
// The SDK shows a message as 'sent' on the <a> that covers it and as
// 'delivered' / 'read' on the recipient's markers; answering only the
// client's <r/>, which the reader takes up after the step, let a recipient
// whose SDK sends its 'received' marker at once get that marker onto this
// outbox first, and the sender's tick went back from 'delivered' to
// 'sent'. Queued here, the <a> is ahead of anything the copy can cause.
// It is sent only when a live copy is about to go out, after the copies
// kept for offline recipients: an <a> still means the message is stored
// and kept for whoever it could not reach (the crash test relies on it).
// The one exception is a recipient whose every session closes between the
// look-up and the delivery: its copy is then kept just after the <a>.
// The SDK adds a message to its queue of unacknowledged ones before
// anything it receives is handled (the WebSocket write resolves in a
// microtask), so an early <a> never finds the queue without it; the <a>
// answering the <r/> then repeats the same h, which the SDK takes as
// nothing new.
//
// Only for a message the SDK tracks (tracked): an <a> counting one it does
// not track would mark the next queued message, maybe not yet stored, as
// sent (the SDK marks as many queued messages as h went up).
func (s *Session) ackAhead(el *xmpp.Element) {
	if !s.smOn || !tracked(el) {
		return
	}
	s.write(xmpp.NewElement("a", "xmlns", xmpp.NSSM, "h", strconv.FormatUint(uint64(s.handled+1), 10)))
}

// tracked reports whether the SDK waits for an <a/> for the message el:
// chat or groupchat with a <body> or an <attachment> as a direct child
// (REALTIME.md §17; the SDK's own attachments sit inside <extraParams>).
func tracked(el *xmpp.Element) bool {
	if t := el.Attr("type"); t != "chat" && t != "groupchat" {
		return false
	}
	if b := el.Child("body", ""); b != nil && b.Text() != "" {
		return true
	}
	return el.Child("attachment", "") != nil
}

func smFailed(cond string) *xmpp.Element {
	f := xmpp.NewElement("failed", "xmlns", xmpp.NSSM)
	f.AppendChild(xmpp.NewElement(cond, "xmlns", xmpp.NSStanzas))
	return f
}

// resume answers <resume/> on an authenticated, unbound stream. It returns
// the earlier session this connection now serves, or nil (answered with
// <failed/>; the client may bind instead).
func (s *Session) resume(el *xmpp.Element) *Session {
	h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
	if err != nil {
		s.write(smFailed("bad-request"))
		return nil
	}
	old := s.e.resumableOf(el.Attr("previd"), s.appID, s.userID)
	if old == nil {
		s.write(smFailed("item-not-found"))
		return nil
	}
	for attempt := 0; ; attempt++ {
		n, ph := old.out.resume(uint32(h), func() []byte {
			// Parked: its reader is done, so its count is settled.
			return xmpp.NewElement("resumed", "xmlns", xmpp.NSSM, "previd", old.resumeID,
				"h", strconv.FormatUint(uint64(old.handled), 10)).Encode()
		})
		switch {
		case ph == phaseResuming:
			old.log.Info("stream resumed", "resent", n)
			s.e.handOver(s, old)
			return old
		case ph == phaseLive && attempt == 0:
			// The client is back before its old connection was seen to
			// fail: end that one (it parks the session) and take over.
			if l := old.out.currentLink(); l != nil {
				l.close()
				select {
				case <-l.done:
				case <-time.After(writeTimeout):
				}
			}
		default:
			s.write(smFailed("item-not-found"))
			return nil
		}
	}
}

// detachable reports whether a session whose connection just ended should
// wait for its client to resume: it enabled resumption, the stream did not
// end on purpose, and neither the session nor the server is closing.
func (s *Session) detachable(ctx context.Context, l *link) bool {
	return s.resumeID != "" && s.state == stateBound && !l.final.Load() && !s.killed() && ctx.Err() == nil
}

// park keeps the session, without a connection, until a resume takes it
// up or it expires.
func (s *Session) park(ctx context.Context) {
	released, ok := s.out.park()
	if !ok {
		s.finish(false)
		return
	}
	s.log.Info("connection lost; session kept for resumption", "for", s.e.cfg.ResumeTimeout)
	s.e.live.Add(1)
	go func() {
		defer s.e.live.Done()
		timer := time.NewTimer(s.e.cfg.ResumeTimeout)
		defer timer.Stop()
		select {
		case <-released:
			return
		case <-timer.C:
		case <-s.kill:
		case <-ctx.Done():
		}
		if s.out.expire() {
			s.finish(false)
			return
		}
		<-released // a resume took it up just now
	}()
}

func (e *Engine) rememberResumable(id string, s *Session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.resumable[id] = s
}

// resumableOf finds the resumable session id of this very user.
func (e *Engine) resumableOf(id string, appID, userID int64) *Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.resumable[id]
	if s == nil || s.appID != appID || s.userID != userID {
		return nil
	}
	return s
}

func (e *Engine) forgetResumable(s *Session) {
	if s.resumeID == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.resumable[s.resumeID] == s {
		delete(e.resumable, s.resumeID)
	}
}
