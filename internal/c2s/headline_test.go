package c2s_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// A system message as the SDK sends it (REALTIME.md §13.1): no from.
func systemMessage(to, id string) string {
	return `<message type="headline" id="` + id + `" to="` + to + `" xmlns="jabber:client"><body>dialog/UPDATE_DIALOG</body>` +
		`<extraParams xmlns="jabber:client"><moduleIdentifier>SystemNotifications</moduleIdentifier>` +
		`<save_to_history>1</save_to_history><name>Our photos</name></extraParams></message>`
}

// A call signal as the SDK's calling module sends it (REALTIME.md §14).
func signal(to, id string) string {
	return `<message to="` + to + `" type="headline" id="` + id + `" xmlns="jabber:client"><extraParams xmlns="jabber:client">` +
		`<sessionID>3f1c2a9e</sessionID><callType>1</callType><opponentsIDs><opponentID>7</opponentID></opponentsIDs>` +
		`<iceCandidates><iceCandidate><candidate>candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host</candidate>` +
		`<sdpMid>0</sdpMid></iceCandidate></iceCandidates><moduleIdentifier>WebRTCVideoChat</moduleIdentifier>` +
		`<signalType>iceCandidates</signalType><platform>web</platform></extraParams></message>`
}

// Headlines (system messages and call signalling) reach every available
// resource of the addressee as sent, with from stamped: never rewritten to
// chat, never stored, never kept offline, never carbon-copied.
func TestHeadlinesAreRoutedAsSentAndNeverKept(t *testing.T) {
	var dataDir string
	env := servertest.Start(t, func(c *config.Config) { dataDir = c.DataDir })
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	a1, aJID := login(t, env, alice, alice.Password)
	a2, _ := login(t, env, alice, alice.Token)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token)

	for _, sent := range []string{systemMessage(userJID(env, bob), "65a1f5719e1b2c3d4e000001"), signal(userJID(env, bob), "65a1fa20c81a4f0e2b000002")} {
		a1.send(sent)
		want, err := xmpp.ParseElement([]byte(sent), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want.SetAttr("from", aJID.String())
		for _, b := range []*client{b1, b2} {
			got := b.expect("message")
			if got.Attr("type") != "headline" || got.Attr("from") != aJID.String() || got.Attr("id") != want.Attr("id") {
				t.Fatalf("delivered %s", got.AppendXML(nil))
			}
			// Unchanged: the same children in the same order (no dialog_id,
			// no date_sent, no stored id).
			if g, w := string(got.Child("extraParams", "").AppendXML(nil)), string(want.Child("extraParams", "").AppendXML(nil)); g != w {
				t.Fatalf("extraParams delivered\n%s\nwant\n%s", g, w)
			}
		}
	}
	// No carbon copy to the sender's other resource.
	a2.nothingQueued("carbons of headlines")
	// Not stored: even with save_to_history, no dialog came of it.
	list := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Dialog.json", Token: bob.Token}, http.StatusOK)
	if n := len(list["items"].([]any)); n != 0 {
		t.Fatalf("bob has %d dialogs after headlines, want 0", n)
	}
	// Nobody online: dropped, nothing kept for later.
	a1.send(systemMessage(userJID(env, carol), "65a1f5719e1b2c3d4e000003"))
	a1.send(signal(userJID(env, carol), "65a1f5719e1b2c3d4e000004"))
	a1.nothingQueued("headlines to an offline user")
	if n := keptRows(t, dataDir, carol.ID); n != 0 {
		t.Fatalf("%d offline rows for carol, want 0", n)
	}
	// carol logs in: nothing waits for her.
	c, _ := login(t, env, carol, carol.Password)
	c.nothingQueued("offline delivery after headlines")
}

// A headline to a room is refused as the spec says (REALTIME.md §13.2,
// §19: feature-not-implemented, 501); to another app's user or another
// domain it is refused as chat is; to an unknown user of the app it is
// dropped (the route reads nothing, and nothing is kept).
func TestHeadlinesThatCannotBeRouted(t *testing.T) {
	var dataDir string
	env := servertest.Start(t, func(c *config.Config) { dataDir = c.DataDir })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	room := fmt.Sprintf("%d_65a1f0c2e4b0a1b2c3d4e5f7@muc.localhost", env.App.ID)
	for _, tc := range []struct{ to, cond, code string }{
		{room, "feature-not-implemented", "501"},
		{fmt.Sprintf("%d-%d@localhost", bob.ID, env.App.ID+1), "service-unavailable", "503"},
		{fmt.Sprintf("%d-%d@elsewhere.example", bob.ID, env.App.ID), "service-unavailable", "503"},
	} {
		a.send(systemMessage(tc.to, "hl-err"))
		e := a.expect("message")
		errEl := e.Child("error", "")
		if e.Attr("type") != "error" || e.Attr("id") != "hl-err" || errEl == nil || errEl.Attr("code") != tc.code ||
			errEl.Child(tc.cond, xmpp.NSStanzas) == nil {
			t.Fatalf("headline to %s answered %s, want %s (%s)", tc.to, e.AppendXML(nil), tc.cond, tc.code)
		}
	}
	unknown := bob.ID + 1000
	a.send(systemMessage(fmt.Sprintf("%d-%d@localhost", unknown, env.App.ID), "hl-unknown"))
	a.nothingQueued("headline to an unknown user")
	if n := keptRows(t, dataDir, unknown); n != 0 {
		t.Fatalf("%d offline rows for an unknown user", n)
	}
}

// A headline larger than the stanza limit ends the connection, as any
// stanza does (over WebSocket the frame is over the read limit: the
// connection is closed, with a policy-violation stream error when the
// server read the frame); the addressee gets nothing.
func TestOversizedHeadlineEndsTheStream(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The server may cut the connection while the frame is being written.
	_ = a.c.Write(ctx, websocket.MessageText, []byte(`<message type="headline" to="`+userJID(env, bob)+`" id="big" xmlns="jabber:client"><body>`+
		strings.Repeat("x", 1<<20)+`</body></message>`))
	for {
		_, frame, err := a.c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the connection outlived a 1 MiB headline")
			}
			break // closed
		}
		if el, err := xmpp.ParseElement(frame, xmpp.Limits{}); err == nil && el.Name == "stream:error" && el.Child("policy-violation", "") == nil {
			t.Fatalf("stream error %s, want policy-violation", frame)
		}
	}
	b.nothingQueued("oversized headline")
}

// A system message created through REST (REST.md §6.6) reaches the
// recipient's online resources as REALTIME.md §13.3 shows it.
func TestRESTSystemMessageIsDeliveredLive(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token)
	resp := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message/system.json", Token: alice.Token,
		Body: map[string]any{"recipientId": bob.ID, "needToUpdatePhotosStories": "1", "friendId": "90675",
			"userExt": map[string]any{"name": "Smith"}}}, http.StatusOK)
	id, _ := resp["messageId"].(string)
	if id == "" {
		t.Fatalf("response %v", resp)
	}
	want := `<extraParams xmlns="jabber:client"><moduleIdentifier>SystemNotifications</moduleIdentifier>` +
		`<friendId>90675</friendId><needToUpdatePhotosStories>1</needToUpdatePhotosStories><userExt><name>Smith</name></userExt></extraParams>`
	for _, b := range []*client{b1, b2} {
		m := b.expect("message")
		if m.Attr("type") != "headline" || m.Attr("id") != id || m.Attr("from") != userJID(env, alice) ||
			m.Attr("to") != userJID(env, bob) || m.Child("body", "") != nil {
			t.Fatalf("delivered %s", m.AppendXML(nil))
		}
		if got := string(m.Child("extraParams", "").AppendXML(nil)); got != want {
			t.Fatalf("extraParams\n%s\nwant\n%s", got, want)
		}
	}
}
