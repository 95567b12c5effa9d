package c2s

import (
	"testing"

	"github.com/parley-chat/parley/internal/xmpp"
)

// The stanzas that count as a person's activity (activity.go), and the
// machine traffic that does not.
func TestCountsAsActivity(t *testing.T) {
	const to = `to="2-1@localhost" xmlns="jabber:client"`
	for _, tc := range []struct {
		stanza string
		counts bool
	}{
		{`<message type="chat" ` + to + `><body>hi</body></message>`, true},
		{`<message type="chat" ` + to + `><extraParams><attachment type="image" id="x"/></extraParams></message>`, true},
		{`<message type="chat" ` + to + `><body>new</body><replace xmlns="urn:xmpp:message-correct:0" id="m"/></message>`, true},
		{`<message type="chat" ` + to + `><remove xmlns="urn:xmpp:message-delete:0" id="m"/></message>`, true},
		{`<message type="chat" ` + to + `><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`, true},
		{`<message type="chat" ` + to + `><paused xmlns="http://jabber.org/protocol/chatstates"/></message>`, true},
		{`<message type="chat" ` + to + `><displayed xmlns="urn:xmpp:chat-markers:0" id="m"/></message>`, true},
		{`<message type="headline" ` + to + `><extraParams><moduleIdentifier>SystemNotifications</moduleIdentifier></extraParams><body>x</body></message>`, true},
		{`<presence xmlns="jabber:client"/>`, true},
		{`<presence type="unavailable" xmlns="jabber:client"/>`, true},
		{`<presence to="1_65a1f0c2e4b0a1b2c3d4e5f7@muc.localhost/2" xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc"/></presence>`, true},
		{`<iq type="set" id="p" xmlns="jabber:client"><query xmlns="jabber:iq:privacy"><default name="l"/></query></iq>`, true},

		{`<message type="chat" ` + to + `><received xmlns="urn:xmpp:chat-markers:0" id="m"/></message>`, false},
		{`<message type="chat" ` + to + `><active xmlns="http://jabber.org/protocol/chatstates"/></message>`, false},
		{`<message type="error" ` + to + `><body>hi</body></message>`, false},
		{`<presence type="error" xmlns="jabber:client"/>`, false},
		{`<iq type="get" id="p" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`, false},
		{`<iq type="result" id="p" xmlns="jabber:client"/>`, false},
		{`<iq type="error" id="p" xmlns="jabber:client"><query xmlns="jabber:iq:privacy"/></iq>`, false},
		{`<iq type="get" id="l" ` + to + `><query xmlns="jabber:iq:last"/></iq>`, false},
		{`<iq type="set" id="s" xmlns="jabber:client"><subscribe xmlns="https://connectycube.com/protocol/status_streaming" user_jid="2-1@localhost" enable="true"/></iq>`, false},
		{`<iq type="set" id="m" xmlns="jabber:client"><mobile xmlns="http://tigase.org/protocol/mobile#v2" enable="true"/></iq>`, false},
		{`<iq type="set" id="c" xmlns="jabber:client"><enable xmlns="urn:xmpp:carbons:2"/></iq>`, false},
		{`<r xmlns="urn:xmpp:sm:3"/>`, false},
		{`<a xmlns="urn:xmpp:sm:3" h="3"/>`, false},
		{`<inactive xmlns="urn:xmpp:csi:0"/>`, false},
	} {
		el, err := xmpp.ParseElement([]byte(tc.stanza), xmpp.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tc.stanza, err)
		}
		if got := countsAsActivity(el); got != tc.counts {
			t.Errorf("countsAsActivity(%s) = %t; want %t", tc.stanza, got, tc.counts)
		}
	}
}
