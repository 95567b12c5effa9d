package c2s_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Edits (REALTIME.md §10) and deletes (§11) over XMPP change the stored
// message through the domain's rules, reach the other occupants (kept for
// an offline one of a private dialog, in order with its messages), are
// carbon-copied and never alerted; refusals are error stanzas under the
// stanza's id that change nothing.

const (
	msg1 = "65a1f3d9c81a4f0e2b000001"
	msg2 = "65a1f3d9c81a4f0e2b000002"
)

func saved(to, typ, id, body, dialogID string) string {
	d := ""
	if dialogID != "" {
		d = "<dialog_id>" + dialogID + "</dialog_id>"
	}
	return `<message type="` + typ + `" to="` + to + `" id="` + id + `" xmlns="jabber:client"><body>` + body + `</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history>` + d + `</extraParams></message>`
}

func editStanza(to, typ, id, origin, body, dialogID string) string {
	return `<message type="` + typ + `" to="` + to + `" id="` + id + `" xmlns="jabber:client"><body>` + body + `</body>` +
		`<replace xmlns="urn:xmpp:message-correct:0" id="` + origin + `" last="false"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`
}

func removeStanza(to, typ, id, origin, dialogID string) string {
	return `<message type="` + typ + `" to="` + to + `" id="` + id + `" xmlns="jabber:client">` +
		`<remove xmlns="urn:xmpp:message-delete:0" id="` + origin + `"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`
}

// history is the bodies of a dialog's messages by id, as u sees them.
func history(t *testing.T, env *servertest.Env, u *servertest.User, dialogID string) map[string]string {
	t.Helper()
	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + dialogID, Token: u.Token}, http.StatusOK)
	out := map[string]string{}
	for _, it := range hist["items"].([]any) {
		m := it.(map[string]any)
		out[m["_id"].(string)] = m["message"].(string)
	}
	return out
}

func dialogView(t *testing.T, env *servertest.Env, u *servertest.User, dialogID string) map[string]any {
	t.Helper()
	view := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Dialog.json?_id=" + dialogID, Token: u.Token}, http.StatusOK)
	return view["items"].([]any)[0].(map[string]any)
}

func wantStanzaError(t *testing.T, c *client, id, cond string) {
	t.Helper()
	e := c.expect("message")
	if e.Attr("type") != "error" || e.Attr("id") != id || e.Child("error", "") == nil || e.Child("error", "").Child(cond, xmpp.NSStanzas) == nil {
		t.Fatalf("want %s error for %s, got %s", cond, id, e.AppendXML(nil))
	}
}

// The author's edit changes the stored body and the dialog's last
// message, reaches the peer and the author's other resource (a carbon),
// and is not alerted.
func TestEditChangesHistoryAndReachesThePeer(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	alice, bob := env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	a1, a1JID := login(t, env, alice, alice.Password)
	a2, _ := login(t, env, alice, alice.Token)
	b, _ := login(t, env, bob, bob.Password)
	a1.send(saved(userJID(env, bob), "chat", msg1, "helo", ""))
	dialogID := extra(t, b.expect("message"), "dialog_id")
	a2.expect("message") // the carbon of the message
	a1.send(editStanza(userJID(env, bob), "chat", "65a1f4c9c81a4f0e2b000000", msg1, "hello", dialogID))
	e := b.expect("message")
	r := e.Child("replace", xmpp.NSCorrect)
	if r == nil || r.Attr("id") != msg1 || e.Child("body", "").Text() != "hello" || e.Attr("from") != a1JID.String() ||
		extra(t, e, "dialog_id") != dialogID {
		t.Fatalf("edit delivered as %s", e.AppendXML(nil))
	}
	c := a2.expect("message")
	inner := c.Child("sent", xmpp.NSCarbons).Child("forwarded", xmpp.NSForward).Child("message", "")
	if inner == nil || inner.Child("replace", xmpp.NSCorrect) == nil {
		t.Fatalf("carbon of the edit: %s", c.AppendXML(nil))
	}
	a1.nothingQueued("the editor's own resource")
	if h := history(t, env, bob, dialogID); h[msg1] != "hello" {
		t.Fatalf("history after the edit: %v", h)
	}
	if v := dialogView(t, env, bob, dialogID); v["last_message"] != "hello" || v["unread_messages_count"] != 1.0 {
		t.Fatalf("dialog after the edit: %v", v)
	}
	if n := len(rec.list(t)); n != 0 {
		t.Fatalf("%d alerts for online users", n)
	}
}

// Edits of someone else's message, of unknown or malformed ids, in a
// dialog one is not in, or to another app's user are refused with an
// error under the stanza's id; nothing is stored or routed.
func TestRefusedEditsChangeNothing(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	a.send(saved(userJID(env, bob), "chat", msg1, "original", ""))
	dialogID := extra(t, b.expect("message"), "dialog_id")
	// The peer edits the author's message.
	b.send(editStanza(userJID(env, alice), "chat", "e1", msg1, "forged", dialogID))
	wantStanzaError(t, b, "e1", "forbidden")
	// A stranger, to the author or to the peer, with or without the dialog.
	c.send(editStanza(userJID(env, bob), "chat", "e2", msg1, "forged", dialogID))
	wantStanzaError(t, c, "e2", "item-not-found")
	c.send(editStanza(userJID(env, bob), "chat", "e3", msg1, "forged", ""))
	wantStanzaError(t, c, "e3", "item-not-found")
	// The author, but addressed to someone who is not in the dialog.
	a.send(editStanza(userJID(env, carol), "chat", "e4", msg1, "forged", ""))
	wantStanzaError(t, a, "e4", "forbidden")
	// Unknown and malformed ids, a dialog that is not the message's.
	a.send(editStanza(userJID(env, bob), "chat", "e5", "65a1f3d9c81a4f0e2b0000ff", "forged", dialogID))
	wantStanzaError(t, a, "e5", "item-not-found")
	a.send(editStanza(userJID(env, bob), "chat", "e6", "not-an-id", "forged", dialogID))
	wantStanzaError(t, a, "e6", "bad-request")
	a.send(editStanza(userJID(env, bob), "chat", "e7", msg1, "forged", "65a1f0c2e4b0a1b2c3d4e5f6"))
	wantStanzaError(t, a, "e7", "item-not-found")
	// A user of another application.
	a.send(editStanza(fmt.Sprintf("%d-%d@localhost", bob.ID, env.App.ID+1), "chat", "e8", msg1, "forged", dialogID))
	wantStanzaError(t, a, "e8", "service-unavailable")
	// The same for deletes.
	b.send(removeStanza(userJID(env, alice), "chat", "d1", msg1, dialogID))
	wantStanzaError(t, b, "d1", "forbidden")
	c.send(removeStanza(userJID(env, bob), "chat", "d2", msg1, dialogID))
	wantStanzaError(t, c, "d2", "item-not-found")
	a.send(removeStanza(userJID(env, bob), "chat", "d3", "not-an-id", dialogID))
	wantStanzaError(t, a, "d3", "bad-request")
	a.send(removeStanza(userJID(env, carol), "chat", "d4", msg1, ""))
	wantStanzaError(t, a, "d4", "forbidden")
	for _, cl := range []*client{a, b, c} {
		cl.nothingQueued("after refused changes")
	}
	if h := history(t, env, alice, dialogID); len(h) != 1 || h[msg1] != "original" {
		t.Fatalf("history after refused changes: %v", h)
	}
	if v := dialogView(t, env, bob, dialogID); v["last_message"] != "original" || v["unread_messages_count"] != 1.0 {
		t.Fatalf("dialog after refused changes: %v", v)
	}
}

// An edit and a delete for an offline peer of a private dialog are kept
// and handed over once, after the messages they change, never alerted;
// the message sent and edited at once (no round trip between) is found
// stored, as the change waits in the pipeline and the group commit.
func TestChangesForAnOfflinePeerAreKeptInOrder(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	alice, bob := env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	a, _ := login(t, env, alice, alice.Password)
	a.send(saved(userJID(env, bob), "chat", msg1, "one", ""))
	a.send(saved(userJID(env, bob), "chat", msg2, "two", ""))
	a.send(editStanza(userJID(env, bob), "chat", "65a1f4c9c81a4f0e2b000000", msg1, "one, edited", ""))
	a.send(removeStanza(userJID(env, bob), "chat", "65a1f4c9c81a4f0e2b000001", msg2, ""))
	a.nothingQueued("the author")
	// The alerts are the messages' only. An alert is made from its
	// message as it is when the dispatcher queues it (within a Poll of
	// the commit): "one" or already "one, edited"; and none for a message
	// deleted before then, so msg2's depends on the timing.
	got := rec.list(t)
	if len(got) == 0 || len(got) > 2 || got[0].MessageID != msg1 ||
		(got[0].Text != alice.Login+": one" && got[0].Text != alice.Login+": one, edited") ||
		(len(got) == 2 && (got[1].MessageID != msg2 || got[1].Text != alice.Login+": two")) {
		t.Fatalf("alerts %+v, want msg1's and perhaps msg2's (the messages only)", got)
	}
	b, _ := loginToPresence(t, env, bob, bob.Password)
	for i, want := range []string{"one", "two", "replace", "remove"} {
		m := b.expect("message")
		var ok bool
		switch want {
		case "replace":
			ok = m.Child("replace", xmpp.NSCorrect) != nil && m.Child("body", "").Text() == "one, edited"
		case "remove":
			ok = m.Child("remove", "urn:xmpp:message-delete:0") != nil && m.Child("remove", "urn:xmpp:message-delete:0").Attr("id") == msg2
		default:
			ok = m.Child("body", "").Text() == want && m.Child("replace", xmpp.NSCorrect) == nil
		}
		if !ok || m.Child("delay", xmpp.NSDelay) == nil {
			t.Fatalf("kept stanza %d = %s, want %s", i, m.AppendXML(nil), want)
		}
		if i == 0 {
			dialogID := extra(t, m, "dialog_id")
			if h := history(t, env, bob, dialogID); len(h) != 1 || h[msg1] != "one, edited" {
				t.Fatalf("history: %v", h)
			}
			if v := dialogView(t, env, bob, dialogID); v["last_message"] != "one, edited" || v["unread_messages_count"] != 1.0 {
				t.Fatalf("dialog: %v", v)
			}
		}
	}
	b.nothingQueued("after the kept stanzas")
}

// A group delete by the author leaves the history and every unread
// counter, the last message follows, and every member's resources are
// told from the room (the author's echo included); a member may not
// delete the author's message.
func TestGroupDeleteLeavesHistoryAndCounters(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID, carol.ID}}}, http.StatusCreated)
	dialogID := d["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.send(saved(room, "groupchat", msg1, "first", dialogID))
	a.send(saved(room, "groupchat", msg2, "second", dialogID))
	for _, cl := range []*client{a, b, a, b} {
		cl.expect("message")
	}
	b.send(removeStanza(room, "groupchat", "d1", msg2, dialogID))
	wantStanzaError(t, b, "d1", "forbidden")
	b.send(editStanza(room, "groupchat", "e1", msg2, "forged", dialogID))
	wantStanzaError(t, b, "e1", "forbidden")
	a.nothingQueued("after bob's refused changes")
	a.send(removeStanza(room, "groupchat", "65a1f4f0c81a4f0e2b000000", msg2, dialogID))
	for _, cl := range []*client{a, b} {
		m := cl.expect("message")
		r := m.Child("remove", "urn:xmpp:message-delete:0")
		if r == nil || r.Attr("id") != msg2 || m.Attr("type") != "groupchat" || m.Attr("from") != fmt.Sprintf("%s/%d", room, alice.ID) {
			t.Fatalf("delete delivered as %s", m.AppendXML(nil))
		}
	}
	if h := history(t, env, carol, dialogID); len(h) != 1 || h[msg1] != "first" {
		t.Fatalf("history after the delete: %v", h)
	}
	for _, u := range []*servertest.User{bob, carol} {
		if v := dialogView(t, env, u, dialogID); v["last_message"] != "first" || v["unread_messages_count"] != 1.0 {
			t.Fatalf("dialog for %d after the delete: %v", u.ID, v)
		}
	}
	a.send(editStanza(room, "groupchat", "65a1f4f0c81a4f0e2b000001", msg1, "first!", dialogID))
	for _, cl := range []*client{a, b} {
		if m := cl.expect("message"); m.Child("replace", xmpp.NSCorrect) == nil || m.Child("body", "").Text() != "first!" {
			t.Fatalf("group edit delivered as %s", m.AppendXML(nil))
		}
	}
	if v := dialogView(t, env, carol, dialogID); v["last_message"] != "first!" {
		t.Fatalf("dialog after the group edit: %v", v)
	}
}

// A forced REST delete tells every available resource of every member,
// the deleter's own included (REALTIME.md §11.3): from the room for a
// group, from the deleter's bare JID for a private dialog.
func TestRESTForcedDeleteNotifiesMembers(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	groupID := d["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, groupID)
	a, aJID := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.send(saved(room, "groupchat", msg1, "group", groupID))
	a.send(saved(userJID(env, bob), "chat", msg2, "private", ""))
	a.expect("message")
	b.expect("message")
	privateID := extra(t, b.expect("message"), "dialog_id")
	for _, c := range []struct{ id, typ, from, dialog string }{
		{msg1, "groupchat", fmt.Sprintf("%s/%d", room, alice.ID), groupID},
		{msg2, "chat", aJID.Bare().String(), privateID},
	} {
		resp := env.Do(t, servertest.Req{Method: "DELETE", Path: "/chat/Message/" + c.id + ".json", Token: alice.Token, Body: "force=1"})
		if resp.Status != http.StatusOK {
			t.Fatalf("delete: %d %s", resp.Status, resp.Raw)
		}
		for _, cl := range []*client{a, b} {
			m := cl.expect("message")
			r := m.Child("remove", "urn:xmpp:message-delete:0")
			if r == nil || r.Attr("id") != c.id || m.Attr("type") != c.typ || m.Attr("from") != c.from || extra(t, m, "dialog_id") != c.dialog {
				t.Fatalf("REST delete notice %s", m.AppendXML(nil))
			}
		}
	}
	// Deleting for oneself only tells nobody.
	a.send(saved(userJID(env, bob), "chat", "65a1f3d9c81a4f0e2b000003", "mine", ""))
	b.expect("message")
	resp := env.Do(t, servertest.Req{Method: "DELETE", Path: "/chat/Message/65a1f3d9c81a4f0e2b000003.json", Token: bob.Token})
	if resp.Status != http.StatusOK {
		t.Fatalf("delete for me: %d %s", resp.Status, resp.Raw)
	}
	a.nothingQueued("alice after bob's delete for himself")
	b.nothingQueued("bob after his delete for himself")
}

// A member who left a group may still preview it, but no longer edits in
// it, through REST or XMPP alike (one rule, chat.canEditMessage).
func TestLeftMemberCannotEdit(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}, "permissions": map[string]any{"allow_preview": 1}}}, http.StatusCreated)
	dialogID := d["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
	b, _ := login(t, env, bob, bob.Password)
	b.send(saved(room, "groupchat", msg1, "before leaving", dialogID))
	b.expect("message")
	restJSON(t, env, servertest.Req{Method: "PUT", Path: "/chat/Dialog/" + dialogID + ".json", Token: bob.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{bob.ID}}}}, http.StatusOK)
	resp := env.Do(t, servertest.Req{Method: "PUT", Path: "/chat/Message/" + msg1 + ".json", Token: bob.Token,
		Body: map[string]any{"chat_dialog_id": dialogID, "message": "after leaving"}})
	if resp.Status != http.StatusForbidden {
		t.Fatalf("REST edit by a left member: %d %s", resp.Status, resp.Raw)
	}
	b.send(editStanza(room, "groupchat", "e1", msg1, "after leaving", dialogID))
	wantStanzaError(t, b, "e1", "forbidden")
	if h := history(t, env, alice, dialogID); h[msg1] != "before leaving" {
		t.Fatalf("history: %v", h)
	}
}
