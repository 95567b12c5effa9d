package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/xmpp"
)

// lastActivityIQ answers an IQ whose payload q is in this area's namespace.
// TODO(issue 12): not built yet.
func (s *Session) lastActivityIQ(ctx context.Context, el, q *xmpp.Element) {
	s.write(xmpp.StanzaError(el, "service-unavailable", ""))
}
