package push_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/pushtest"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// The delivery rate of chat alerts (issue 14): a real server in-process,
// its dispatcher sending to the local provider endpoints of pushtest,
// which check every request as the real services do (VAPID JWTs verified
// and bodies decrypted for Web Push, OAuth assertions and access tokens
// for FCM, ES256 provider tokens over HTTP/2 + TLS for APNs). Endpoints,
// server and the queuing store all share this process and its cores, so
// the figures are a floor for the server alone.
//
// The alerts are queued through the store with the statement the chat
// domain uses (chat.Tx.QueueAlerts, inside one db.Tx), on a second store
// opened on the server's data directory while the server runs. One
// transaction queues them all, so the dispatcher finds every row at once;
// over REST the dispatcher would be sending while the messages were still
// being posted, and the figure would be the posting rate.

// deliverRig is a running server with one provider's endpoint, its users
// each subscribed once to that provider, and a store beside it to queue
// alerts with.
type deliverRig struct {
	env    *servertest.Env
	db     *sqlite.DB
	sender int64
	users  []int64
	tokens map[string]int64 // subscription token (Web Push endpoint) → user
	// received lists what the endpoint accepted as (token, message_id).
	received func(tb testing.TB) [][2]string
	// wait waits until the endpoint accepted n pushes in all.
	wait func(ctx context.Context, n int) error
}

// newDeliverRig starts the provider's endpoint, then the server pointed
// at it with workers pushes in flight per channel (0: the default), and
// subscribes users.
func newDeliverRig(tb testing.TB, provider string, users, workers int) *deliverRig {
	tb.Helper()
	r := &deliverRig{tokens: map[string]int64{}}
	var (
		wp      *pushtest.WebPush
		fcm     *pushtest.FCM
		apns    *pushtest.APNs
		dataDir string
	)
	switch provider {
	case "web":
		wp = pushtest.NewWebPush(tb)
	case "gcm":
		fcm = pushtest.NewFCM(tb)
	case "apns":
		apns = pushtest.NewAPNs(tb)
	default:
		tb.Fatalf("unknown provider %q", provider)
	}
	r.env = servertest.Start(tb, func(c *config.Config) {
		dataDir = c.DataDir
		c.PasswordIterations = 4096 // the least allowed: users are made quickly
		if workers > 0 {
			c.PushWorkers = workers
		}
		if fcm != nil {
			c.PushFCMURL = fcm.Endpoint()
		}
		if apns != nil {
			c.PushAPNsURL, c.PushAPNsSandboxURL = apns.URL(), apns.URL()
			c.PushCAFile = apns.CAFile(tb)
		}
	})
	ctx := tb.Context()
	app := r.env.App.ID

	var in push.SettingsInput
	switch provider {
	case "web":
		subject := "mailto:ops@example.com"
		in = push.SettingsInput{VAPIDGenerate: true, VAPIDSubject: &subject}
	case "gcm":
		in = push.SettingsInput{FCMServiceAccount: fcm.ServiceAccount()}
	case "apns":
		p8, keyID, teamID := apns.Key()
		topic := "chat.parley.bench"
		apns.SetTopic(topic)
		in = push.SettingsInput{APNsKey: p8, APNsKeyID: &keyID, APNsTeamID: &teamID, APNsTopic: &topic}
	}
	view, err := r.env.Server.Push.UpdateSettings(ctx, app, in)
	if err != nil {
		tb.Fatal(err)
	}
	if wp != nil {
		wp.SetVAPIDKey(view.VAPIDPublicKey) // pushes not signed by the app's key are refused
	}

	r.sender = signUp(tb, r.env, "sender", "Bench Sender")
	for i := range users {
		u := signUp(tb, r.env, "rcpt"+strconv.Itoa(i), "")
		sub := push.SubscriptionInput{UDID: "device-" + strconv.Itoa(i), Environment: push.Production}
		switch provider {
		case "web":
			b := wp.NewSubscription()
			sub.Channel, sub.Platform = "web", "web"
			sub.WebEndpoint, sub.WebAuth, sub.WebP256dh = b.Endpoint, b.Auth, b.P256dh
		case "gcm":
			sub.Channel, sub.Platform, sub.Token = "gcm", "android", "fcm-token-"+randHex(16)
		case "apns":
			sub.Channel, sub.Platform, sub.Token = "apns", "ios", randHex(32)
		}
		s, err := r.env.Server.Push.Subscribe(ctx, push.Caller{AppID: app, UserID: u}, sub)
		if err != nil {
			tb.Fatal(err)
		}
		r.users = append(r.users, u)
		r.tokens[s.Token] = u
	}

	switch provider {
	case "web":
		r.wait = func(ctx context.Context, n int) error { _, err := wp.Wait(ctx, n); return err }
		r.received = func(tb testing.TB) [][2]string {
			var out [][2]string
			for _, p := range wp.Received() {
				out = append(out, [2]string{p.Endpoint, jsonMessageID(tb, p.Payload)})
			}
			return out
		}
	case "gcm":
		r.wait = func(ctx context.Context, n int) error { _, err := fcm.Wait(ctx, n); return err }
		r.received = func(testing.TB) [][2]string {
			var out [][2]string
			for _, m := range fcm.Received() {
				out = append(out, [2]string{m.Token, m.Data["message_id"]})
			}
			return out
		}
	case "apns":
		r.wait = func(ctx context.Context, n int) error { _, err := apns.Wait(ctx, n); return err }
		r.received = func(tb testing.TB) [][2]string {
			var out [][2]string
			for _, p := range apns.Received() {
				out = append(out, [2]string{p.Token, jsonMessageID(tb, p.Payload)})
			}
			return out
		}
	}

	// The server holds the data directory's lock, not SQLite's: a second
	// store on the same file is what a second process would open.
	r.db, err = sqlite.Open(ctx, dataDir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.db.Close() })
	return r
}

// queue queues an alert of each of messages new messages from the sender
// to every user, all in one transaction, and returns the message ids.
func (r *deliverRig) queue(tb testing.TB, messages int) []string {
	tb.Helper()
	ids := make([]string, messages)
	for i := range ids {
		ids[i] = randHex(12) // a message id as the chat domain makes them
	}
	err := r.db.Tx(tb.Context(), func(tx chat.Tx) error {
		for i, id := range ids {
			row := chat.AlertRow{AppID: r.env.App.ID, MessageID: id, SenderID: r.sender,
				Body: "bench message " + strconv.Itoa(i), At: time.Now()}
			n, err := tx.QueueAlerts(tb.Context(), row, r.users)
			if err != nil {
				return err
			}
			if n != len(r.users) {
				return fmt.Errorf("queued %d alerts of message %d, want %d", n, i, len(r.users))
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// delivered waits until the endpoint has accepted want pushes in all. It
// waits on the endpoint rather than polling the outbox's status: that
// query scans the outbox, and polling it would compete with the
// dispatcher for the cores.
func (r *deliverRig) delivered(tb testing.TB, want int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Minute)
	defer cancel()
	if err := r.wait(ctx, want); err != nil {
		tb.Fatal(err)
	}
}

// drain waits until nothing is queued and sent counts want in all (the
// outcomes recorded), and fails on a dead push.
func (r *deliverRig) drain(tb testing.TB, want int) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := r.env.Server.Push.Status(tb.Context())
		if err != nil {
			tb.Fatal(err)
		}
		queued, sent := 0, 0
		for _, c := range st {
			if c.Dead > 0 {
				tb.Fatalf("dead pushes: %+v", c)
			}
			queued += c.Queued
			sent += c.Sent
		}
		if queued == 0 && sent >= want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("outbox not drained: %d queued, %d of %d sent", queued, sent, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOnce checks that the endpoint accepted exactly one push of each
// message for each user, and nothing else.
func (r *deliverRig) checkOnce(tb testing.TB, ids []string) {
	tb.Helper()
	got := map[[2]string]int{}
	for _, p := range r.received(tb) {
		got[p]++
	}
	byUser := map[int64]string{}
	for tok, u := range r.tokens {
		byUser[u] = tok
	}
	for _, u := range r.users {
		for _, id := range ids {
			if n := got[[2]string{byUser[u], id}]; n != 1 {
				tb.Errorf("user %d, message %s: %d pushes, want 1", u, id, n)
			}
		}
	}
	if n, want := len(r.received(tb)), len(r.users)*len(ids); n != want {
		tb.Errorf("%d pushes received, want %d", n, want)
	}
}

// TestDeliverAlertsExactlyOnce is the benchmark's path at a small scale:
// 200 alerts queued at once reach each provider's endpoint, every one
// exactly once, checked and accepted there.
func TestDeliverAlertsExactlyOnce(t *testing.T) {
	for _, provider := range []string{"web", "gcm", "apns"} {
		t.Run(provider, func(t *testing.T) {
			r := newDeliverRig(t, provider, 20, 0)
			ids := r.queue(t, 10)
			r.delivered(t, 200)
			r.drain(t, 200)
			r.checkOnce(t, ids)
		})
	}
}

// BenchmarkDeliver10kAlerts measures how long the dispatcher takes to
// send 10,000 chat alerts queued at once (1,000 users × 10 messages, one
// subscription each): from before the queuing transaction to the endpoint
// having accepted the last of them. The outbox is then checked drained
// (every outcome recorded, none dead) outside the timing. Run it once per
// provider:
//
//	go test -run '^$' -bench BenchmarkDeliver10kAlerts -benchtime=1x ./internal/push/
func BenchmarkDeliver10kAlerts(b *testing.B) {
	const users, messages = 1000, 10
	for _, provider := range []string{"web", "gcm", "apns"} {
		for _, workers := range []int{16, 64} {
			b.Run(fmt.Sprintf("%s/workers=%d", provider, workers), func(b *testing.B) {
				r := newDeliverRig(b, provider, users, workers)
				var ids []string
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					ids = r.queue(b, messages)
					r.delivered(b, (i+1)*users*messages)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				r.drain(b, b.N*users*messages)
				total := float64(b.N * users * messages)
				b.ReportMetric(total/elapsed.Seconds(), "pushes/s")
				b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/10k")
				if b.N == 1 {
					r.checkOnce(b, ids)
				}
			})
		}
	}
}

// signUp creates a user through the auth service and returns its id.
func signUp(tb testing.TB, env *servertest.Env, login, fullName string) int64 {
	tb.Helper()
	pw := "password-" + login
	in := auth.UserInput{Login: &login, Password: &pw}
	if fullName != "" {
		in.FullName = &fullName
	}
	u, err := env.Server.Auth.SignUp(tb.Context(), env.App.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jsonMessageID is the message_id of a JSON payload (Web Push's note,
// APNs' custom data).
func jsonMessageID(tb testing.TB, payload []byte) string {
	tb.Helper()
	var p struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		tb.Fatalf("payload %q: %v", payload, err)
	}
	return p.MessageID
}
