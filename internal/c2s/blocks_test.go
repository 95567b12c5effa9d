package c2s_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Block-list enforcement (REALTIME.md §18.9), one test per row of its
// table, on the real server. Lists are set through the server's privacy
// domain, as the privacy IQ does.

// blockOf is one user of a block list: a one-way block (the SDK's
// children <message/><presence-in/><presence-out/><iq/>) or a mutual one
// (an item without children).
type blockOf struct {
	user   *servertest.User
	mutual bool
}

// setBlocks makes owner's default list block exactly users, as the SDK's
// privacylist.create then setAsDefault write it (§18.2): the user JID item
// then the muc item of each user, in ascending user id. No users declines
// the default list.
func setBlocks(t *testing.T, env *servertest.Env, owner *servertest.User, users ...blockOf) {
	t.Helper()
	ctx := context.Background()
	p := env.Server.Privacy
	if err := p.SetDefault(ctx, env.App.ID, owner.ID, ""); err != nil {
		t.Fatalf("decline the default list: %v", err)
	}
	if len(users) == 0 {
		return
	}
	slices.SortFunc(users, func(a, b blockOf) int { return int(a.user.ID - b.user.ID) })
	var items []privacy.Item
	for k, b := range users {
		kinds := privacy.Message | privacy.PresenceIn | privacy.PresenceOut | privacy.IQ
		if b.mutual {
			kinds = 0
		}
		items = append(items,
			privacy.Item{Type: "jid", Value: fmt.Sprintf("%d-%d@localhost", b.user.ID, env.App.ID), Action: "deny", Order: uint32(2*k + 1), Kinds: kinds},
			privacy.Item{Type: "jid", Value: fmt.Sprintf("muc.localhost/%d", b.user.ID), Action: "deny", Order: uint32(2*k + 2), Kinds: kinds})
	}
	if err := p.Put(ctx, env.App.ID, owner.ID, privacy.List{Name: "blocked", Items: items}); err != nil {
		t.Fatalf("put list: %v", err)
	}
	if err := p.SetDefault(ctx, env.App.ID, owner.ID, "blocked"); err != nil {
		t.Fatalf("set default: %v", err)
	}
}

// quiet asserts that nothing reached c before the answer to a ping sent
// now: every stanza routed to c before the ping was written first.
func (c *client) quiet(id string) {
	c.t.Helper()
	c.send(`<iq type="get" id="` + id + `" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if el := c.recv(); el.Name != "iq" || el.Attr("id") != id {
		c.t.Fatalf("before ping %s: got %s", id, el.AppendXML(nil))
	}
}

// stanzaErr asserts that el is the error answering the stanza id, with
// condition cond, code and text (empty: not checked).
func stanzaErr(t *testing.T, el *xmpp.Element, id, cond, code, text string) {
	t.Helper()
	e := el.Child("error", "")
	if el.Attr("type") != "error" || el.Attr("id") != id || e == nil || e.Child(cond, xmpp.NSStanzas) == nil || e.Attr("code") != code {
		t.Fatalf("want %s (%s) for %s, got %s", cond, code, id, el.AppendXML(nil))
	}
	if text != "" {
		if tx := e.Child("text", xmpp.NSStanzas); tx == nil || tx.Text() != text {
			t.Fatalf("want text %q, got %s", text, el.AppendXML(nil))
		}
	}
}

func chatMsg(to, id, body string, extra string) string {
	return `<message type="chat" to="` + to + `" id="` + id + `" xmlns="jabber:client"><body>` + body + `</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history>` + extra + `</extraParams></message>`
}

func historyOf(t *testing.T, env *servertest.Env, token, dialogID string) []map[string]any {
	t.Helper()
	h := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + dialogID, Token: token}, http.StatusOK)
	var out []map[string]any
	for _, it := range h["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func dialogCount(t *testing.T, env *servertest.Env, token string) int {
	t.Helper()
	l := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Dialog.json", Token: token}, http.StatusOK)
	return len(l["items"].([]any))
}

// Row 1: B writes A, whose list blocks B. B gets the exact 503 error
// under its message's id (what fires the SDK's onMessageErrorListener);
// nothing is delivered, stored, kept offline or a dialog created.
func TestBlockedDirectMessageIsRefused(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	setBlocks(t, env, alice, blockOf{user: bob})
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)

	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000000", "How are you today?", ""))
	e := b.expect("message")
	stanzaErr(t, e, "65a1f3d9c81a4f0e2b000000", "service-unavailable", "503", "Service not available.")
	if e.Attr("from") != userJID(env, alice) {
		t.Fatalf("error from %q", e.Attr("from"))
	}
	if e.Child("error", "").Attr("type") != "cancel" {
		t.Fatalf("error type: %s", e.AppendXML(nil))
	}
	a.quiet("a1")
	// A first message creates no dialog.
	if n := dialogCount(t, env, bob.Token); n != 0 {
		t.Fatalf("bob has %d dialogs after a refused first message", n)
	}
	if n := dialogCount(t, env, alice.Token); n != 0 {
		t.Fatalf("alice has %d dialogs after a refused first message", n)
	}

	// The blocker offline: nothing is kept for her either.
	a.c.CloseNow()
	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000001", "still there?", ""))
	stanzaErr(t, b.expect("message"), "65a1f3d9c81a4f0e2b000001", "service-unavailable", "503", "Service not available.")
	a2, _ := loginToPresence(t, env, alice, alice.Password)
	a2.quiet("a2")

	// One-way: the blocker can still write to the blocked user.
	a2.send(chatMsg(userJID(env, bob), "65a1f3d9c81a4f0e2b000002", "I can write you", ""))
	m := b.expect("message")
	if m.Child("body", "").Text() != "I can write you" {
		t.Fatalf("bob got %s", m.AppendXML(nil))
	}
	dialogID := extra(t, m, "dialog_id")

	// Addressed to the private dialog's room JID, chat or groupchat: the
	// same refusal, and nothing stored.
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
	b.send(chatMsg(room, "65a1f3d9c81a4f0e2b000003", "by room", "<dialog_id>"+dialogID+"</dialog_id>"))
	stanzaErr(t, b.expect("message"), "65a1f3d9c81a4f0e2b000003", "service-unavailable", "503", "Service not available.")
	b.send(`<message type="groupchat" to="` + room + `" id="65a1f3d9c81a4f0e2b000004" xmlns="jabber:client"><body>by groupchat</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	stanzaErr(t, b.expect("message"), "65a1f3d9c81a4f0e2b000004", "service-unavailable", "503", "Service not available.")
	// Bob's refused REST message too (403 whether sent to chat or not).
	for _, send := range []int{0, 1} {
		restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: bob.Token,
			Body: map[string]any{"chat_dialog_id": dialogID, "message": "by rest", "send_to_chat": send}}, http.StatusForbidden)
	}
	restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: bob.Token,
		Body: map[string]any{"recipient_id": alice.ID, "message": "by rest to the user", "send_to_chat": 1}}, http.StatusForbidden)
	a2.quiet("a3")
	hist := historyOf(t, env, alice.Token, dialogID)
	if len(hist) != 1 || hist[0]["message"] != "I can write you" {
		t.Fatalf("history after refused messages: %v", hist)
	}
	unread := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + dialogID, Token: alice.Token}, http.StatusOK)
	if unread[dialogID] != 0.0 {
		t.Fatalf("alice's unread = %v", unread)
	}

	// Typing, markers and headlines from bob are dropped silently: no
	// error to him, nothing to her; the marker is not recorded either.
	b.send(`<message type="chat" to="` + userJID(env, alice) + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	b.send(`<message type="chat" to="` + userJID(env, alice) + `" id="mk1" xmlns="jabber:client"><displayed xmlns="urn:xmpp:chat-markers:0" id="65a1f3d9c81a4f0e2b000002"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`)
	b.send(`<message type="headline" to="` + userJID(env, alice) + `" id="sys1" xmlns="jabber:client">` +
		`<extraParams xmlns="jabber:client"><moduleIdentifier>SystemNotifications</moduleIdentifier><x>1</x></extraParams></message>`)
	restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message/system.json", Token: bob.Token,
		Body: map[string]any{"recipientId": alice.ID, "param": "v"}}, http.StatusOK)
	b.quiet("b1")
	a2.quiet("a4")
	hist = historyOf(t, env, alice.Token, dialogID)
	if ids, _ := hist[0]["read_ids"].([]any); slices.Contains(ids, any(float64(bob.ID))) {
		t.Fatalf("a blocked marker was recorded: %v", hist[0])
	}
	// Bob's typing and markers to alice... and hers to him pass (one-way).
	a2.send(`<message type="chat" to="` + userJID(env, bob) + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	if m := b.expect("message"); m.Child("composing", "") == nil {
		t.Fatalf("alice's typing: %s", m.AppendXML(nil))
	}
}

// Row 2: A's mutual block on B refuses A's own messages with 406, and
// B's to A with 503.
func TestMutualBlockRefusesBothWays(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	setBlocks(t, env, alice, blockOf{user: bob, mutual: true})
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.send(chatMsg(userJID(env, bob), "65a1f3d9c81a4f0e2b000010", "hello", ""))
	stanzaErr(t, a.expect("message"), "65a1f3d9c81a4f0e2b000010", "not-acceptable", "406", "")
	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000011", "hello", ""))
	stanzaErr(t, b.expect("message"), "65a1f3d9c81a4f0e2b000011", "service-unavailable", "503", "Service not available.")
	// Typing either way is dropped.
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	a.quiet("a1")
	b.quiet("b1")
	if dialogCount(t, env, alice.Token) != 0 || dialogCount(t, env, bob.Token) != 0 {
		t.Fatal("a refused first message created a dialog")
	}
	restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"recipient_id": bob.ID, "message": "by rest"}}, http.StatusForbidden)
	if dialogCount(t, env, alice.Token) != 0 {
		t.Fatal("a refused REST message created a dialog")
	}
}

// Row 1, edits and deletes: a block set after the pair talked refuses
// the blocked user's edit and delete of his own message (503), and
// changes nothing.
func TestEditsAndDeletesAcrossABlockAreRefused(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000020", "original", ""))
	dialogID := extra(t, a.expect("message"), "dialog_id")
	// The block applies at once to connected sessions.
	setBlocks(t, env, alice, blockOf{user: bob})
	b.send(`<message type="chat" to="` + userJID(env, alice) + `" id="e1" xmlns="jabber:client"><body>edited</body>` +
		`<replace xmlns="urn:xmpp:message-correct:0" id="65a1f3d9c81a4f0e2b000020"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`)
	stanzaErr(t, b.expect("message"), "e1", "service-unavailable", "503", "Service not available.")
	b.send(`<message type="chat" to="` + userJID(env, alice) + `" id="d1" xmlns="jabber:client">` +
		`<remove xmlns="urn:xmpp:message-delete:0" id="65a1f3d9c81a4f0e2b000020"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`)
	stanzaErr(t, b.expect("message"), "d1", "service-unavailable", "503", "Service not available.")
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
	b.send(`<message type="groupchat" to="` + room + `" id="d2" xmlns="jabber:client">` +
		`<remove xmlns="urn:xmpp:message-delete:0" id="65a1f3d9c81a4f0e2b000020"/></message>`)
	stanzaErr(t, b.expect("message"), "d2", "service-unavailable", "503", "Service not available.")
	a.quiet("a1")
	hist := historyOf(t, env, alice.Token, dialogID)
	if len(hist) != 1 || hist[0]["message"] != "original" {
		t.Fatalf("history after refused changes: %v", hist)
	}
	// Declining the default list lifts the block at once.
	setBlocks(t, env, alice)
	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000021", "again", ""))
	if m := a.expect("message"); m.Child("body", "").Text() != "again" {
		t.Fatalf("after the block was lifted: %s", m.AppendXML(nil))
	}
}

// Row 4 and 5 for groups: B's group message is stored and reaches every
// member but A, with no error to B; A's history still has it; B's typing
// and occupant presences do not reach A either.
func TestGroupMessagesSkipTheBlocker(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: carol.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{alice.ID, bob.ID}}}, http.StatusCreated)
	dialogID := d["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	setBlocks(t, env, alice, blockOf{user: bob})

	b.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b000000" xmlns="jabber:client"><body>hi all</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	for _, cl := range []*client{b, c} { // the echo and carol's copy; no error to bob
		if m := cl.expect("message"); m.Attr("type") != "groupchat" || m.Child("body", "").Text() != "hi all" {
			t.Fatalf("group copy %s", m.AppendXML(nil))
		}
	}
	b.send(`<message type="groupchat" to="` + room + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	if m := c.expect("message"); m.Child("composing", "") == nil {
		t.Fatalf("carol's typing copy %s", m.AppendXML(nil))
	}
	// Through REST with send_to_chat: stored, live to carol and bob's own.
	restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: bob.Token,
		Body: map[string]any{"chat_dialog_id": dialogID, "message": "by rest", "send_to_chat": 1}}, http.StatusCreated)
	for _, cl := range []*client{b, c} {
		if m := cl.expect("message"); m.Child("body", "").Text() != "by rest" {
			t.Fatalf("REST copy %s", m.AppendXML(nil))
		}
	}
	b.quiet("b1")
	a.quiet("a1")
	// History stays whole, and counts for alice as for anyone.
	hist := historyOf(t, env, alice.Token, dialogID)
	if len(hist) != 2 || hist[0]["message"] != "hi all" || hist[1]["message"] != "by rest" {
		t.Fatalf("alice's history %v", hist)
	}
	unread := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + dialogID, Token: alice.Token}, http.StatusOK)
	if unread[dialogID] != 2.0 {
		t.Fatalf("alice's unread = %v", unread)
	}
	// Alice still reaches bob: a one-way block.
	a.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b000001" xmlns="jabber:client"><body>I see you</body></message>`)
	for _, cl := range []*client{a, b, c} {
		if m := cl.expect("message"); m.Child("body", "").Text() != "I see you" {
			t.Fatalf("alice's group copy %s", m.AppendXML(nil))
		}
	}

	// Occupant presences: carol joins, then bob, then alice. Alice does
	// not see bob's presence, nor bob hers (her list withholds her
	// presence from him); carol sees both.
	join := func(cl *client, u *servertest.User, id string) {
		cl.send(fmt.Sprintf(`<presence to="%s/%d" id="%s" xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`, room, u.ID, id))
	}
	occupant := func(el *xmpp.Element, u *servertest.User) {
		t.Helper()
		if el.Name != "presence" || el.Attr("from") != fmt.Sprintf("%s/%d", room, u.ID) {
			t.Fatalf("want the presence of %d, got %s", u.ID, el.AppendXML(nil))
		}
	}
	join(c, carol, "j1")
	occupant(c.expect("presence"), carol) // self
	join(b, bob, "j2")
	occupant(b.expect("presence"), carol)
	occupant(b.expect("presence"), bob)
	occupant(c.expect("presence"), bob)
	join(a, alice, "j3")
	occupant(a.expect("presence"), carol) // carol's only, then her own
	occupant(a.expect("presence"), alice)
	occupant(c.expect("presence"), alice)
	b.quiet("b2")
	// Bob leaves: carol sees it, alice does not.
	b.send(fmt.Sprintf(`<presence to="%s/%d" type="unavailable" id="l1" xmlns="jabber:client"/>`, room, bob.ID))
	occupant(b.expect("presence"), bob)
	if p := c.expect("presence"); p.Attr("type") != "unavailable" {
		t.Fatalf("carol: %s", p.AppendXML(nil))
	}
	a.quiet("a2")

	// The blocker offline gets no offline copy and no alert: group
	// messages are never kept; reconnecting brings nothing.
	a.c.CloseNow()
	b.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b000002" xmlns="jabber:client"><body>while away</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	b.expect("message")
	c.skipTo("message") // after alice's leaving presence, if it came first
	a2, _ := loginToPresence(t, env, alice, alice.Password)
	a2.quiet("a3")
}

// A broadcast (every available user gets it) skips those who block its
// poster.
func TestBroadcastSkipsTheBlocker(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	bc, err := env.Server.Chat.CreateBroadcast(context.Background(), env.App.ID, bob.ID, "news", nil)
	if err != nil {
		t.Fatal(err)
	}
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, bc.ID)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	setBlocks(t, env, alice, blockOf{user: bob})
	b.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b000030" xmlns="jabber:client"><body>news</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	for _, cl := range []*client{b, c} {
		if m := cl.expect("message"); m.Child("body", "").Text() != "news" {
			t.Fatalf("broadcast copy %s", m.AppendXML(nil))
		}
	}
	a.quiet("a1")
}

// Row 5, notices: the blocked user's reactions, REST delete notices and
// live group edits reach the other members, not the blocker.
func TestNoticesFromTheBlockedSkipTheBlocker(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: carol.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{alice.ID, bob.ID}}}, http.StatusCreated)
	groupID := g["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, groupID)
	vote := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: carol.Token,
		Body: map[string]any{"chat_dialog_id": groupID, "message": "vote"}}, http.StatusCreated)
	mine := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: bob.Token,
		Body: map[string]any{"chat_dialog_id": groupID, "message": "bob's"}}, http.StatusCreated)
	setBlocks(t, env, alice, blockOf{user: bob})
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)

	restJSON(t, env, servertest.Req{Method: "PUT", Path: "/chat/Message/" + vote["_id"].(string) + "/reactions.json", Token: bob.Token,
		Body: map[string]any{"add": "👍"}}, http.StatusOK)
	for _, cl := range []*client{b, c} {
		if m := cl.expect("message"); m.Child("reactions", "") == nil {
			t.Fatalf("reactions notice %s", m.AppendXML(nil))
		}
	}
	b.send(`<message type="groupchat" to="` + room + `" id="e1" xmlns="jabber:client"><body>bob's, edited</body>` +
		`<replace xmlns="urn:xmpp:message-correct:0" id="` + mine["_id"].(string) + `"/></message>`)
	for _, cl := range []*client{b, c} {
		if m := cl.expect("message"); m.Child("replace", xmpp.NSCorrect) == nil {
			t.Fatalf("edit notice %s", m.AppendXML(nil))
		}
	}
	resp := env.Do(t, servertest.Req{Method: "DELETE", Path: "/chat/Message/" + mine["_id"].(string) + ".json", Token: bob.Token, Body: "force=1"})
	if resp.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", resp.Status, resp.Raw)
	}
	for _, cl := range []*client{b, c} {
		if m := cl.expect("message"); m.Child("remove", "urn:xmpp:message-delete:0") == nil {
			t.Fatalf("delete notice %s", m.AppendXML(nil))
		}
	}
	b.quiet("b1")
	c.quiet("c1")
	a.quiet("a1")
}

// End to end through the SDK's own IQs (REALTIME.md §18.2, §18.4): the
// list alice's session sets and makes default applies at once to bob's
// connected session; declining it lifts the block at once.
func TestBlockSetByThePrivacyIQ(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	iq := func(id, query string) {
		t.Helper()
		a.send(`<iq type="set" id="` + id + `" xmlns="jabber:client"><query xmlns="jabber:iq:privacy">` + query + `</query></iq>`)
		if r := a.expect("iq"); r.Attr("type") != "result" || r.Attr("id") != id {
			t.Fatalf("privacy %s: %s", id, r.AppendXML(nil))
		}
	}
	children := `<message/><presence-in/><presence-out/><iq/>`
	iq("edit", fmt.Sprintf(`<list name="myList">`+
		`<item type="jid" value="%d-%d@localhost" action="deny" order="1">%s</item>`+
		`<item type="jid" value="muc.localhost/%d" action="deny" order="2">%s</item></list>`, bob.ID, env.App.ID, children, bob.ID, children))
	iq("default", `<default name="myList"/>`)
	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000040", "How are you today?", ""))
	stanzaErr(t, b.expect("message"), "65a1f3d9c81a4f0e2b000040", "service-unavailable", "503", "Service not available.")
	a.quiet("a1")
	iq("decline", `<default/>`)
	b.send(chatMsg(userJID(env, alice), "65a1f3d9c81a4f0e2b000041", "now?", ""))
	if m := a.expect("message"); m.Child("body", "").Text() != "now?" {
		t.Fatalf("after declining: %s", m.AppendXML(nil))
	}
}
