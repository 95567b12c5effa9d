package c2s_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/c2s"
	"github.com/parley-chat/parley/internal/servertest"
)

// alerts records what the engine hands to the push side (the push
// subsystem itself is a later milestone; this is its contract).
type alerts struct {
	mu  sync.Mutex
	got []c2s.Alert
}

func (a *alerts) ChatAlert(_ context.Context, al c2s.Alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, al)
}

func (a *alerts) list() []c2s.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]c2s.Alert(nil), a.got...)
}

// Chat alerts (REALTIME.md §20.4): for an offline recipient of a content
// message, unless silent=1 or the recipient muted the dialog; never for an
// online one.
func TestChatAlertsForOfflineRecipients(t *testing.T) {
	env := servertest.Start(t)
	rec := &alerts{}
	env.Server.SetAlerter(rec)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	login(t, env, carol, carol.Password) // online: never alerted
	send := func(to *servertest.User, id, extra string) {
		a.send(fmt.Sprintf(`<message type="chat" to="%s" id="%s" xmlns="jabber:client"><body>hi</body>`+
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history>%s</extraParams></message>`, userJID(env, to), id, extra))
	}
	send(bob, "65a1f3d9c81a4f0e2b000001", "")
	send(bob, "65a1f3d9c81a4f0e2b000002", "<silent>1</silent>")
	send(carol, "65a1f3d9c81a4f0e2b000003", "")
	a.send(`<iq type="get" id="s1" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	a.expect("iq")
	got := rec.list()
	if len(got) != 1 || got[0].UserID != bob.ID || got[0].SenderID != alice.ID || got[0].MessageID != "65a1f3d9c81a4f0e2b000001" ||
		got[0].Body != "hi" || got[0].DialogID == "" || got[0].AppID != env.App.ID {
		t.Fatalf("alerts = %+v", got)
	}
	// Bob mutes the dialog: no more alerts for it.
	resp := env.Do(t, servertest.Req{Method: "PUT", Path: "/chat/Dialog/" + got[0].DialogID + "/notifications.json", Token: bob.Token,
		Body: map[string]any{"enabled": 0}})
	if resp.Status != http.StatusOK {
		t.Fatalf("mute: %d %s", resp.Status, resp.Raw)
	}
	send(bob, "65a1f3d9c81a4f0e2b000004", "")
	a.send(`<iq type="get" id="s2" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	a.expect("iq")
	if n := len(rec.list()); n != 1 {
		t.Fatalf("%d alerts after muting, want still 1", n)
	}
}
