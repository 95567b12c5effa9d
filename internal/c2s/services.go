package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/xmpp"
)

// serviceIQ is the one dispatch point of the IQs that an XMPP area of its
// own answers, chosen by the namespace of the IQ's payload: each area
// lives in its own file (privacy.go, lastactivity.go, status.go). It
// reports false for an IQ none of them takes.
func (s *Session) serviceIQ(ctx context.Context, el *xmpp.Element) bool {
	var q *xmpp.Element
	for c := range el.Elements() {
		q = c
		break
	}
	if q == nil {
		return false
	}
	switch xmpp.Namespace(q, "") {
	case xmpp.NSPrivacy:
		s.privacyIQ(ctx, el, q)
	case xmpp.NSLast:
		s.lastActivityIQ(ctx, el, q)
	case xmpp.NSStatusStreaming:
		s.statusIQ(ctx, el, q)
	default:
		return false
	}
	return true
}
