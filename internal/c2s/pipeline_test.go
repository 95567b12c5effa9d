package c2s_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// A burst of saved messages is stored while the session reads on (the
// pipeline), yet everything keeps the order of the stanzas: the recipient
// gets the 1-1 and group messages and the typing notice in the order they
// were sent, each once; a refusal in the middle comes back in its place;
// a ping and an ack request sent after the burst are answered only once
// every message before them is stored and delivered, with h counting them
// all.
func TestBurstKeepsOrderAndCountsWhileStoring(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	d := restJSON(t, env, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: alice.Token,
		Body: map[string]any{"type": 2, "name": "burst", "occupants_ids": []int64{bob.ID}}}, http.StatusCreated)
	group := d["_id"].(string)
	room := fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, group)
	a, _ := login(t, env, alice, alice.Password)
	b, _ := login(t, env, bob, bob.Password)
	a.manualAcks = true
	a.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	base := a.skipTo("a").Attr("h")

	const n = 60
	saved := `<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams>`
	var want []string // what bob must get, in order: ids, "typing"
	sent := 0
	for i := range n {
		id := fmt.Sprintf("65a1f3d9c81a4f0e2b%06x", i)
		if i%10 == 5 {
			a.send(`<message type="groupchat" to="` + room + `" id="` + id + `" xmlns="jabber:client"><body>group ` + id + `</body>` + saved + `</message>`)
		} else {
			a.send(`<message type="chat" to="` + userJID(env, bob) + `" id="` + id + `" xmlns="jabber:client"><body>direct ` + id + `</body>` + saved + `</message>`)
		}
		want = append(want, id)
		sent++
		if i == n/2 {
			a.send(`<message type="chat" to="` + userJID(env, bob) + `" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
			want = append(want, "typing")
			a.send(`<message type="chat" to="999999-` + fmt.Sprint(env.App.ID) + `@localhost" id="nobody" xmlns="jabber:client"><body>x</body>` + saved + `</message>`)
			sent += 2
		}
	}
	a.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	a.send(`<iq type="get" id="after" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)

	// Alice's stream: her group echoes in order, the refusal after the
	// echoes sent before it, then h counting every stanza, then the ping.
	// The <a/>s sent unasked ahead of each content message's copies
	// (sm.go) come before it, never counting more than was handled.
	var echoes []string
	refusedAfter := -1
	var h string
	var baseN, last int
	fmt.Sscan(base, &baseN)
	a.showAcks = true
	for h == "" {
		el := a.recv()
		if el.Name == "a" {
			var n int
			fmt.Sscan(el.Attr("h"), &n)
			if n < last || n > baseN+sent {
				t.Fatalf("<a h=%d> after <a h=%d>, with %d stanzas sent", n, last, sent)
			}
			last = n
			if n < baseN+sent {
				continue // one sent ahead of a delivery
			}
		}
		switch {
		case el.Name == "message" && el.Attr("type") == "error":
			if el.Attr("id") != "nobody" || el.Child("error", "").Child("service-unavailable", xmpp.NSStanzas) == nil {
				t.Fatalf("refusal %s", el.AppendXML(nil))
			}
			refusedAfter = len(echoes)
		case el.Name == "message":
			echoes = append(echoes, el.Attr("id"))
		case el.Name == "a":
			h = el.Attr("h")
		case el.Name == "iq":
			t.Fatalf("the ping was answered before the ack request: %s", el.AppendXML(nil))
		}
	}
	a.showAcks = false
	if h != fmt.Sprint(baseN+sent) {
		t.Fatalf("h = %s after %d stanzas, want %d", h, sent, baseN+sent)
	}
	if refusedAfter != n/20 { // group messages at 5, 15, 25 come before the refusal at 30
		t.Fatalf("the refusal came after %d group echoes, want %d", refusedAfter, n/20)
	}
	if r := a.skipTo("iq"); r.Attr("id") != "after" {
		t.Fatalf("ping answer %s", r.AppendXML(nil))
	}
	// Answered after the burst: every message is in the history already.
	hist := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + group, Token: bob.Token}, http.StatusOK)
	if got := len(hist["items"].([]any)); got != n/10 {
		t.Fatalf("group history holds %d messages when the ping is answered, want %d", got, n/10)
	}

	// Bob's stream: everything in order, once.
	var got []string
	for len(got) < len(want) {
		el := b.recv()
		if el.Name != "message" {
			continue
		}
		if el.Child("composing", "") != nil {
			got = append(got, "typing")
			continue
		}
		got = append(got, el.Attr("id"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bob got %v\nwant %v", got, want)
		}
	}
	unread := restJSON(t, env, servertest.Req{Method: "GET", Path: "/chat/Message/unread.json", Token: bob.Token}, http.StatusOK)
	if unread["total"] != float64(n) {
		t.Fatalf("bob's unread total %v, want %d", unread["total"], n)
	}
}
