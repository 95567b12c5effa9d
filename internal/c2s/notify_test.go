package c2s_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// wantReactions checks a reactions notice (REALTIME.md §12).
func wantReactions(t *testing.T, m *xmpp.Element, typ, from, dialogID, msgID string, by int64, add, remove string) {
	t.Helper()
	r := m.Child("reactions", "")
	if m.Attr("type") != typ || m.Attr("from") != from || r == nil || r.Attr("message_id") != msgID ||
		r.Attr("user_id") != fmt.Sprint(by) || extra(t, m, "dialog_id") != dialogID || m.Child("body", "") != nil {
		t.Fatalf("reactions notice %s", m.AppendXML(nil))
	}
	var gotAdd, gotRemove string
	for c := range r.Elements() {
		if c.Attr("add") == "true" {
			gotAdd = c.Attr("type")
		}
		if c.Attr("remove") == "true" {
			gotRemove = c.Attr("type")
		}
	}
	if gotAdd != add || gotRemove != remove {
		t.Fatalf("reactions notice %s: want add %q remove %q", m.AppendXML(nil), add, remove)
	}
}

// A reaction changed through REST is told live to every available
// resource of every member, the reactor's own included; groupchat from the
// occupant JID in a group, chat from the bare JID in a private dialog.
func TestReactionsAreToldLive(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	groupID := g["_id"].(string)
	gm := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"chat_dialog_id": groupID, "message": "vote"}}, http.StatusCreated)
	a, _ := login(t, env, alice, alice.Password)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token)
	c, _ := login(t, env, carol, carol.Password)

	restJSON(t, env, servertest.Req{Method: "PUT", Path: "/chat/Message/" + gm["_id"].(string) + "/reactions.json", Token: bob.Token,
		Body: map[string]any{"add": "👍", "remove": "👎"}}, http.StatusOK)
	from := fmt.Sprintf("%d_%s@muc.localhost/%d", env.App.ID, groupID, bob.ID)
	for _, cl := range []*client{a, b1, b2} {
		wantReactions(t, cl.expect("message"), "groupchat", from, groupID, gm["_id"].(string), bob.ID, "👍", "👎")
	}
	c.nothingQueued("a non-member after a reaction")

	pm := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"recipient_id": bob.ID, "message": "hi"}}, http.StatusCreated)
	restJSON(t, env, servertest.Req{Method: "PUT", Path: "/chat/Message/" + pm["_id"].(string) + "/reactions.json", Token: alice.Token,
		Body: map[string]any{"remove": "🚀"}}, http.StatusOK)
	for _, cl := range []*client{a, b1, b2} {
		wantReactions(t, cl.expect("message"), "chat", userJID(env, alice), pm["chat_dialog_id"].(string), pm["_id"].(string), alice.ID, "", "🚀")
	}
	c.nothingQueued("a non-member after a private reaction")
}

// send_to_chat=1 (REST.md §6.2) delivers the created message as a live
// one: in a private dialog a chat from the sender to the other
// participant, kept offline when they are not online, with carbons to the
// sender's resources; in a group a groupchat to every member, the
// sender's resources included (echo). Without send_to_chat nothing goes.
func TestSendToChatIsDeliveredAsLive(t *testing.T) {
	var dataDir string
	env := servertest.Start(t, func(c *config.Config) { dataDir = c.DataDir })
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)

	// Private dialog, bob online.
	pm := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"recipient_id": bob.ID, "message": "from rest", "send_to_chat": 1, "color": "red"}}, http.StatusCreated)
	privateID := pm["chat_dialog_id"].(string)
	m := b.expect("message")
	if m.Attr("type") != "chat" || m.Attr("id") != pm["_id"] || m.Attr("from") != userJID(env, alice) ||
		m.Attr("to") != userJID(env, bob) || m.Child("body", "").Text() != "from rest" ||
		extra(t, m, "dialog_id") != privateID || extra(t, m, "color") != "red" {
		t.Fatalf("send_to_chat copy %s", m.AppendXML(nil))
	}
	extra(t, m, "date_sent")
	carbon := a.expect("message")
	if fwd := carbon.Child("sent", xmpp.NSCarbons); fwd == nil || fwd.Child("forwarded", xmpp.NSForward).Child("message", "").Attr("id") != pm["_id"] {
		t.Fatalf("carbon %s", carbon.AppendXML(nil))
	}
	// Without send_to_chat: stored, not delivered.
	restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"chat_dialog_id": privateID, "message": "quiet"}}, http.StatusCreated)
	b.nothingQueued("a REST message without send_to_chat")

	// Private dialog, carol offline: kept for her next connection.
	cm := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"recipient_id": carol.ID, "message": "later", "send_to_chat": "1"}}, http.StatusCreated)
	a.expect("message") // the carbon
	if n := keptRows(t, dataDir, carol.ID); n != 1 {
		t.Fatalf("%d offline rows for carol, want 1", n)
	}
	c, _ := loginToPresence(t, env, carol, carol.Password)
	if om := c.expect("message"); om.Attr("id") != cm["_id"] || om.Child("delay", "") == nil {
		t.Fatalf("offline copy %s", om.AppendXML(nil))
	}

	// Group: every member's resources, the sender's too.
	g := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	groupID := g["_id"].(string)
	gm := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"chat_dialog_id": groupID, "message": "to all", "send_to_chat": 1}}, http.StatusCreated)
	from := fmt.Sprintf("%d_%s@muc.localhost/%d", env.App.ID, groupID, alice.ID)
	for _, cl := range []*client{a, b} {
		m := cl.expect("message")
		if m.Attr("type") != "groupchat" || m.Attr("id") != gm["_id"] || m.Attr("from") != from ||
			m.Child("body", "").Text() != "to all" || extra(t, m, "dialog_id") != groupID {
			t.Fatalf("group send_to_chat copy %s", m.AppendXML(nil))
		}
	}
}
