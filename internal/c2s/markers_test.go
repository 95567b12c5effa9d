package c2s_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// REALTIME.md §8.2 and §9: markers and typing that do not belong are
// dropped silently, neither routed nor recorded.

// nothingQueued proves c was sent nothing: its own ping's answer is the
// next frame it gets, and a copy routed earlier would have come first.
func (c *client) nothingQueued(what string) {
	c.t.Helper()
	c.send(`<iq type="get" id="quiet" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := c.recv(); r.Name != "iq" || r.Attr("id") != "quiet" {
		c.t.Fatalf("%s: got %s, want nothing before the ping answer", what, r.AppendXML(nil))
	}
}

func marker(kind, to, msgID, dialogID string) string {
	return `<message type="chat" to="` + to + `" id="mk" xmlns="jabber:client"><` + kind + ` xmlns="urn:xmpp:chat-markers:0" id="` + msgID + `"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`
}

func receipts(t *testing.T, env *servertest.Env, u *servertest.User, dialogID, msgID string) (delivered, read []int64) {
	t.Helper()
	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + dialogID, Token: u.Token}, http.StatusOK)
	for _, it := range hist["items"].([]any) {
		m := it.(map[string]any)
		if m["_id"] != msgID {
			continue
		}
		for _, v := range m["delivered_ids"].([]any) {
			delivered = append(delivered, int64(v.(float64)))
		}
		for _, v := range m["read_ids"].([]any) {
			read = append(read, int64(v.(float64)))
		}
		return delivered, read
	}
	t.Fatalf("message %s not in %s", msgID, dialogID)
	return nil, nil
}

func TestMarkersThatDoNotBelongAreDropped(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)["_id"].(string)
	other := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "other", "occupants_ids": []int64{bob.ID, carol.ID}}}, http.StatusCreated)["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, g)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	const msg = "65a1f45bc81a4f0e2b0000aa"
	a.send(`<message type="groupchat" to="` + room + `" id="` + msg + `" xmlns="jabber:client"><body>hi</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>` + g + `</dialog_id></extraParams></message>`)
	a.expect("message")
	b.expect("message")
	before, beforeRead := receipts(t, env, alice, g, msg)

	// Carol is not in g: neither marker reaches alice nor is recorded.
	c.send(marker("received", userJID(env, alice), msg, g))
	c.send(marker("displayed", userJID(env, alice), msg, g))
	// Carol is in other, but the message is not: same.
	c.send(marker("displayed", userJID(env, alice), msg, other))
	// A message that was never stored: carol is no member, so no route.
	c.send(marker("received", userJID(env, alice), "65a1f45bc81a4f0e2b0000bb", g))
	c.sync("c") // her markers are handled: routed ones are queued for alice
	a.nothingQueued("markers from a non-member")
	// Bob is in g, but a marker goes to the message's sender, not carol.
	b.send(marker("received", userJID(env, carol), msg, g))
	b.sync("b")
	c.nothingQueued("a marker addressed to someone who did not send the message")
	if d, r := receipts(t, env, alice, g, msg); !slices.Equal(d, before) || !slices.Equal(r, beforeRead) {
		t.Fatalf("receipts changed by dropped markers: delivered %v → %v, read %v → %v", before, d, beforeRead, r)
	}

	// Bob's own markers pass: recorded, then routed to alice; for a
	// message that was never stored, routed only.
	b.send(marker("received", userJID(env, alice), msg, g))
	if m := a.expect("message"); m.Child("received", xmpp.NSMarkers) == nil || m.Attr("from") == "" {
		t.Fatalf("bob's marker delivered as %s", m.AppendXML(nil))
	}
	if d, _ := receipts(t, env, alice, g, msg); !slices.Contains(d, bob.ID) {
		t.Fatalf("bob's receipt not recorded: delivered %v", d)
	}
	b.send(marker("displayed", userJID(env, alice), "65a1f45bc81a4f0e2b0000bb", g))
	if m := a.expect("message"); m.Child("displayed", xmpp.NSMarkers) == nil {
		t.Fatalf("bob's marker of an unsaved message delivered as %s", m.AppendXML(nil))
	}
}

func TestTypingThatDoesNotBelongIsDropped(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)["_id"].(string)
	cb := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: carol.Token,
		Body: map[string]any{"type": 3, "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, g)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	typing := func(typ, to, extra string) string {
		return `<message type="` + typ + `" to="` + to + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/>` + extra + `</message>`
	}
	withDialog := func(id string) string {
		return `<extraParams xmlns="jabber:client"><dialog_id>` + id + `</dialog_id></extraParams>`
	}

	// Carol is not in g: typing to its room reaches no member (she is
	// answered with an error, as for any message there, §7.2).
	c.send(typing("groupchat", room, ""))
	if e := c.expect("message"); e.Attr("type") != "error" {
		t.Fatalf("typing to a room of others answered %s", e.AppendXML(nil))
	}
	// 1-1 typing naming g, which is not carol and bob's dialog: dropped,
	// else bob's SDK would show carol typing in g.
	c.send(typing("chat", userJID(env, bob), withDialog(g)))
	c.sync("c")
	a.nothingQueued("typing to the room from a non-member")
	b.nothingQueued("typing to the room from a non-member, or 1-1 typing naming a foreign dialog")

	// Their own private dialog's id, or none, passes.
	c.send(typing("chat", userJID(env, bob), withDialog(cb)))
	if m := b.expect("message"); m.Child("composing", "") == nil {
		t.Fatalf("typing with the pair's dialog id delivered as %s", m.AppendXML(nil))
	}
	c.send(typing("chat", userJID(env, bob), ""))
	if m := b.expect("message"); m.Child("composing", "") == nil {
		t.Fatalf("typing without a dialog id delivered as %s", m.AppendXML(nil))
	}
}
