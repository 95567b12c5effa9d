package push_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/pushtest"
	"github.com/parley-chat/parley/internal/push/webpush"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// End-to-end tests of the Dispatcher: a real server in-process whose
// providers point at local Web Push, FCM and APNs services, which check
// every request as the real ones do and fail on demand.

const apnsTopic = "com.example.parley"

// waitFor bounds every wait of these tests.
const waitFor = 20 * time.Second

// rig is a server and the push services it sends to.
type rig struct {
	env  *servertest.Env
	dir  string // the server's data directory
	wp   *pushtest.WebPush
	fcm  *pushtest.FCM
	apns *pushtest.APNs
	ca   string
	mut  []func(*config.Config)
}

// newRig starts the push services and a server sending to them, with the
// default app's Web Push, FCM and APNs credentials set.
func newRig(t *testing.T, mutate ...func(*config.Config)) *rig {
	t.Helper()
	r := &rig{wp: pushtest.NewWebPush(t), fcm: pushtest.NewFCM(t), apns: pushtest.NewAPNs(t), mut: mutate}
	r.ca = r.apns.CAFile(t)
	r.apns.SetTopic(apnsTopic)
	r.start(t, "")
	subject := "mailto:ops@example.com"
	p8, keyID, teamID := r.apns.Key()
	topic := apnsTopic
	v, err := r.env.Server.Push.UpdateSettings(t.Context(), r.env.App.ID, push.SettingsInput{VAPIDGenerate: true, VAPIDSubject: &subject,
		FCMServiceAccount: r.fcm.ServiceAccount(), APNsKey: p8, APNsKeyID: &keyID, APNsTeamID: &teamID, APNsTopic: &topic})
	if err != nil {
		t.Fatal(err)
	}
	r.wp.SetVAPIDKey(v.VAPIDPublicKey) // every push must be signed by the app's key
	return r
}

// start runs a server on dir ("" for a fresh one).
func (r *rig) start(t *testing.T, dir string) {
	t.Helper()
	r.env = servertest.Start(t, append([]func(*config.Config){func(c *config.Config) {
		if dir != "" {
			c.DataDir = dir
		}
		r.dir = c.DataDir
		c.PushFCMURL = r.fcm.Endpoint()
		c.PushAPNsURL, c.PushAPNsSandboxURL = r.apns.URL(), r.apns.URL()
		c.PushCAFile = r.ca
	}}, r.mut...)...)
}

// stop shuts the server down (its test cleanup then does nothing).
func (r *rig) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := r.env.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) do(t *testing.T, req servertest.Req, status int) *servertest.Response {
	t.Helper()
	resp := r.env.Do(t, req)
	if resp.Status != status {
		t.Fatalf("%s %s: %d %s", req.Method, req.Path, resp.Status, resp.Raw)
	}
	return resp
}

func (r *rig) subscribe(t *testing.T, u *servertest.User, channel, platform, udid string, token map[string]any) {
	t.Helper()
	r.do(t, servertest.Req{Method: "POST", Path: "/subscriptions.json", Token: u.Token, Body: map[string]any{
		"notification_channel": channel, "device": map[string]any{"platform": platform, "udid": udid}, "push_token": token}},
		http.StatusCreated)
}

// subscribeWeb gives u a browser subscription and returns its endpoint.
func (r *rig) subscribeWeb(t *testing.T, u *servertest.User, udid string) string {
	t.Helper()
	b := r.wp.NewSubscription()
	r.subscribe(t, u, "web", "web", udid, map[string]any{"environment": "development", "web_endpoint": b.Endpoint,
		"web_auth": b.Auth, "web_p256dh": b.P256dh})
	return b.Endpoint
}

// subscribeGCM gives u an Android subscription and returns its token.
func (r *rig) subscribeGCM(t *testing.T, u *servertest.User) string {
	t.Helper()
	tok := "fcm-token-" + strconv.FormatInt(u.ID, 10)
	r.subscribe(t, u, "gcm", "android", "android-"+strconv.FormatInt(u.ID, 10),
		map[string]any{"environment": "development", "client_identification_sequence": tok})
	return tok
}

// subscribeAPNs gives u an iOS subscription (development: the sandbox
// URL) and returns its device token.
func (r *rig) subscribeAPNs(t *testing.T, u *servertest.User) string {
	t.Helper()
	tok := hex.EncodeToString([]byte(fmt.Sprintf("%032d", u.ID))) // 64 hex digits
	r.subscribe(t, u, "apns", "ios", "iphone-"+strconv.FormatInt(u.ID, 10),
		map[string]any{"environment": "development", "client_identification_sequence": tok})
	return tok
}

// subscriptions lists u's subscriptions' ids.
func (r *rig) subscriptions(t *testing.T, u *servertest.User) []int64 {
	t.Helper()
	resp := r.do(t, servertest.Req{Method: "GET", Path: "/subscriptions.json", Token: u.Token}, http.StatusOK)
	var out []struct {
		Subscription struct {
			ID int64 `json:"id"`
		} `json:"subscription"`
	}
	if err := json.Unmarshal(resp.Raw, &out); err != nil {
		t.Fatalf("subscriptions: %v: %s", err, resp.Raw)
	}
	ids := make([]int64, 0, len(out))
	for _, s := range out {
		ids = append(ids, s.Subscription.ID)
	}
	return ids
}

// send posts a private chat message from one user to another over REST
// with send_to_chat=1: stored and routed like an XMPP message, its alert
// queued in the same transaction. It returns the message id.
func (r *rig) send(t *testing.T, from, to *servertest.User, body string) string {
	t.Helper()
	resp := r.do(t, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: from.Token, Body: map[string]any{
		"recipient_id": to.ID, "message": body, "send_to_chat": 1}}, http.StatusCreated)
	id, _ := resp.JSON["_id"].(string)
	if id == "" {
		t.Fatalf("message without id: %s", resp.Raw)
	}
	return id
}

// status is the outbox's row for ch.
func status(t *testing.T, svc *push.Service, ch push.Channel) push.ChannelStats {
	t.Helper()
	all, err := svc.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Channel == ch {
			return s
		}
	}
	return push.ChannelStats{Channel: ch}
}

// settled waits until no chat alert waits to be queued, nothing is
// queued on any channel and ok holds for the stats (outcomes are recorded
// a batch after the provider accepted).
func settled(t *testing.T, svc *push.Service, what string, ok func(map[push.Channel]push.ChannelStats) bool) map[push.Channel]push.ChannelStats {
	t.Helper()
	var last map[push.Channel]push.ChannelStats
	servertest.Eventually(t, waitFor, what, func() bool {
		// Pending first: an alert expanded between the two reads is then
		// queued in the second, not missed by both.
		if n, err := svc.PendingAlerts(t.Context()); err != nil || n > 0 {
			return false
		}
		all, err := svc.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		last = map[push.Channel]push.ChannelStats{}
		for _, s := range all {
			if s.Queued > 0 {
				return false
			}
			last[s.Channel] = s
		}
		return ok(last)
	})
	return last
}

func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// note is the universal payload as the Web Push service decrypted it.
func note(t *testing.T, p pushtest.Push) map[string]any {
	t.Helper()
	var n map[string]any
	if err := json.Unmarshal(p.Payload, &n); err != nil {
		t.Fatalf("web push payload %q: %v", p.Payload, err)
	}
	return n
}

type apsPayload struct {
	APS struct {
		Alert struct {
			Body string `json:"body"`
		} `json:"alert"`
		Badge int `json:"badge"`
	} `json:"aps"`
}

func aps(t *testing.T, p pushtest.APNsPush) apsPayload {
	t.Helper()
	var a apsPayload
	if err := json.Unmarshal(p.Payload, &a); err != nil {
		t.Fatalf("apns payload %q: %v", p.Payload, err)
	}
	return a
}

func b64(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// One message to an offline user alerts each of their subscriptions once,
// in each provider's form: the template's text and the unread count.
func TestDispatchAlertsEveryChannelOnce(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	endpoint := r.subscribeWeb(t, bob, "browser")
	fcmTok := r.subscribeGCM(t, bob)
	apnsTok := r.subscribeAPNs(t, bob)
	msgID := r.send(t, alice, bob, "hello there")
	want := alice.Login + ": hello there"

	ctx := bounded(t)
	web, err := r.wp.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	fcm, err := r.fcm.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	ios, err := r.apns.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	settled(t, r.env.Server.Push, "three pushes sent", func(s map[push.Channel]push.ChannelStats) bool {
		return s[push.Web].Sent == 1 && s[push.GCM].Sent == 1 && s[push.APNs].Sent == 1
	})
	// Exactly one each, now that nothing is queued.
	web, fcm, ios = r.wp.Received(), r.fcm.Received(), r.apns.Received()
	if len(web) != 1 || len(fcm) != 1 || len(ios) != 1 {
		t.Fatalf("received web %d, fcm %d, apns %d; want one each", len(web), len(fcm), len(ios))
	}
	n := note(t, web[0])
	if web[0].Endpoint != endpoint || n["message"] != want || n["message_id"] != msgID || n["user_id"] != strconv.FormatInt(alice.ID, 10) ||
		n["ios_badge"] != float64(1) || n["dialog_id"] == nil {
		t.Errorf("web push to %s: %s", web[0].Endpoint, web[0].Payload)
	}
	if fcm[0].Token != fcmTok || fcm[0].Data["message"] != want {
		t.Errorf("fcm message to %s: %s", fcm[0].Token, fcm[0].JSON)
	}
	a := aps(t, ios[0])
	if ios[0].Token != apnsTok || ios[0].Topic != apnsTopic || a.APS.Alert.Body != want || a.APS.Badge != 1 {
		t.Errorf("apns push to %s topic %s: %s", ios[0].Token, ios[0].Topic, ios[0].Payload)
	}
	// A second unread message: the badge counts both.
	r.send(t, alice, bob, "again")
	if ios, err = r.apns.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if a := aps(t, ios[1]); a.APS.Badge != 2 || a.APS.Alert.Body != alice.Login+": again" {
		t.Errorf("second apns push: %s", ios[1].Payload)
	}
}

// A 429 with Retry-After is retried, and the push arrives on the retry.
func TestDispatchRetriesTooManyRequests(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	endpoint := r.subscribeWeb(t, bob, "browser")
	r.wp.FailNext(endpoint, 1, http.StatusTooManyRequests, "1")
	r.send(t, alice, bob, "busy?")
	got, err := r.wp.Wait(bounded(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := note(t, got[0]); n["message"] != alice.Login+": busy?" {
		t.Errorf("payload %s", got[0].Payload)
	}
	// The programmed 429 is not a refusal of a bad request: none was bad.
	if rej := r.wp.Rejections(); len(rej) != 0 {
		t.Errorf("rejections = %+v", rej)
	}
	s := settled(t, r.env.Server.Push, "the retried push recorded as sent", func(s map[push.Channel]push.ChannelStats) bool {
		return s[push.Web].Sent == 1
	})
	if w := s[push.Web]; w.Retried < 1 || w.Sent != 1 || w.Dead != 0 {
		t.Errorf("web status = %+v", w)
	}
	if n := len(r.wp.Received()); n != 1 {
		t.Errorf("%d pushes received, want 1", n)
	}
}

// A 410 from the push service deletes the subscription; the push is dead.
func TestDispatchGoneDeletesSubscription(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	gone := r.subscribeWeb(t, bob, "old-browser")
	kept := r.subscribeWeb(t, bob, "new-browser")
	if ids := r.subscriptions(t, bob); len(ids) != 2 {
		t.Fatalf("subscriptions before = %v", ids)
	}
	r.wp.Unsubscribe(gone)
	r.send(t, alice, bob, "still there?")
	s := settled(t, r.env.Server.Push, "one push sent, one dead", func(s map[push.Channel]push.ChannelStats) bool {
		return s[push.Web].Sent == 1 && s[push.Web].Dead == 1
	})
	if w := s[push.Web]; w.Sent != 1 || w.Dead != 1 {
		t.Errorf("web status = %+v", w)
	}
	got := r.wp.Received()
	if len(got) != 1 || got[0].Endpoint != kept {
		t.Errorf("received %+v, want one push to %s", got, kept)
	}
	if ids := r.subscriptions(t, bob); len(ids) != 1 {
		t.Errorf("subscriptions after the 410 = %v, want only the live one", ids)
	}
	// The next message goes to the live subscription only; nothing is
	// tried on the deleted one.
	rejected := len(r.wp.Rejections())
	r.send(t, alice, bob, "now?")
	if _, err := r.wp.Wait(bounded(t), 2); err != nil {
		t.Fatal(err)
	}
	settled(t, r.env.Server.Push, "the second push sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 2 })
	if n := len(r.wp.Rejections()); n != rejected {
		t.Errorf("%d more refusals: a push went to the deleted subscription", n-rejected)
	}
}

// A provider that hangs holds only its own channel: the other channels'
// pushes of the same message arrive, the chat path is unaffected, and the
// hung push arrives on a retry once the provider answers again.
func TestDispatchHangingProviderBlocksNoOne(t *testing.T) {
	r := newRig(t, func(c *config.Config) { c.PushTimeout = time.Second })
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	r.subscribeWeb(t, bob, "browser")
	r.subscribeGCM(t, bob)
	r.subscribeAPNs(t, bob)
	r.apns.Hang(true)
	r.send(t, alice, bob, "first")
	ctx := bounded(t)
	if _, err := r.wp.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fcm.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The sender's next message is accepted and delivered, and alerts too.
	resp := r.do(t, servertest.Req{Method: "POST", Path: "/chat/Message.json", Token: alice.Token, Body: map[string]any{
		"recipient_id": bob.ID, "message": "second", "send_to_chat": 1}}, http.StatusCreated)
	dialog, _ := resp.JSON["chat_dialog_id"].(string)
	resp = r.do(t, servertest.Req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + dialog, Token: bob.Token}, http.StatusOK)
	var history struct {
		Items []struct {
			Message string `json:"message"`
		} `json:"items"`
	}
	if err := json.Unmarshal(resp.Raw, &history); err != nil || len(history.Items) != 2 || history.Items[1].Message != "second" {
		t.Fatalf("bob's history while APNs hangs: %s", resp.Raw)
	}
	if _, err := r.wp.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fcm.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(r.apns.Received()); n != 0 {
		t.Fatalf("%d apns pushes accepted while hanging", n)
	}
	// Both messages' APNs pushes met the hang before it ends (one request
	// each at least; a retry may have met it again).
	servertest.Eventually(t, waitFor, "both apns pushes held by the hang", func() bool {
		ids := map[string]bool{}
		for _, p := range r.apns.Held() {
			ids[p.CollapseID] = true
		}
		return len(ids) == 2
	})
	r.apns.Hang(false)
	ios, err := r.apns.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]bool{}
	for _, p := range ios {
		bodies[aps(t, p).APS.Alert.Body] = true
	}
	if !bodies[alice.Login+": first"] || !bodies[alice.Login+": second"] {
		t.Errorf("apns pushes after the hang: %v", bodies)
	}
	s := settled(t, r.env.Server.Push, "all six pushes sent", func(s map[push.Channel]push.ChannelStats) bool {
		return s[push.Web].Sent == 2 && s[push.GCM].Sent == 2 && s[push.APNs].Sent == 2
	})
	if a := s[push.APNs]; a.Retried != 2 || a.Dead != 0 {
		t.Errorf("apns status = %+v, want both retried", a)
	}
	if w := s[push.Web]; w.Retried != 0 {
		t.Errorf("web status = %+v, want no retries", w)
	}
}

// A push refused every time is dead after --push-max-tries.
func TestDispatchDeadAfterMaxTries(t *testing.T) {
	r := newRig(t, func(c *config.Config) { c.PushMaxTries = 2 })
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	r.subscribeGCM(t, bob)
	r.fcm.FailNext(100, http.StatusServiceUnavailable, "")
	r.send(t, alice, bob, "never")
	s := settled(t, r.env.Server.Push, "the push dead", func(s map[push.Channel]push.ChannelStats) bool { return s[push.GCM].Dead == 1 })
	if g := s[push.GCM]; g.Dead != 1 || g.Sent != 0 || g.Retried != 1 {
		t.Errorf("gcm status = %+v", g)
	}
	if n := len(r.fcm.Received()); n != 0 {
		t.Errorf("fcm received %d", n)
	}
}

// A push sent before a restart is not sent again by the next server on
// the same data directory, which sends new ones with the same keys.
func TestDispatchNoResendAfterRestart(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	r.subscribeWeb(t, bob, "browser")
	r.send(t, alice, bob, "before")
	if _, err := r.wp.Wait(bounded(t), 1); err != nil {
		t.Fatal(err)
	}
	settled(t, r.env.Server.Push, "the push recorded as sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 1 })
	r.stop(t)

	r.start(t, r.dir)
	alice.Token = r.env.Login(t, alice.Login, alice.Password)
	time.Sleep(1500 * time.Millisecond) // a negative: the new dispatcher's first claims have run
	if n := len(r.wp.Received()); n != 1 {
		t.Fatalf("%d pushes after the restart, want still 1", n)
	}
	r.send(t, alice, bob, "after")
	got, err := r.wp.Wait(bounded(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if n := note(t, got[1]); n["message"] != alice.Login+": after" {
		t.Errorf("push after the restart: %s", got[1].Payload)
	}
	settled(t, r.env.Server.Push, "the new push sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 2 })
	if n := len(r.wp.Received()); n != 2 {
		t.Errorf("%d pushes, want 2", n)
	}
}

// A stored message's chat alert is stored in its row, in the transaction
// that stores it, and queued as pushes later: a server that stops between
// the two (here: a message stored while no dispatcher runs, as the chat
// domain stores it) sends the alert when it runs again, once.
func TestDispatchAlertStoredWithItsMessage(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	r.subscribeWeb(t, bob, "browser")
	r.send(t, alice, bob, "first")
	got, err := r.wp.Wait(bounded(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	dialogID, _ := note(t, got[0])["dialog_id"].(string)
	settled(t, r.env.Server.Push, "the first push sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 1 })
	r.stop(t)

	ctx := t.Context()
	db, svc := r.offline(t)
	now := time.Now().UTC()
	m := &chat.Message{ID: "65f0b0b0b0b0b0b0b0b0b0b1", AppID: r.env.App.ID, DialogID: dialogID, SenderID: alice.ID,
		RecipientID: bob.ID, Body: "while down", DateSent: now.Unix(), CreatedAt: now, UpdatedAt: now, Alert: []int64{bob.ID}}
	if err := db.Tx(ctx, func(tx chat.Tx) error {
		_, _, err := tx.InsertMessages(ctx, []*chat.Message{m})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.PendingAlerts(ctx); err != nil || n != 1 {
		t.Fatalf("pending alerts %d, %v; want 1", n, err)
	}
	db.Close()

	r.start(t, r.dir)
	if got, err = r.wp.Wait(bounded(t), 2); err != nil {
		t.Fatal(err)
	}
	if n := note(t, got[1]); n["message"] != alice.Login+": while down" || n["message_id"] != m.ID || n["dialog_id"] != dialogID {
		t.Errorf("push after the restart: %s", got[1].Payload)
	}
	settled(t, r.env.Server.Push, "the alert sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 2 })
	if n := len(r.wp.Received()); n != 2 {
		t.Errorf("%d pushes, want 2", n)
	}
}

// offline opens the stopped server's store and push service directly, as
// a second process on the same data directory would.
func (r *rig) offline(t *testing.T) (*sqlite.DB, *push.Service) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(t.Context(), r.dir, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seal, err := push.OpenSealer(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	return db, push.NewService(db, seal, log, nil, push.Limits{})
}

// runDispatcher runs a Web Push-only dispatcher on db until the test ends
// (a lease of a second, so that a lease left behind ends soon).
func runDispatcher(t *testing.T, db *sqlite.DB, svc *push.Service) *push.Dispatcher {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := push.NewDispatcher(db, svc, map[push.Channel]push.Provider{push.Web: webpush.New(webpush.Config{})}, nil,
		push.DispatchConfig{Lease: time.Second}, log, nil)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		d.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	return d
}

// webCounts is the dispatcher's own tally of the web channel.
func webCounts(d *push.Dispatcher) push.Counts {
	for _, c := range d.Counts() {
		if c.Channel == push.Web {
			return c
		}
	}
	return push.Counts{}
}

// A push whose subscription was deleted after it was queued is dead, not
// sent, and counted as its channel's.
func TestDispatchDeletedSubscription(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	r.subscribeWeb(t, bob, "old-browser")
	kept := r.subscribeWeb(t, bob, "new-browser")
	ids := r.subscriptions(t, bob)
	r.stop(t)

	ctx := t.Context()
	db, svc := r.offline(t)
	if _, err := svc.CreateEvent(ctx, push.Caller{AppID: r.env.App.ID, UserID: alice.ID}, push.EventInput{NotificationType: "push",
		Environment: "development", Message: b64(map[string]any{"message": "hi"}), Sel: push.Selector{IDs: []int64{bob.ID}}}); err != nil {
		t.Fatal(err)
	}
	subs, err := db.Subscriptions(ctx, r.env.App.ID, bob.ID)
	if err != nil || len(subs) != 2 {
		t.Fatalf("subscriptions %v: %v", ids, err)
	}
	var gone int64
	for _, s := range subs {
		if s.Token != kept {
			gone = s.ID
		}
	}
	if err := db.DeleteSubscription(ctx, r.env.App.ID, gone); err != nil {
		t.Fatal(err)
	}
	d := runDispatcher(t, db, svc)
	settled(t, svc, "one sent, one dead", func(s map[push.Channel]push.ChannelStats) bool {
		return s[push.Web].Sent == 1 && s[push.Web].Dead == 1
	})
	if got := r.wp.Received(); len(got) != 1 || got[0].Endpoint != kept {
		t.Errorf("received %+v, want one push to %s", got, kept)
	}
	if c := webCounts(d); c.Sent != 1 || c.Dead != 1 {
		t.Errorf("dispatcher counts = %+v, want 1 sent and 1 dead", c)
	}
}

// A dispatcher that died after claiming a push leaves it leased: the next
// one sends it once the lease ends, the others at once, none twice.
func TestDispatchAtLeastOnceAcrossCrash(t *testing.T) {
	r := newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	endpoints := map[string]bool{}
	for i := range 3 {
		endpoints[r.subscribeWeb(t, bob, "browser-"+strconv.Itoa(i))] = true
	}
	r.stop(t)

	ctx := t.Context()
	db, svc := r.offline(t)
	if _, err := svc.CreateEvent(ctx, push.Caller{AppID: r.env.App.ID, UserID: alice.ID}, push.EventInput{NotificationType: "push",
		Environment: "development", Message: b64(map[string]any{"message": "crash test"}), Sel: push.Selector{IDs: []int64{bob.ID}}}); err != nil {
		t.Fatal(err)
	}
	claimedAt := time.Now()
	claimed, err := db.ClaimDue(ctx, push.Web, claimedAt, time.Second, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d items", err, len(claimed))
	}
	lost := claimed[0].Sub.Token

	d := runDispatcher(t, db, svc)

	wctx := bounded(t)
	got, err := r.wp.Wait(wctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	// While its lease holds, the claimed push is the dead dispatcher's.
	if time.Now().Before(claimedAt.Add(time.Second)) {
		for _, p := range got {
			if p.Endpoint == lost {
				t.Fatalf("the claimed push was sent before its lease ended")
			}
		}
	}
	if _, err := r.wp.Wait(wctx, 3); err != nil {
		t.Fatal(err)
	}
	settled(t, svc, "all three sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 3 })
	got = r.wp.Received()
	seen := map[string]int{}
	for _, p := range got {
		seen[p.Endpoint]++
		if n := note(t, p); n["message"] != "crash test" {
			t.Errorf("payload %s", p.Payload)
		}
	}
	if len(got) != 3 || len(seen) != 3 || seen[lost] != 1 {
		t.Errorf("received %v, want each of the 3 subscriptions once", seen)
	}
	for e := range seen {
		if !endpoints[e] {
			t.Errorf("push to unknown endpoint %s", e)
		}
	}
	if c := webCounts(d); c.Sent != 3 || c.Retried != 0 || c.Dead != 0 {
		t.Errorf("dispatcher counts = %+v", c)
	}
}

// An event reaches every matching subscription once, in the form of its
// push type: universal to each channel, a web payload as is.
func TestDispatchEvents(t *testing.T) {
	r := newRig(t)
	alice, bob, carol, dave := r.env.NewUser(t), r.env.NewUser(t), r.env.NewUser(t), r.env.NewUser(t)
	webOf := map[string]int64{}
	fcmOf := map[string]int64{}
	for _, u := range []*servertest.User{bob, carol, dave} {
		webOf[r.subscribeWeb(t, u, "browser")] = u.ID
		fcmOf[r.subscribeGCM(t, u)] = u.ID
	}
	event := func(ev map[string]any) {
		ev["notification_type"], ev["environment"] = "push", "development"
		ev["user"] = map[string]any{"ids": fmt.Sprintf("%d,%d", bob.ID, carol.ID)} // not dave
		r.do(t, servertest.Req{Method: "POST", Path: "/events.json", Token: alice.Token, Body: map[string]any{"event": ev}}, http.StatusCreated)
	}
	event(map[string]any{"message": b64(map[string]any{"message": "news", "ios_badge": 3})})
	ctx := bounded(t)
	if _, err := r.wp.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fcm.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	settled(t, r.env.Server.Push, "four pushes sent", func(s map[push.Channel]push.ChannelStats) bool {
		return s[push.Web].Sent == 2 && s[push.GCM].Sent == 2
	})
	users := map[int64]int{}
	for _, p := range r.wp.Received() {
		users[webOf[p.Endpoint]]++
		if n := note(t, p); n["message"] != "news" {
			t.Errorf("web payload %s", p.Payload)
		}
	}
	if len(users) != 2 || users[bob.ID] != 1 || users[carol.ID] != 1 {
		t.Errorf("web pushes by user: %v", users)
	}
	users = map[int64]int{}
	for _, m := range r.fcm.Received() {
		users[fcmOf[m.Token]]++
		if m.Data["message"] != "news" {
			t.Errorf("fcm message %s", m.JSON)
		}
	}
	if len(users) != 2 || users[bob.ID] != 1 || users[carol.ID] != 1 {
		t.Errorf("fcm messages by user: %v", users)
	}
	if n := len(r.apns.Received()); n != 0 {
		t.Errorf("%d apns pushes: nobody has an iOS subscription", n)
	}

	// A web payload goes out byte for byte, to web subscriptions only.
	raw := `{"title":"Raw","body":"as is","data":{"n":1}}`
	event(map[string]any{"push_type": "web", "message": "payload=" + base64.StdEncoding.EncodeToString([]byte(raw))})
	got, err := r.wp.Wait(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	settled(t, r.env.Server.Push, "the web event sent", func(s map[push.Channel]push.ChannelStats) bool { return s[push.Web].Sent == 4 })
	users = map[int64]int{}
	for _, p := range got[2:] {
		users[webOf[p.Endpoint]]++
		if string(p.Payload) != raw {
			t.Errorf("web payload %q, want %q", p.Payload, raw)
		}
	}
	if len(users) != 2 || users[bob.ID] != 1 || users[carol.ID] != 1 {
		t.Errorf("raw web pushes by user: %v", users)
	}
	if n, m := len(r.wp.Received()), len(r.fcm.Received()); n != 4 || m != 2 {
		t.Errorf("received web %d, fcm %d; want 4 and 2", n, m)
	}
}

// chatLoad stands for the chat's commit time: while saturated, commits
// take all of the wall time.
type chatLoad struct {
	mu    sync.Mutex
	base  time.Duration // commit time until since
	since time.Time
	share float64 // of the wall time since then spent in commits
}

func (l *chatLoad) CommitTime() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.since.IsZero() {
		return l.base
	}
	return l.base + time.Duration(l.share*float64(time.Since(l.since)))
}

// set makes the chat spend share of the wall time in commits from now on.
func (l *chatLoad) set(share float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.since.IsZero() {
		l.base += time.Duration(l.share * float64(time.Since(l.since)))
	}
	l.since, l.share = time.Now(), share
}

func (l *chatLoad) saturate(on bool) {
	if on {
		l.set(1)
	} else {
		l.set(0)
	}
}

// yieldPoll and yieldWorkers are the dispatcher of the yield tests.
const yieldPoll, yieldWorkers = 100 * time.Millisecond, 16

// startYielding runs a Web Push dispatcher whose chat load the test sets,
// on the stopped store of a rig where bob has a subscription, and returns
// the rig, the load, and queueBusy: 120 events to bob, and the pushes the
// rig received within a second of them; then at most yieldWorkers/4 per
// poll may have gone, and one poll's more for the one under way.
func startYielding(t *testing.T) (r *rig, load *chatLoad, queueBusy func() (sent, most int)) {
	r = newRig(t)
	alice, bob := r.env.NewUser(t), r.env.NewUser(t)
	r.subscribeWeb(t, bob, "browser")
	r.stop(t)
	db, svc := r.offline(t)
	load = &chatLoad{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := push.NewDispatcher(db, svc, map[push.Channel]push.Provider{push.Web: webpush.New(webpush.Config{})}, nil,
		push.DispatchConfig{Workers: yieldWorkers, Poll: yieldPoll, Chat: load}, log, nil)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		d.Run(runCtx)
		close(done)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	return r, load, func() (int, int) {
		started := time.Now()
		for range yieldEvents {
			if _, err := svc.CreateEvent(t.Context(), push.Caller{AppID: r.env.App.ID, UserID: alice.ID}, push.EventInput{NotificationType: "push",
				Environment: "development", Message: b64(map[string]any{"message": "busy"}), Sel: push.Selector{IDs: []int64{bob.ID}}}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second)
		return len(r.wp.Received()), (yieldWorkers / 4) * int(time.Since(started)/yieldPoll+2)
	}
}

// yieldEvents is how many pushes queueBusy queues.
const yieldEvents = 120

// Pushes yield to a saturated chat: while the chat's commits take all of
// the wall time, a channel claims at most a quarter of its workers' worth
// per poll; once the chat calms down the backlog goes at full speed.
func TestDispatchYieldsToASaturatedChat(t *testing.T) {
	r, load, queueBusy := startYielding(t)
	// The chat saturates; the dispatcher sees it at its next samples.
	load.saturate(true)
	time.Sleep(3 * yieldPoll)
	if sent, most := queueBusy(); sent > most || sent == 0 {
		t.Errorf("%d pushes sent in a second of a saturated chat; want at most %d, and some: they should trickle, not stop", sent, most)
	}
	load.saturate(false)
	if _, err := r.wp.Wait(bounded(t), yieldEvents); err != nil {
		t.Fatalf("after the chat calmed down: %v", err)
	}
}

// Once yielding, pushes keep yielding while the chat's commits take more
// than a quarter of the wall time (a saturated chat hovers about a half),
// and go at full speed under that.
func TestDispatchYieldsUntilTheChatCalms(t *testing.T) {
	r, load, queueBusy := startYielding(t)
	load.saturate(true)
	time.Sleep(3 * yieldPoll)
	load.set(0.4) // under the half that started the yield, over the quarter that ends it
	time.Sleep(3 * yieldPoll)
	if sent, most := queueBusy(); sent > most {
		t.Errorf("%d pushes sent in a second of a chat at 0.4 after saturation; want at most %d", sent, most)
	}
	load.set(0.1)
	if _, err := r.wp.Wait(bounded(t), yieldEvents); err != nil {
		t.Fatalf("after the chat calmed down: %v", err)
	}
}
