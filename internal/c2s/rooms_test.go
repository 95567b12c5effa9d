package c2s_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

func newGroup(t *testing.T, env *servertest.Env, owner *servertest.User, typ int, others ...*servertest.User) (dialogID, room string) {
	t.Helper()
	ids := []int64{}
	for _, o := range others {
		ids = append(ids, o.ID)
	}
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: owner.Token,
		Body: map[string]any{"type": typ, "name": "room", "occupants_ids": ids}}, http.StatusCreated)
	dialogID = d["_id"].(string)
	return dialogID, fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, dialogID)
}

// joinStanza is what the SDK's muc.join() sends (REALTIME.md §15.1).
func joinStanza(id, room string, nick int64) string {
	return fmt.Sprintf(`<presence id="%s:join" to="%s/%d" xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`, id, room, nick)
}

func leaveStanza(room string, nick int64) string {
	return fmt.Sprintf(`<presence type="unavailable" to="%s/%d" xmlns="jabber:client"/>`, room, nick)
}

// sdkStatus is what the SDK reads as the status code of a MUC presence:
// the text of <code> inside the element literally named xmlns inside the
// first <x> (§15.2); "" without one.
func sdkStatus(p *xmpp.Element) string {
	x := p.Child("x", "")
	if x == nil {
		return ""
	}
	s := x.Child("xmlns", "")
	if s == nil || s.Child("code", "") == nil {
		return ""
	}
	return s.Child("code", "").Text()
}

// wantSelf checks the self-presence that resolves muc.join() (§15.2).
func wantSelf(t *testing.T, p *xmpp.Element, id, room string, user int64, jid xmpp.JID) {
	t.Helper()
	x := p.Child("x", "")
	if p.Name != "presence" || p.Attr("id") != id || p.Attr("type") != "" || p.Attr("from") != fmt.Sprintf("%s/%d", room, user) ||
		p.Attr("to") != jid.String() || x == nil || x.Attr("xmlns") != xmpp.NSMUCUser ||
		x.Child("status", "") == nil || x.Child("status", "").Attr("code") != "110" || sdkStatus(p) != "110" {
		t.Fatalf("self-presence = %s", p.AppendXML(nil))
	}
}

// wantOccupant checks a presence about another occupant: the SDK reports
// it as a join (or a leave when unavailable) only without the <xmlns>
// element.
func wantOccupant(t *testing.T, p *xmpp.Element, room string, user int64, leaving bool) {
	t.Helper()
	x := p.Child("x", "")
	typ := ""
	if leaving {
		typ = "unavailable"
	}
	if p.Name != "presence" || p.Attr("type") != typ || p.Attr("from") != fmt.Sprintf("%s/%d", room, user) ||
		x == nil || x.Attr("xmlns") != xmpp.NSMUCUser || x.Child("xmlns", "") != nil || x.Child("item", "") == nil {
		t.Fatalf("occupant presence (leaving %v) = %s", leaving, p.AppendXML(nil))
	}
}

// items asks disco#items of a room (§15.7) and returns the user ids.
func items(t *testing.T, c *client, room string) []int64 {
	t.Helper()
	c.send(`<iq type="get" to="` + room + `" id="d1:muc_disco_items" xmlns="jabber:client"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	r := c.skipTo("iq")
	if r.Attr("type") != "result" || r.Attr("id") != "d1:muc_disco_items" {
		t.Fatalf("disco#items answer = %s", r.AppendXML(nil))
	}
	var ids []int64
	for it := range r.Child("query", xmpp.NSDiscoItems).Elements() {
		jid := it.Attr("jid")
		id, err := strconv.ParseInt(jid[len(room)+1:], 10, 64)
		if err != nil || jid[:len(room)+1] != room+"/" {
			t.Fatalf("item %s", it.AppendXML(nil))
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func wantJoinError(t *testing.T, c *client, id, cond, code string) {
	t.Helper()
	e := c.expect("presence")
	x := e.Child("x", "")
	er := e.Child("error", "")
	if e.Attr("type") != "error" || e.Attr("id") != id || x == nil || x.Attr("xmlns") != xmpp.NSMUC ||
		er == nil || er.Attr("code") != code || er.Child(cond, xmpp.NSStanzas) == nil {
		t.Fatalf("join error = %s; want %s (%s)", e.AppendXML(nil), cond, code)
	}
}

// Issue 11 item 5: a join is answered with the self-presence the SDK
// needs, tells the others, and a leave is answered and tells them too;
// disco#items lists who joined.
func TestJoinAndLeaveAreAnsweredAndTold(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	_, room := newGroup(t, env, alice, 2, bob)
	a, aJID := login(t, env, alice, alice.Password)
	b, bJID := login(t, env, bob, bob.Password)

	a.send(joinStanza("j1", room, alice.ID))
	wantSelf(t, a.expect("presence"), "j1:join", room, alice.ID, aJID)
	if got := items(t, a, room); !slices.Equal(got, []int64{alice.ID}) {
		t.Fatalf("occupants after alice joined = %v", got)
	}

	b.send(joinStanza("j2", room, bob.ID))
	wantOccupant(t, b.expect("presence"), room, alice.ID, false) // who is there
	wantSelf(t, b.expect("presence"), "j2:join", room, bob.ID, bJID)
	wantOccupant(t, a.expect("presence"), room, bob.ID, false) // onJoinOccupant
	if got := items(t, a, room); !slices.Equal(got, []int64{alice.ID, bob.ID}) {
		t.Fatalf("occupants = %v", got)
	}

	b.send(leaveStanza(room, bob.ID))
	self := b.expect("presence")
	if self.Attr("type") != "unavailable" || self.Attr("from") != fmt.Sprintf("%s/%d", room, bob.ID) || sdkStatus(self) != "110" {
		t.Fatalf("leave answer = %s", self.AppendXML(nil))
	}
	wantOccupant(t, a.expect("presence"), room, bob.ID, true) // onLeaveOccupant
	if got := items(t, a, room); !slices.Equal(got, []int64{alice.ID}) {
		t.Fatalf("occupants after bob left = %v", got)
	}
	// A leave without a join is answered too (leave() must settle).
	b.send(leaveStanza(room, bob.ID))
	if p := b.expect("presence"); p.Attr("type") != "unavailable" || sdkStatus(p) != "110" {
		t.Fatalf("second leave answer = %s", p.AppendXML(nil))
	}
	a.nothingQueued("a leave of someone not joined")
}

// Join errors reject the SDK's promise (§15.3): non-members 407, unknown
// rooms, other apps' rooms and malformed room JIDs 404, a wrong nickname
// 406, an address that is no JID 400; public dialogs are open to anyone of
// the app. Nothing of it changes the store.
func TestJoinErrorsAndWhoMayJoin(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	dialogID, room := newGroup(t, env, alice, 2, bob)
	_, public := newGroup(t, env, alice, 4)
	before := env.Do(t, servertest.Req{Method: "GET", Path: "/chat/Dialog.json?_id=" + dialogID, Token: alice.Token}).Raw
	c, cJID := login(t, env, carol, carol.Password)

	c.send(joinStanza("e1", room, carol.ID))
	wantJoinError(t, c, "e1:join", "registration-required", "407")
	c.send(joinStanza("e2", fmt.Sprintf("%d_65a1f0c2e4b0a1b2c3d4e5f6@muc.localhost", env.App.ID), carol.ID))
	wantJoinError(t, c, "e2:join", "item-not-found", "404")
	c.send(joinStanza("e3", fmt.Sprintf("%d_%s@muc.localhost", env.App.ID+1, dialogID), carol.ID))
	wantJoinError(t, c, "e3:join", "item-not-found", "404")
	for i, bad := range []string{"nounderscore@muc.localhost", "0_x@muc.localhost", fmt.Sprintf("%d_@muc.localhost", env.App.ID),
		fmt.Sprintf("%d_short@muc.localhost", env.App.ID)} {
		id := fmt.Sprintf("m%d", i)
		c.send(joinStanza(id, bad, carol.ID))
		wantJoinError(t, c, id+":join", "item-not-found", "404")
	}
	c.send(`<presence id="e4:join" to="a@@b/1" xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc"/></presence>`)
	wantJoinError(t, c, "e4:join", "jid-malformed", "400")
	c.send(joinStanza("e5", public, bob.ID))
	wantJoinError(t, c, "e5:join", "not-acceptable", "406")
	// Who may not join may not list who joined (the SDK resolves []).
	c.send(`<iq type="get" to="` + room + `" id="d:muc_disco_items" xmlns="jabber:client"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`)
	if r := c.expect("iq"); r.Attr("type") != "error" || r.Child("error", "").Child("forbidden", xmpp.NSStanzas) == nil {
		t.Fatalf("a non-member's disco#items answered %s", r.AppendXML(nil))
	}

	c.send(joinStanza("ok", public, carol.ID))
	wantSelf(t, c.expect("presence"), "ok:join", public, carol.ID, cJID)
	if env.Server.RoomsJoined() != 1 {
		t.Fatalf("joined pairs = %d, want 1", env.Server.RoomsJoined())
	}
	after := env.Do(t, servertest.Req{Method: "GET", Path: "/chat/Dialog.json?_id=" + dialogID, Token: alice.Token}).Raw
	if string(before) != string(after) {
		t.Fatalf("the refused joins changed the dialog:\n%s\n%s", before, after)
	}
}

// A session that ends is seen leaving, unless another session of its
// user is still in the room (one occupant per user).
func TestDisconnectIsSeenLeaving(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	_, room := newGroup(t, env, alice, 2, bob)
	a, _ := login(t, env, alice, alice.Password)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token)
	a.send(joinStanza("a", room, alice.ID))
	a.expect("presence")
	for _, b := range []*client{b1, b2} {
		b.send(joinStanza("b", room, bob.ID))
		wantOccupant(t, b.expect("presence"), room, alice.ID, false)
		if p := b.expect("presence"); p.Attr("id") != "b:join" {
			t.Fatalf("self-presence = %s", p.AppendXML(nil))
		}
	}
	wantOccupant(t, a.expect("presence"), room, bob.ID, false)
	a.nothingQueued("bob's second session joining") // one occupant per user

	b1.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
	b1.expect("close")
	b1.c.CloseNow()
	// The session ends after its connection: wait for its rooms to end.
	servertest.Eventually(t, 10*time.Second, "b1's rooms to end", func() bool { return env.Server.RoomsJoined() == 2 })
	a.nothingQueued("bob still has a session in the room")

	b2.c.CloseNow()
	wantOccupant(t, a.expect("presence"), room, bob.ID, true)
	if got := items(t, a, room); !slices.Equal(got, []int64{alice.ID}) {
		t.Fatalf("occupants = %v", got)
	}
}

// Issue 11 item 4: pull_all by the owner kicks (§15.5): every available
// session of the removed user gets the 301 presence, joined or not, the
// others see it leave, and its group messages stop at once.
func TestPullAllKicksAndStopsGroupMessages(t *testing.T) {
	env := servertest.Start(t)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	dialogID, room := newGroup(t, env, alice, 2, bob, carol)
	a, _ := login(t, env, alice, alice.Password)
	b1, _ := login(t, env, bob, bob.Password)
	b2, _ := login(t, env, bob, bob.Token) // never joins
	c, _ := login(t, env, carol, carol.Password)
	a.send(joinStanza("a", room, alice.ID))
	a.expect("presence")
	b1.send(joinStanza("b", room, bob.ID))
	b1.expect("presence")
	b1.expect("presence")
	wantOccupant(t, a.expect("presence"), room, bob.ID, false)

	restJSON(t, env, servertest.Req{Method: "PUT", Path: "/chat/Dialog/" + dialogID + ".json", Token: alice.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{bob.ID}}}}, http.StatusOK)
	for _, b := range []*client{b1, b2} {
		k := b.expect("presence")
		item := k.Child("item", "")
		if k.Attr("type") != "unavailable" || k.Attr("from") != fmt.Sprintf("%s/%d", room, bob.ID) || sdkStatus(k) != "301" ||
			item == nil || item.Child("actor", "") == nil || item.Child("actor", "").Attr("jid") != userJID(env, alice) {
			t.Fatalf("kick presence = %s", k.AppendXML(nil))
		}
	}
	wantOccupant(t, a.expect("presence"), room, bob.ID, true)
	c.nothingQueued("carol never joined: no occupant presences")
	if got := items(t, a, room); !slices.Equal(got, []int64{alice.ID}) {
		t.Fatalf("occupants after the kick = %v", got)
	}

	a.send(`<message type="groupchat" to="` + room + `" id="after-kick" xmlns="jabber:client"><body>bob is out</body>` +
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	if m := c.expect("message"); m.Child("body", "").Text() != "bob is out" {
		t.Fatalf("carol got %s", m.AppendXML(nil))
	}
	a.expect("message")
	b1.nothingQueued("a group message after the kick")
	b2.nothingQueued("a group message after the kick")
	// And the kicked user may not join again.
	b1.send(joinStanza("again", room, bob.ID))
	wantJoinError(t, b1, "again:join", "registration-required", "407")
}

// Joining again and again, or joining and leaving in a loop, holds one
// entry at most and tells the others once (memory flat, §15 bad input).
func TestRepeatedJoinsHoldNothingMore(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	alice, bob := env.NewUser(t), env.NewUser(t)
	_, room := newGroup(t, env, alice, 2, bob)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.send(joinStanza("a", room, alice.ID))
	a.expect("presence")
	// In batches, reading as it goes: a client that never reads is
	// closed by its queue's bound, which is not what is tested here.
	const n, batch = 10000, 100
	for i := 0; i < n; i += batch {
		for k := i; k < i+batch; k++ {
			b.send(joinStanza(strconv.Itoa(k), room, bob.ID))
		}
		for k := i; k < i+batch; k++ {
			b.expect("presence") // alice is there
			if p := b.expect("presence"); p.Attr("id") != strconv.Itoa(k)+":join" || sdkStatus(p) != "110" {
				t.Fatalf("join %d answered %s", k, p.AppendXML(nil))
			}
		}
	}
	if got := env.Server.RoomsJoined(); got != 2 {
		t.Fatalf("after %d joins: %d joined pairs, want 2", n, got)
	}
	wantOccupant(t, a.expect("presence"), room, bob.ID, false)
	a.nothingQueued("repeated joins of one session")
	for i := 0; i < n; i += batch {
		for k := i; k < i+batch; k++ {
			b.send(leaveStanza(room, bob.ID))
			b.send(joinStanza(strconv.Itoa(k), room, bob.ID))
		}
		for k := i; k < i+batch; k++ {
			if p := b.expect("presence"); p.Attr("type") != "unavailable" || sdkStatus(p) != "110" {
				t.Fatalf("leave %d answered %s", k, p.AppendXML(nil))
			}
			b.expect("presence")
			b.expect("presence")
			wantOccupant(t, a.expect("presence"), room, bob.ID, true)
			wantOccupant(t, a.expect("presence"), room, bob.ID, false)
		}
	}
	if got := env.Server.RoomsJoined(); got != 2 {
		t.Fatalf("after %d leaves and joins: %d joined pairs, want 2", n, got)
	}
	a.nothingQueued("after the loop")
}

// Joins over the stanza rate are refused with resource-constraint in the
// shape of a join error (the SDK's join() rejects instead of hanging), and
// hold nothing.
func TestJoinsOverTheStanzaRateAreRefusedAsJoinErrors(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate, c.MaxStanzaBurst = 1, 20 })
	alice, bob := env.NewUser(t), env.NewUser(t)
	_, room := newGroup(t, env, alice, 2, bob)
	b, bJID := loginToPresence(t, env, bob, bob.Password)
	const n = 60
	for i := 0; i < n; i++ {
		b.send(joinStanza(strconv.Itoa(i), room, bob.ID))
	}
	refused := 0
	for i := 0; i < n; i++ {
		id := strconv.Itoa(i) + ":join"
		p := b.expect("presence")
		if p.Attr("type") != "error" {
			wantSelf(t, p, id, room, bob.ID, bJID)
			continue
		}
		refused++
		x, er := p.Child("x", ""), p.Child("error", "")
		if p.Attr("id") != id || x == nil || x.Attr("xmlns") != xmpp.NSMUC || er.Child("resource-constraint", xmpp.NSStanzas) == nil {
			t.Fatalf("refused join %d answered %s", i, p.AppendXML(nil))
		}
	}
	if refused == 0 {
		t.Fatal("no join was over the rate (test too weak)")
	}
	if got := env.Server.RoomsJoined(); got != 1 {
		t.Fatalf("%d joined pairs, want 1", got)
	}
}
