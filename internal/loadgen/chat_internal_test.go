package loadgen

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/xmpp"
)

// The load tool's stanzas have the configured size, a body the receiver
// parses back, and words for padding (so the server's full-text index
// works as with real text), different from one message to the next.
func TestStanzasArePaddedWithWords(t *testing.T) {
	for _, transport := range []string{"tcp", "ws"} {
		b := newStanzaBuilder(&XMPPConfig{Transport: transport, StanzaBytes: 300}, "2-1@localhost", "chat")
		var bodies []string
		for i := range 3 {
			sched := int64(1_700_000_000_000_000_000 + i*1_000_003)
			raw := b.build(nil, 2, sched)
			if len(raw) != 300 {
				t.Fatalf("%s: stanza of %d bytes, want 300: %s", transport, len(raw), raw)
			}
			el, err := xmpp.ParseElement(raw, xmpp.Limits{})
			if err != nil {
				t.Fatalf("%s: %v: %s", transport, err, raw)
			}
			body := el.Child("body", "").Text()
			phase, got, ok := parseBody(body)
			if !ok || phase != 2 || got != sched {
				t.Fatalf("%s: body %q parses as %d %d %v", transport, body, phase, got, ok)
			}
			padding := strings.Fields(body)[2:]
			if len(padding) < 5 || len(slices.Compact(slices.Sorted(slices.Values(padding)))) < 4 {
				t.Fatalf("%s: padding %q is not words", transport, padding)
			}
			bodies = append(bodies, strings.Join(padding, " "))
		}
		if bodies[0] == bodies[1] || bodies[1] == bodies[2] {
			t.Errorf("%s: consecutive messages have the same text: %q", transport, bodies)
		}
	}
}
