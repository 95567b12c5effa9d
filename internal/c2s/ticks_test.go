package c2s_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// ackedBefore reads c's stream up to the marker of kind for msgID and
// returns the highest h of the <a/>s that came before it. c.showAcks must
// be on.
func (c *client) ackedBefore(kind, msgID string) int {
	c.t.Helper()
	highest := -1
	for {
		el := c.recv()
		switch {
		case el.Name == "a" && el.Attr("xmlns") == xmpp.NSSM:
			if h, err := strconv.Atoi(el.Attr("h")); err == nil && h > highest {
				highest = h
			}
		case el.Name == "message":
			if m := el.Child(kind, xmpp.NSMarkers); m != nil && m.Attr("id") == msgID {
				return highest
			}
		}
	}
}

// The sender's ticks (issue 15): the SDK shows a message 'sent' on the
// <a h> covering it and 'delivered' / 'read' on the recipient's markers,
// so a marker that reaches the sender before that <a> turns the tick back
// to 'sent'. The sender here never asks (<r/>): the server's <a> must be
// on its stream ahead of any marker, for 1-1 and for group messages.
func TestSenderAckPrecedesRecipientMarkers(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	group := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "ticks", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, group)
	a, _ := login(t, env, alice, alice.Password) // handled: carbons iq, presence, ping
	b, _ := login(t, env, bob, bob.Password)
	a.showAcks = true
	saved := `<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams>`

	// 1-1: bob answers the copy at once, received then displayed.
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" id="65a1f3d9c81a4f0e2b000001" xmlns="jabber:client"><body>one</body>` + saved + `</message>`)
	m := b.skipTo("message")
	dialog := m.Child("extraParams", "").Child("dialog_id", "").Text()
	b.send(marker("received", userJID(env, alice), m.Attr("id"), dialog))
	b.send(marker("displayed", userJID(env, alice), m.Attr("id"), dialog))
	if h := a.ackedBefore("received", m.Attr("id")); h < 4 {
		t.Fatalf("1-1: the received marker came after <a h=%d>; want an <a h> of at least 4 before it", h)
	}
	if h := a.ackedBefore("displayed", m.Attr("id")); h != -1 {
		t.Fatalf("1-1: an <a h=%d> between the two markers, want none", h)
	}

	// Group: the marker goes to the sender's JID (the SDK's sendReadStatus).
	a.send(`<message type="groupchat" to="` + room + `" id="65a1f3d9c81a4f0e2b000002" xmlns="jabber:client"><body>two</body>` + saved + `</message>`)
	g := b.skipTo("message")
	if g.Attr("type") != "groupchat" {
		t.Fatalf("bob got %s", g.AppendXML(nil))
	}
	b.send(marker("displayed", userJID(env, alice), g.Attr("id"), group))
	if h := a.ackedBefore("displayed", g.Attr("id")); h < 5 {
		t.Fatalf("group: the displayed marker came after <a h=%d>; want an <a h> of at least 5 before it", h)
	}

	// To a user with no live session the copy is kept offline and nothing
	// is sent ahead: the <a/> comes only when asked, after it was kept.
	carol := env.NewUser(t)
	a.send(`<message type="chat" to="` + userJID(env, carol) + `" id="65a1f3d9c81a4f0e2b000003" xmlns="jabber:client"><body>three</body>` + saved + `</message>`)
	a.send(`<iq type="get" id="after-offline" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := a.recv(); r.Name != "iq" || r.Attr("id") != "after-offline" {
		t.Fatalf("offline recipient: got %s, want nothing before the ping answer", r.AppendXML(nil))
	}

	// A message the SDK does not track (its attachment inside
	// <extraParams>, no body) gets no <a/> ahead: one would make the SDK
	// mark the next message it queued as sent before it was stored.
	a.send(`<message type="chat" to="` + userJID(env, bob) + `" id="65a1f3d9c81a4f0e2b000004" xmlns="jabber:client">` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><attachment type="image" uid="u1"/></extraParams></message>`)
	if m := b.skipTo("message"); m.Attr("id") != "65a1f3d9c81a4f0e2b000004" {
		t.Fatalf("bob got %s", m.AppendXML(nil))
	}
	a.send(`<iq type="get" id="after-untracked" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := a.recv(); r.Name != "iq" || r.Attr("id") != "after-untracked" {
		t.Fatalf("untracked message: got %s, want nothing before the ping answer", r.AppendXML(nil))
	}

	// Asked, the server answers with the whole count.
	a.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	if ack := a.expect("a"); ack.Attr("h") != "9" {
		t.Fatalf("answer to <r/>: %s, want h=9", ack.AppendXML(nil))
	}
}
