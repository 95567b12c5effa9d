package c2s_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// TestPreclaimedIDsDoNotSwallowMessages is the attack of issue 10: a user
// of another application learns what the server's next message ids are
// from one it was given, and claims them first as the ids of its own
// saved messages (a client may choose its ids, REALTIME.md §6.2); it also
// reuses ids it saw. This application's messages must still be stored
// and delivered, under ids of their own: a REST post answers 201 (not
// 500), a live message is not acknowledged and dropped, and a client's
// id that another tenant holds is rewritten on every copy, the carbon
// included, to the id history shows.
func TestPreclaimedIDsDoNotSwallowMessages(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	alice, bob := env.NewUser(t), env.NewUser(t)
	group := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "g", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, group)

	// Mallory, of app 2, with a friend and a group of their own.
	app2, err := env.Server.Auth.CreateApp(ctx, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	var them [2]int64
	for i, login := range []string{"mallory", "mate"} {
		resp := env.Do(t, servertest.Req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": app2.AuthKey},
			Body: map[string]any{"user": map[string]any{"login": login, "password": "password-" + login}}})
		if resp.Status != http.StatusCreated {
			t.Fatalf("sign up in app 2: %d %s", resp.Status, resp.Raw)
		}
		them[i] = int64(resp.JSON["user"].(map[string]any)["id"].(float64))
	}
	sess := restJSON(t, env, servertest.Req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": app2.ID, "auth_key": app2.AuthKey,
		"user": map[string]any{"login": "mallory", "password": "password-mallory"}}}, http.StatusCreated)
	token := sess["session"].(map[string]any)["token"].(string)
	theirs := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: token,
		Body: map[string]any{"type": 2, "name": "ours", "occupants_ids": []int64{them[1]}}}, http.StatusCreated)["_id"].(string)
	theirRoom := fmt.Sprintf("%d_%s@muc.localhost", app2.ID, theirs)

	// One id the server made tells Mallory the layout; she claims what
	// would follow it: the next counters for this second and the next
	// few (time, a per-process part, a counter in the old layout).
	seen := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: token,
		Body: map[string]any{"chat_dialog_id": theirs, "message": "learn"}}, http.StatusCreated)["_id"].(string)
	raw, err := hex.DecodeString(seen)
	if err != nil || len(raw) != 12 {
		t.Fatalf("id %q", seen)
	}
	counter := int(raw[9])<<16 | int(raw[10])<<8 | int(raw[11])
	now := uint32(env.Clock.Now().Unix())
	var claimed []string
	for sec := now; sec <= now+3; sec++ {
		for next := 1; next <= 8; next++ {
			b := append([]byte{byte(sec >> 24), byte(sec >> 16), byte(sec >> 8), byte(sec)}, raw[4:9]...)
			c := counter + next
			claimed = append(claimed, hex.EncodeToString(append(b, byte(c>>16), byte(c>>8), byte(c))))
		}
	}
	m := dial(t, env.WSURL)
	m.send(openFrame)
	m.expect("open")
	m.expect("stream:features")
	m.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + plain("", fmt.Sprintf("%d-%d", them[0], app2.ID), "password-mallory") + `</auth>`)
	m.expect("success")
	m.send(openFrame)
	m.expect("open")
	m.expect("stream:features")
	m.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	m.expect("iq")
	for _, id := range claimed {
		m.send(`<message type="groupchat" to="` + theirRoom + `" id="` + id + `" xmlns="jabber:client"><body>claimed</body>` +
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	}
	m.sync("claimed") // every claim is stored once the ping is answered
	reused := seen    // an id Mallory holds, reused by a client of app 1 below

	a1, _ := login(t, env, alice, alice.Password)
	a2, _ := login(t, env, alice, alice.Password) // carbons enabled
	b, _ := login(t, env, bob, bob.Password)

	// A REST post gets a server-made id: stored, 201.
	resp := env.Do(t, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"chat_dialog_id": group, "message": "by rest"}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("REST post: %d %s", resp.Status, resp.Raw)
	}
	restID := resp.JSON["_id"].(string)

	// A live group message with no usable id: the server makes one; the
	// echo and the member's copy carry the stored id.
	a1.send(`<message type="groupchat" to="` + room + `" id="not-an-objectid" xmlns="jabber:client"><body>live</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	echo, member := a1.skipTo("message"), b.skipTo("message")
	liveID := echo.Attr("id")
	if member.Attr("id") != liveID || !chat.ValidID(liveID) {
		t.Fatalf("live message delivered as %q (echo) and %q (member)", liveID, member.Attr("id"))
	}
	a2.skipTo("message") // alice's other resource is a member too

	// A 1-1 message whose client id Mallory holds: stored under a new id,
	// the same on the recipient's copy and the sender's carbon.
	a1.send(`<message type="chat" to="` + userJID(env, bob) + `" id="` + reused + `" xmlns="jabber:client"><body>direct</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	got := b.skipTo("message")
	directID := got.Attr("id")
	private := extra(t, got, "dialog_id")
	if directID == reused || !chat.ValidID(directID) {
		t.Fatalf("1-1 message delivered under id %q; Mallory holds %q", directID, reused)
	}
	carbon := a2.skipTo("message")
	fwd := carbon.Child("sent", xmpp.NSCarbons)
	if fwd == nil || fwd.Child("forwarded", xmpp.NSForward).Child("message", "").Attr("id") != directID {
		t.Fatalf("carbon %s; want the id %s", carbon.AppendXML(nil), directID)
	}

	// History has every message under the id it was delivered with.
	ids := func(dialog string) []string {
		t.Helper()
		hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + dialog, Token: bob.Token}, http.StatusOK)
		var out []string
		for _, it := range hist["items"].([]any) {
			out = append(out, it.(map[string]any)["_id"].(string))
		}
		return out
	}
	if h := ids(group); len(h) != 2 || h[0] != restID || h[1] != liveID {
		t.Errorf("group history %v; want [%s %s]", h, restID, liveID)
	}
	if h := ids(private); len(h) != 1 || h[0] != directID {
		t.Errorf("private history %v; want [%s]", h, directID)
	}
	unread := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + group + "," + private, Token: bob.Token}, http.StatusOK)
	if unread[group] != 2.0 || unread[private] != 1.0 {
		t.Errorf("bob's unread %v; want 2 and 1", unread)
	}
	// Mallory's claims are all there.
	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?limit=1000&mark_as_read=0&chat_dialog_id=" + theirs, Token: token}, http.StatusOK)
	if n := len(hist["items"].([]any)); n != len(claimed)+1 {
		t.Errorf("their group holds %d messages; want %d", n, len(claimed)+1)
	}
}
