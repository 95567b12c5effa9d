package c2s

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/xmpp"
)

// maxSASLFailures is how many checks of credentials may fail on one
// stream: RFC 6120 §6.4.5 asks for "at least 2 and no more than 5"
// retries, then a policy-violation stream error. Each failure is also
// counted by the auth service's limits, which outlive the stream; this
// bound only stops one connection from being a cheap loop of guesses.
// Malformed requests are not counted: they check nothing, and the
// --auth-timeout ends a stream that never authenticates.
const maxSASLFailures = 6

// floodRate is how many refused stanzas a session may send before it is
// closed: a burst of 100, then 10 a second. A client that slows down when
// told resource-constraint (type wait) never reaches it; one that keeps
// sending at full speed does within a fraction of a second.
var floodRate = limit.Rate{Every: time.Second / 10, Burst: 100}

// sessionLimits are a session's own limits: they live with it (across a
// resumption too) and only its reader uses them.
type sessionLimits struct {
	ready        bool
	stanzas      *rate.Limiter // nil: no stanza rate limit
	refusals     *rate.Limiter // refused stanzas tolerated before the stream ends
	saslFailures int
}

// PeerConn is a transport that knows its client's address (both of ours
// do); the auth service counts failed logins by it.
type PeerConn interface {
	RemoteIP() string
}

func peerAddr(c Conn) string {
	if p, ok := c.(PeerConn); ok {
		return p.RemoteIP()
	}
	return ""
}

// admitStanza takes one stanza from the session's rate (REALTIME.md
// §20.7): one limiter call, on the reader, for each message, presence or
// IQ of a bound stream. Nonzas (stream management) are not counted: they
// have no error to answer with and cost next to nothing.
func (s *Session) admitStanza(el *xmpp.Element) bool {
	switch el.Name {
	case "message", "presence", "iq":
	default:
		return true
	}
	if !s.lim.ready {
		s.lim.ready = true
		s.lim.stanzas = limit.NewLimiter(s.e.cfg.StanzaRate)
		if s.lim.stanzas != nil {
			s.lim.refusals = limit.NewLimiter(floodRate)
		}
	}
	return s.lim.stanzas == nil || s.lim.stanzas.Allow()
}

// refuseStanza answers a stanza over the rate with resource-constraint
// (code 500, type wait: REALTIME.md §19) and does nothing else with it; it
// still counts as handled for stream management, in order with the
// stanzas before it. A session that keeps flooding is closed with
// policy-violation; true means the stream ended.
func (s *Session) refuseStanza(el *xmpp.Element) bool {
	if !s.lim.refusals.Allow() {
		s.pipe.drain()
		s.log.Warn("stanza flood; closing the stream", "user", s.userID, "app", s.appID)
		s.streamError("policy-violation", "too many stanzas")
		return true
	}
	typ := el.Attr("type")
	answer := typ != "error" && !(el.Name == "iq" && typ == "result")
	s.pipe.run(false, func() {
		if answer { // never an error to an error (RFC 6120 §8.3.1)
			s.write(roomRefusal(el, xmpp.StanzaError(el, "resource-constraint", "Too many stanzas; slow down")))
		}
		s.handled++
	})
	return false
}

// authFailed answers a refused SASL PLAIN login: not-authorized for wrong
// credentials, temporary-auth-failure (RFC 6120 §6.5.12) when the auth
// service's limits refused to check them, or on a server fault.
func (s *Session) authFailed(err error) {
	defer s.countSASLFailure()
	e, _ := apperr.As(err)
	switch {
	case e != nil && e.Kind == apperr.KindUnauthorized:
		s.saslFailure("not-authorized", "Password not verified")
	case e != nil && e.Kind == apperr.KindRateLimited:
		s.saslFailure("temporary-auth-failure", e.Message)
	default:
		s.log.Error("authentication failed", "err", err)
		s.saslFailure("temporary-auth-failure", "")
	}
}

// countSASLFailure ends a stream that failed to authenticate too often.
func (s *Session) countSASLFailure() {
	if s.lim.saslFailures++; s.lim.saslFailures >= maxSASLFailures {
		s.streamError("policy-violation", "too many failed authentication attempts")
	}
}
