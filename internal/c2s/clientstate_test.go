package c2s_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Active/inactive (REALTIME.md §16.4): the SDK's mobile IQ and the
// XEP-0352 nonzas are accepted, an inactive session still gets every
// message, and a user whose sessions are all inactive gets chat alerts as
// if offline.
func TestInactiveSessionsGetMessagesAndAlerts(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	alice, bob := env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	a, _ := login(t, env, alice, alice.Password)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token)
	send := func(id string) {
		a.send(fmt.Sprintf(`<message type="chat" to="%s" id="%s" xmlns="jabber:client"><body>hi</body>`+
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`, userJID(env, bob), id))
		for _, b := range []*client{b1, b2} {
			if m := b.expect("message"); m.Attr("id") != id {
				t.Fatalf("got %s, want message %s", m.AppendXML(nil), id)
			}
		}
		a.nothingQueued("after " + id) // the alert, if any, was handed over by now
	}
	// The SDK's markInactive on one session, a CSI nonza on the other.
	b1.send(`<iq id="754b7bb4:markActive" type="set" xmlns="jabber:client"><mobile xmlns="http://tigase.org/protocol/mobile#v2" enable="true"/></iq>`)
	if r := b1.expect("iq"); r.Attr("type") != "result" || r.Attr("id") != "754b7bb4:markActive" {
		t.Fatalf("markInactive answered %s", r.AppendXML(nil))
	}
	send("65a1f3d9c81a4f0e2b000001") // b2 still active: no alert
	if n := len(rec.list(t)); n != 0 {
		t.Fatalf("%d alerts with an active session", n)
	}
	b2.send(`<inactive xmlns="urn:xmpp:csi:0"/>`)
	b2.nothingQueued("the inactive nonza") // not answered, the stream goes on
	send("65a1f3d9c81a4f0e2b000002")
	if got := rec.list(t); len(got) != 1 || got[0].UserID != bob.ID || got[0].MessageID != "65a1f3d9c81a4f0e2b000002" {
		t.Fatalf("alerts with every session inactive: %+v", got)
	}
	// Back to active (markActive; the nonza on the other): no more alerts.
	b1.send(`<iq id="x:markActive" type="set" xmlns="jabber:client"><mobile xmlns="http://tigase.org/protocol/mobile#v2" enable="false"/></iq>`)
	b1.expect("iq")
	send("65a1f3d9c81a4f0e2b000003")
	b2.send(`<active xmlns="urn:xmpp:csi:0"/>`)
	b1.send(`<iq id="y:markActive" type="set" xmlns="jabber:client"><mobile xmlns="http://tigase.org/protocol/mobile#v2" enable="true"/></iq>`)
	b1.expect("iq")
	send("65a1f3d9c81a4f0e2b000004")
	if n := len(rec.list(t)); n != 1 {
		t.Fatalf("%d alerts after going active, want still 1", n)
	}
	// Nonzas are not stanzas: stream management counts none of them.
	b2.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	if ack := b2.expect("a"); ack.Attr("h") == "" {
		t.Fatalf("ack %s", ack.AppendXML(nil))
	}
}

// A roster get is answered with an empty roster (there are none), not an
// error: standard clients fetch it after login.
func TestRosterGetIsAnEmptyRoster(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	c, jid := login(t, env, u, u.Password)
	c.send(`<iq type="get" id="r1" xmlns="jabber:client"><query xmlns="jabber:iq:roster"/></iq>`)
	r := c.expect("iq")
	q := r.Child("query", "jabber:iq:roster")
	if r.Attr("type") != "result" || r.Attr("id") != "r1" || r.Attr("to") != jid.String() || q == nil {
		t.Fatalf("roster answered %s", r.AppendXML(nil))
	}
	for range q.Elements() {
		t.Fatalf("roster not empty: %s", r.AppendXML(nil))
	}
	// Setting one is still refused, with the code the SDK reads.
	c.send(`<iq type="set" id="r2" xmlns="jabber:client"><query xmlns="jabber:iq:roster"><item jid="x@localhost"/></query></iq>`)
	if e := c.expect("iq"); e.Attr("type") != "error" || e.Child("error", "").Attr("code") != "503" ||
		e.Child("error", "").Child("service-unavailable", xmpp.NSStanzas) == nil {
		t.Fatalf("roster set answered %s", e.AppendXML(nil))
	}
}

// A message to a private dialog's room JID (REALTIME.md §6.4) and one
// created through REST with send_to_chat alert an offline recipient as a
// 1-1 message does (§20.4); they did not before.
func TestPrivateRoomAndSendToChatMessagesAlert(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	alice, bob := env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 3, "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	dialogID := d["_id"].(string)
	a, _ := login(t, env, alice, alice.Password)
	a.send(`<message type="chat" to="` + fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID) + `" id="65a1f3d9c81a4f0e2b000011" xmlns="jabber:client">` +
		`<body>via the room</body><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	a.nothingQueued("after the room message")
	m := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token,
		Body: map[string]any{"chat_dialog_id": dialogID, "message": "via rest", "send_to_chat": 1}}, http.StatusCreated)
	a.expect("message") // its carbon; the alert was handed over before the request returned
	got := rec.list(t)
	if len(got) != 2 || got[0].MessageID != "65a1f3d9c81a4f0e2b000011" || got[1].MessageID != m["_id"] ||
		got[1].UserID != bob.ID || got[1].SenderID != alice.ID || got[1].DialogID != dialogID || got[1].Text != alice.Login+": via rest" {
		t.Fatalf("alerts = %+v", got)
	}
}
