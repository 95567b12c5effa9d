package c2s_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

func userJID(env *servertest.Env, u *servertest.User) string {
	return fmt.Sprintf("%d-%d@localhost", u.ID, env.App.ID)
}

func restJSON(t *testing.T, env *servertest.Env, r servertest.Req, status int) map[string]any {
	t.Helper()
	resp := env.Do(t, r)
	if resp.Status != status {
		t.Fatalf("%s %s: %d %s", r.Method, r.Path, resp.Status, resp.Raw)
	}
	return resp.JSON
}

func extra(t *testing.T, m *xmpp.Element, name string) string {
	t.Helper()
	x := m.Child("extraParams", "")
	if x == nil || x.Child(name, "") == nil {
		t.Fatalf("delivered message lacks extraParams/%s: %s", name, m.AppendXML(nil))
	}
	return x.Child(name, "").Text()
}

// A saved 1-1 message creates the pair's private dialog, is stored with its
// bookkeeping, and reaches the recipient with dialog_id and date_sent.
func TestSavedDirectMessageIsStoredAndStamped(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" id="65a1f3d9c81a4f0e2b000000" xmlns="jabber:client"><body>hello bob</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><markable>1</markable></extraParams></message>`)
	m := b.expect("message")
	dialogID := extra(t, m, "dialog_id")
	sent, err := strconv.ParseInt(extra(t, m, "date_sent"), 10, 64)
	if err != nil || sent <= 0 || m.Attr("id") != "65a1f3d9c81a4f0e2b000000" {
		t.Fatalf("delivered %s", m.AppendXML(nil))
	}
	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + dialogID, Token: bob.Token}, http.StatusOK)
	items := hist["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("history = %v", hist)
	}
	msg := items[0].(map[string]any)
	if msg["_id"] != "65a1f3d9c81a4f0e2b000000" || msg["message"] != "hello bob" || msg["markable"] != "1" ||
		int64(msg["date_sent"].(float64)) != sent || int64(msg["recipient_id"].(float64)) != bob.ID {
		t.Fatalf("stored %v", msg)
	}
	unread := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + dialogID, Token: bob.Token}, http.StatusOK)
	if unread[dialogID] != 1.0 {
		t.Fatalf("bob's unread = %v", unread)
	}
	// The same id again is a retransmission: delivered, not stored twice.
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" id="65a1f3d9c81a4f0e2b000000" xmlns="jabber:client"><body>hello bob</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`)
	b.expect("message")
	unread = restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + dialogID, Token: bob.Token}, http.StatusOK)
	if unread[dialogID] != 1.0 {
		t.Fatalf("bob's unread after a retransmission = %v", unread)
	}
	// Bob reads it: the marker reaches Alice and the receipt is stored.
	b.send(`<message type="chat" to="` + userJID(env, alice) + `" id="m1" xmlns="jabber:client"><displayed xmlns="urn:xmpp:chat-markers:0" id="65a1f3d9c81a4f0e2b000000"/>` +
		`<extraParams xmlns="jabber:client"><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`)
	mk := a.expect("message")
	if mk.Child("displayed", xmpp.NSMarkers) == nil || mk.Attr("from") == "" {
		t.Fatalf("marker delivered as %s", mk.AppendXML(nil))
	}
	unread = restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + dialogID, Token: bob.Token}, http.StatusOK)
	if unread[dialogID] != 0.0 {
		t.Fatalf("bob's unread after reading = %v", unread)
	}
	// A dialog_id that is not the pair's private dialog is forbidden.
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" id="x2" xmlns="jabber:client"><body>x</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id></extraParams></message>`)
	if e := a.expect("message"); e.Attr("type") != "error" || e.Child("error", "").Child("forbidden", xmpp.NSStanzas) == nil {
		t.Fatalf("wrong dialog_id answered %s", e.AppendXML(nil))
	}
}

// Group messages need no join, reach every member including the sender,
// from {room}/{senderId}; non-members are refused.
func TestGroupMessageFansOutWithEcho(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	dialogID := d["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	c, _ := login(t, env, carol, carol.Password)
	a.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b000000" xmlns="jabber:client"><body>hi all</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>` + dialogID + `</dialog_id></extraParams></message>`)
	for _, cl := range []*client{a, b} {
		m := cl.expect("message")
		if m.Attr("type") != "groupchat" || m.Attr("from") != fmt.Sprintf("%s/%d", room, alice.ID) || extra(t, m, "dialog_id") != dialogID {
			t.Fatalf("group copy %s", m.AppendXML(nil))
		}
		extra(t, m, "date_sent")
	}
	view := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Dialog.json?_id=" + dialogID, Token: bob.Token}, http.StatusOK)
	item := view["items"].([]any)[0].(map[string]any)
	if item["last_message"] != "hi all" || item["unread_messages_count"] != 1.0 {
		t.Fatalf("bob's dialog after the group message: %v", item)
	}
	c.send(`<message type="groupchat" to="` + room + `" id="x" xmlns="jabber:client"><body>let me in</body></message>`)
	if e := c.expect("message"); e.Attr("type") != "error" || e.Child("error", "").Child("item-not-found", xmpp.NSStanzas) == nil {
		t.Fatalf("a non-member's group message answered %s", e.AppendXML(nil))
	}
	// A group that allows preview is visible to non-members, who may
	// still not post: forbidden, not unknown; its members get nothing.
	pv := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "preview", "occupants_ids": []int64{bob.ID}, "permissions": map[string]any{"allow_preview": true}}}, http.StatusCreated)
	c.send(`<message type="groupchat" to="` + fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, pv["_id"].(string)) + `" id="y" xmlns="jabber:client"><body>peek</body></message>`)
	if e := c.expect("message"); e.Attr("type") != "error" || e.Child("error", "").Child("forbidden", xmpp.NSStanzas) == nil {
		t.Fatalf("a non-member's message to a preview group answered %s", e.AppendXML(nil))
	}
	// Typing in a group reaches the others, not the sender.
	b.send(`<message type="groupchat" to="` + room + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	if m := a.expect("message"); m.Child("composing", "") == nil {
		t.Fatalf("typing copy %s", m.AppendXML(nil))
	}
}

// A chat message to a private dialog's room JID is a 1-1 message to the
// other participant (REALTIME.md §6.4: the guide's attachment snippets).
func TestChatToPrivateRoomGoesToTheOtherParticipant(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 3, "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	dialogID := d["_id"].(string)
	a, aJID := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.send(fmt.Sprintf(`<message type="chat" to="%d_%s@muc.localhost" id="65a1f40ac81a4f0e2b000000" xmlns="jabber:client"><body>attachment</body>`+
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>%s</dialog_id>`+
		`<attachment latitude="64.79" longitude="-23.73" type="place"/></extraParams></message>`, env.App.ID, dialogID, dialogID))
	m := b.expect("message")
	if m.Attr("type") != "chat" || m.Attr("from") != aJID.String() || m.Attr("to") != userJID(env, bob) {
		t.Fatalf("delivered %s", m.AppendXML(nil))
	}
	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + dialogID, Token: alice.Token}, http.StatusOK)
	att := hist["items"].([]any)[0].(map[string]any)["attachments"].([]any)[0].(map[string]any)
	if att["type"] != "place" || att["latitude"] != "64.79" {
		t.Fatalf("stored attachment %v", att)
	}
}

// A 1-1 message to a user with no available resource is kept and handed
// over once, in order, with a delay element, right after the next initial
// presence (REALTIME.md §20.5).
func TestOfflineMessagesAreDeliveredOnceOnNextPresence(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, aJID := login(t, env, alice, alice.Password)
	for i, body := range []string{"first", "second"} {
		a.send(fmt.Sprintf(`<message type="chat" to="%s" id="65a1f3d9c81a4f0e2b00000%d" xmlns="jabber:client"><body>%s</body>`+
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`, userJID(env, bob), i, body))
	}
	// Typing is not kept.
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	a.send(`<iq type="get" id="sync" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	a.expect("iq") // every stanza a sent before the ping is processed
	b, _ := loginToPresence(t, env, bob, bob.Password)
	for i, body := range []string{"first", "second"} {
		m := b.expect("message")
		delay := m.Child("delay", xmpp.NSDelay)
		if m.Child("body", "").Text() != body || m.Attr("from") != aJID.String() || delay == nil || delay.Attr("stamp") == "" ||
			m.Attr("id") != fmt.Sprintf("65a1f3d9c81a4f0e2b00000%d", i) {
			t.Fatalf("offline copy %d = %s", i, m.AppendXML(nil))
		}
		extra(t, m, "dialog_id")
	}
	b.send(`<iq type="get" id="after" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := b.expect("iq"); r.Attr("id") != "after" {
		t.Fatalf("after the kept messages: %s", r.AppendXML(nil))
	}
	// Once acknowledged (the rows go before the next stanza is handled),
	// a second connection gets nothing more.
	b.ack()
	b.sync("acked")
	b2, _ := loginToPresence(t, env, bob, bob.Password)
	b2.send(`<iq type="get" id="again" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := b2.expect("iq"); r.Attr("id") != "again" {
		t.Fatalf("second connection got %s", r.AppendXML(nil))
	}
}

// A 1-1 content message is carbon-copied to the sender's other resources
// that enabled carbons, wrapped in <sent/>; typing is not (REALTIME.md §4.3).
func TestCarbonsCopySentMessagesToOtherResources(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a1, a1JID := login(t, env, alice, alice.Password)
	a2, a2JID := login(t, env, alice, alice.Token)
	b, _ := login(t, env, bob, bob.Password)
	a1.send(`<message type="chat" to="` + userJID(env, bob) + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	b.expect("message")
	a1.send(`<message type="chat" to="` + userJID(env, bob) + `" id="65a1f3d9c81a4f0e2b000000" xmlns="jabber:client"><body>copy me</body></message>`)
	delivered := b.expect("message")
	c := a2.expect("message")
	if c.Attr("from") != a1JID.Bare().String() || c.Attr("to") != a2JID.String() {
		t.Fatalf("carbon envelope %s", c.AppendXML(nil))
	}
	inner := c.Child("sent", xmpp.NSCarbons).Child("forwarded", xmpp.NSForward).Child("message", "")
	if inner == nil || string(inner.AppendXML(nil)) != string(delivered.AppendXML(nil)) {
		t.Fatalf("carbon %s does not carry the delivered copy %s", c.AppendXML(nil), delivered.AppendXML(nil))
	}
	// The sender's own resource gets no copy: its next frame is its ping answer.
	a1.send(`<iq type="get" id="p9" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := a1.expect("iq"); r.Attr("id") != "p9" {
		t.Fatalf("sender got %s", r.AppendXML(nil))
	}
}

// A broadcast dialog's message reaches every available user of the
// application, members or not, and its poster; a user of another
// application gets nothing, and a reader may not post (REALTIME.md §7.4).
func TestBroadcastReachesEveryAvailableUserOfTheApp(t *testing.T) {
	env := servertest.Start(t)
	owner, reader, idle := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	d, err := env.Server.Chat.CreateBroadcast(context.Background(), env.App.ID, owner.ID, "news", nil)
	if err != nil {
		t.Fatal(err)
	}
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, d.ID)
	o, _ := login(t, env, owner, owner.Password)
	r, _ := login(t, env, reader, reader.Password)
	i, _ := loginToPresence(t, env, idle, idle.Password) // available too
	// A user of another application, connected to the same server.
	app2, err := env.Server.Auth.CreateApp(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := env.Do(t, servertest.Req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": app2.AuthKey},
		Body: map[string]any{"user": map[string]any{"login": "stranger", "password": "stranger-pw"}}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("sign up in app 2: %d %s", resp.Status, resp.Raw)
	}
	x := dial(t, env.WSURL)
	x.send(openFrame)
	x.expect("open")
	x.expect("stream:features")
	x.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		plain("", fmt.Sprintf("%d-%d", int64(resp.JSON["user"].(map[string]any)["id"].(float64)), app2.ID), "stranger-pw") + `</auth>`)
	x.expect("success")
	x.send(openFrame)
	x.expect("open")
	x.expect("stream:features")
	x.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	x.expect("iq")
	x.send(`<presence xmlns="jabber:client"/>`)
	o.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b0000b1" xmlns="jabber:client"><body>news!</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	for _, cl := range []*client{o, r, i} {
		m := cl.skipTo("message")
		if m.Attr("type") != "groupchat" || m.Attr("from") != fmt.Sprintf("%s/%d", room, owner.ID) || m.Child("body", "").Text() != "news!" {
			t.Fatalf("broadcast copy %s", m.AppendXML(nil))
		}
	}
	r.send(`<message type="groupchat" to="` + room + `" id="65a1f45bc81a4f0e2b0000b2" xmlns="jabber:client"><body>me too</body></message>`)
	if e := r.skipTo("message"); e.Attr("type") != "error" || e.Child("error", "").Child("forbidden", xmpp.NSStanzas) == nil {
		t.Fatalf("a reader's post answered %s", e.AppendXML(nil))
	}
	// Nothing else reached anyone, the other application's user included:
	// the next stanza each gets answers its ping.
	for _, cl := range []*client{o, i, x} {
		cl.send(`<iq type="get" id="after" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
		el := cl.recv()
		for el.Name == "r" || el.Name == "enabled" {
			el = cl.recv()
		}
		if el.Name != "iq" || el.Attr("id") != "after" {
			t.Fatalf("got %s, want the ping answer", el.AppendXML(nil))
		}
	}
}
