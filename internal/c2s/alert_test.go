package c2s_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/pushtest"
	"github.com/parley-chat/parley/internal/servertest"
)

// alerts is the receiving end of chat alerts in these tests: a local Web
// Push service that checks and decrypts what the server's dispatcher sends
// to the subscriptions the test makes.
type alerts struct {
	env *servertest.Env
	wp  *pushtest.WebPush
	mu  sync.Mutex
	to  map[string]int64 // endpoint → the subscribed user
}

// alert is one push as received: to whom, about which message.
type alert struct {
	UserID, SenderID    int64
	MessageID, DialogID string
	Text                string
	Badge               int
}

func newAlerts(t *testing.T, env *servertest.Env) *alerts {
	t.Helper()
	subject := "mailto:ops@example.com"
	if _, err := env.Server.Push.UpdateSettings(t.Context(), env.App.ID, push.SettingsInput{VAPIDGenerate: true, VAPIDSubject: &subject}); err != nil {
		t.Fatal(err)
	}
	return &alerts{env: env, wp: pushtest.NewWebPush(t), to: map[string]int64{}}
}

// subscribe gives u a Web Push subscription, as the SDK makes it.
func (a *alerts) subscribe(t *testing.T, u *servertest.User) {
	t.Helper()
	s := a.wp.NewSubscription().Subscription()
	restAny(t, a.env, servertest.Req{Method: "POST", Path: "/subscriptions.json", Token: u.Token, Body: map[string]any{
		"notification_channel": "web", "device": map[string]any{"platform": "web", "udid": "browser-" + strconv.FormatInt(u.ID, 10)},
		"push_token": map[string]any{"environment": "development", "web_endpoint": s.Token, "web_auth": s.WebAuth, "web_p256dh": s.WebP256dh},
	}}, http.StatusCreated)
	a.mu.Lock()
	a.to[s.Token] = u.ID
	a.mu.Unlock()
}

// list waits until no chat alert waits (every alert stored so far was
// queued, and sent or refused) and returns the pushes received, in
// message order. Alerts are stored in the transaction that stores their
// message (as a column of a stored message, as outbox rows for another),
// so once a test saw a message delivered, its alert is in the store.
func (a *alerts) list(t *testing.T) []alert {
	t.Helper()
	servertest.Eventually(t, 10*time.Second, "the push outbox drains", func() bool {
		// Pending first: an alert expanded between the two reads is then
		// queued in the second, not missed by both.
		if n, err := a.env.Server.Push.PendingAlerts(t.Context()); err != nil || n > 0 {
			return false
		}
		st, err := a.env.Server.Push.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range st {
			if c.Queued > 0 {
				return false
			}
			if c.Dead > 0 {
				t.Fatalf("dead pushes: %+v; refused: %+v", c, a.wp.Rejections())
			}
		}
		return true
	})
	var out []alert
	for _, p := range a.wp.Received() {
		var n struct {
			Message   string `json:"message"`
			MessageID string `json:"message_id"`
			DialogID  string `json:"dialog_id"`
			UserID    string `json:"user_id"`
			Badge     int    `json:"ios_badge"`
		}
		if err := json.Unmarshal(p.Payload, &n); err != nil {
			t.Fatalf("push payload %s: %v", p.Payload, err)
		}
		sender, _ := strconv.ParseInt(n.UserID, 10, 64)
		a.mu.Lock()
		out = append(out, alert{UserID: a.to[p.Endpoint], SenderID: sender, MessageID: n.MessageID, DialogID: n.DialogID,
			Text: n.Message, Badge: n.Badge})
		a.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MessageID < out[j].MessageID })
	return out
}

func restAny(t *testing.T, env *servertest.Env, r servertest.Req, status int) {
	t.Helper()
	if resp := env.Do(t, r); resp.Status != status {
		t.Fatalf("%s %s: %d %s", r.Method, r.Path, resp.Status, resp.Raw)
	}
}

// Chat alerts (REALTIME.md §20.4): for an offline recipient of a content
// message, unless silent=1 or the recipient muted the dialog; never for an
// online one. The push carries the template's text and the badge.
func TestChatAlertsForOfflineRecipients(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	alice, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	rec.subscribe(t, carol)
	a, _ := login(t, env, alice, alice.Password)
	login(t, env, carol, carol.Password) // online: never alerted
	send := func(to *servertest.User, id, extra string) {
		a.send(fmt.Sprintf(`<message type="chat" to="%s" id="%s" xmlns="jabber:client"><body>hi</body>`+
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history>%s</extraParams></message>`, userJID(env, to), id, extra))
	}
	// The silent one first: stanzas take effect in order, so it is stored
	// and unread when the other's alert is sent (the badge counts it).
	send(bob, "65a1f3d9c81a4f0e2b000002", "<silent>1</silent>")
	send(bob, "65a1f3d9c81a4f0e2b000001", "")
	send(carol, "65a1f3d9c81a4f0e2b000003", "")
	a.send(`<iq type="get" id="s1" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	a.expect("iq")
	got := rec.list(t)
	if len(got) != 1 || got[0].UserID != bob.ID || got[0].SenderID != alice.ID || got[0].MessageID != "65a1f3d9c81a4f0e2b000001" ||
		got[0].Text != alice.Login+": hi" || got[0].DialogID == "" || got[0].Badge != 2 {
		// Badge 2: the silent message is unread too; it only did not alert.
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
	if n := len(rec.list(t)); n != 1 {
		t.Fatalf("%d alerts after muting, want still 1", n)
	}
}

// A message that is not saved to history has no dialog bookkeeping, but an
// offline recipient is alerted all the same (REALTIME.md §20.4: stored or
// not); typing never is.
func TestUnsavedMessageAlertsTypingDoesNot(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	alice, bob := env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	a, _ := login(t, env, alice, alice.Password)
	a.send(fmt.Sprintf(`<message type="chat" to="%s" id="t1" xmlns="jabber:client"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`, userJID(env, bob)))
	a.send(fmt.Sprintf(`<message type="chat" to="%s" id="65a1f3d9c81a4f0e2b000021" xmlns="jabber:client"><body>not kept</body></message>`, userJID(env, bob)))
	servertest.Eventually(t, 10*time.Second, "the alert of the unsaved message", func() bool { return len(rec.wp.Received()) > 0 })
	got := rec.list(t)
	if len(got) != 1 || got[0].MessageID != "65a1f3d9c81a4f0e2b000021" || got[0].DialogID != "" || got[0].Text != alice.Login+": not kept" {
		t.Fatalf("alerts = %+v", got)
	}
}

// The alert template's {dialog} is the dialog's name as the recipient sees
// it (chat.View.Title): a private dialog is named after the other
// participant, here the sender, as in the REST dialog list.
func TestAlertTemplateNamesThePrivateDialogAsTheRecipientSees(t *testing.T) {
	env := servertest.Start(t)
	rec := newAlerts(t, env)
	tmpl := "{sender} in {dialog}: {body}"
	if _, err := env.Server.Push.UpdateSettings(t.Context(), env.App.ID, push.SettingsInput{Template: &tmpl}); err != nil {
		t.Fatal(err)
	}
	alice, bob := env.NewUser(t), env.NewUser(t)
	rec.subscribe(t, bob)
	a, _ := login(t, env, alice, alice.Password)
	a.send(fmt.Sprintf(`<message type="chat" to="%s" id="65a1f3d9c81a4f0e2b000031" xmlns="jabber:client"><body>hi</body>`+
		`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`, userJID(env, bob)))
	a.send(`<iq type="get" id="s1" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	a.expect("iq")
	if got := rec.list(t); len(got) != 1 || got[0].Text != alice.Login+" in "+alice.Login+": hi" {
		t.Fatalf("alerts = %+v", got)
	}
}
