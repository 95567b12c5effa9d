package push_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	dir        string
	db         *sqlite.DB
	svc        *push.Service
	clk        *clock
	app, app2  int64
	alice, bob int64 // users of app
	carol      int64 // a user of app2
}

func newEnv(t *testing.T, lim push.Limits) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seal, err := push.OpenSealer(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: dir, db: db, clk: &clock{t: t0}}
	e.svc = push.NewService(db, seal, nil, e.clk.now, lim)
	for i, id := range []*int64{&e.app, &e.app2} {
		a := &auth.App{Name: fmt.Sprint("a", i), AuthKey: fmt.Sprint("k", i), AuthSecret: "s", CreatedAt: t0}
		if err := db.CreateApp(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		*id = a.ID
	}
	e.alice = e.user(t, e.app, "alice", 0, "vip")
	e.bob = e.user(t, e.app, "bob", 42)
	e.carol = e.user(t, e.app2, "carol", 0)
	return e
}

func (e *env) user(t *testing.T, app int64, login string, ext int64, tags ...string) int64 {
	t.Helper()
	u := &auth.User{AppID: app, Login: login, ExternalUserID: ext, Tags: tags, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	if err := e.db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// count reads a table directly: what was stored, whatever the API says.
func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, sqlite.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func webKeys(t *testing.T) (auth, p256dh string) {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := make([]byte, 16)
	rand.Read(a)
	return base64.RawURLEncoding.EncodeToString(a), base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
}

func webInput(t *testing.T, endpoint string) push.SubscriptionInput {
	a, p := webKeys(t)
	return push.SubscriptionInput{Channel: "web", Platform: "web", UDID: "browser-1", WebEndpoint: endpoint, WebAuth: a, WebP256dh: p}
}

var apnsToken = strings.Repeat("ab", 32)

// invalidField asserts err is a 422 naming field.
func invalidField(t *testing.T, err error, field string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.KindInvalid || ae.Field != field {
		t.Fatalf("err = %v, want 422 on %s", err, field)
	}
}

func TestSubscribeValid(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	alice := push.Caller{AppID: e.app, UserID: e.alice}
	web := webInput(t, "https://fcm.googleapis.com/fcm/send/abc")
	s, err := e.svc.Subscribe(ctx, alice, web)
	if err != nil || s.ID == 0 || s.Environment != push.Development || s.Token != web.WebEndpoint || !s.CreatedAt.Equal(t0) {
		t.Fatalf("web subscribe: %+v, %v", s, err)
	}
	// Padded standard base64 of the same keys is accepted and kept as the
	// browser's form.
	raw, _ := base64.RawURLEncoding.DecodeString(web.WebP256dh)
	again := web
	again.WebP256dh = base64.StdEncoding.EncodeToString(raw)
	again.WebEndpoint = "http://127.0.0.1:8080/push/1"
	s2, err := e.svc.Subscribe(ctx, alice, again)
	if err != nil || s2.ID != s.ID || s2.WebP256dh != web.WebP256dh || s2.Token != again.WebEndpoint {
		t.Fatalf("resubscribe: %+v, %v", s2, err)
	}
	for _, in := range []push.SubscriptionInput{
		{Channel: "apns", Platform: "ios", UDID: "phone", Environment: "production", Token: apnsToken, Bundle: "com.example"},
		{Channel: "apns_voip", Platform: "ios", UDID: "phone", Token: strings.ToUpper(apnsToken)},
		{Channel: "gcm", Platform: "android", UDID: "phone", Token: "fcm:token-ABC_123"},
		{Channel: "gcm", Platform: "ios", UDID: "phone", Token: "fcm-on-ios"},
	} {
		if _, err := e.svc.Subscribe(ctx, alice, in); err != nil {
			t.Errorf("Subscribe(%+v): %v", in, err)
		}
	}
	for _, ep := range []string{"http://localhost:9/x", "http://[::1]:9/x", "http://127.9.9.9/x"} {
		in := webInput(t, ep)
		in.UDID = ep
		if _, err := e.svc.Subscribe(ctx, alice, in); err != nil {
			t.Errorf("loopback endpoint %s: %v", ep, err)
		}
	}
	subs, err := e.svc.Subscriptions(ctx, alice)
	if err != nil || len(subs) != 7 {
		t.Fatalf("Subscriptions: %d, %v", len(subs), err)
	}
	if subs, _ := e.svc.Subscriptions(ctx, push.Caller{AppID: e.app, UserID: e.bob}); subs == nil || len(subs) != 0 {
		t.Fatalf("bob's subscriptions: %#v, want an empty list", subs)
	}
}

func TestSubscribeRefusesBadInput(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	alice := push.Caller{AppID: e.app, UserID: e.alice}
	offCurve := make([]byte, 65)
	offCurve[0], offCurve[1], offCurve[64] = 4, 1, 1
	compressed := make([]byte, 33)
	compressed[0] = 2
	good := webInput(t, "https://push.example.com/x")
	mod := func(f func(*push.SubscriptionInput)) push.SubscriptionInput { in := good; f(&in); return in }
	for _, tc := range []struct {
		name  string
		in    push.SubscriptionInput
		field string
	}{
		{"unknown channel", mod(func(in *push.SubscriptionInput) { in.Channel = "sms" }), "notification_channel"},
		{"unknown platform", mod(func(in *push.SubscriptionInput) { in.Platform = "windows" }), "platform"},
		{"web on android", mod(func(in *push.SubscriptionInput) { in.Platform = "android" }), "platform"},
		{"gcm on web", push.SubscriptionInput{Channel: "gcm", Platform: "web", UDID: "u", Token: "t"}, "platform"},
		{"bad environment", mod(func(in *push.SubscriptionInput) { in.Environment = "staging" }), "environment"},
		{"no udid", mod(func(in *push.SubscriptionInput) { in.UDID = "" }), "udid"},
		{"long udid", mod(func(in *push.SubscriptionInput) { in.UDID = strings.Repeat("u", 256) }), "udid"},
		{"malformed endpoint", mod(func(in *push.SubscriptionInput) { in.WebEndpoint = "https//nohost" }), "web_endpoint"},
		{"relative endpoint", mod(func(in *push.SubscriptionInput) { in.WebEndpoint = "/push/1" }), "web_endpoint"},
		{"http outside loopback", mod(func(in *push.SubscriptionInput) { in.WebEndpoint = "http://push.example.com/x" }), "web_endpoint"},
		{"http to a private address", mod(func(in *push.SubscriptionInput) { in.WebEndpoint = "http://10.0.0.1/x" }), "web_endpoint"},
		{"ftp endpoint", mod(func(in *push.SubscriptionInput) { in.WebEndpoint = "ftp://push.example.com/x" }), "web_endpoint"},
		{"long endpoint", mod(func(in *push.SubscriptionInput) {
			in.WebEndpoint = "https://push.example.com/" + strings.Repeat("a", 2048)
		}), "web_endpoint"},
		{"auth of 15 bytes", mod(func(in *push.SubscriptionInput) {
			in.WebAuth = base64.RawURLEncoding.EncodeToString(make([]byte, 15))
		}), "web_auth"},
		{"auth not base64", mod(func(in *push.SubscriptionInput) { in.WebAuth = "!!!!!!!!!!!!!!!!!!!!!!" }), "web_auth"},
		{"p256dh off the curve", mod(func(in *push.SubscriptionInput) {
			in.WebP256dh = base64.RawURLEncoding.EncodeToString(offCurve)
		}), "web_p256dh"},
		{"p256dh compressed", mod(func(in *push.SubscriptionInput) {
			in.WebP256dh = base64.RawURLEncoding.EncodeToString(compressed)
		}), "web_p256dh"},
		{"p256dh missing", mod(func(in *push.SubscriptionInput) { in.WebP256dh = "" }), "web_p256dh"},
		{"gcm without token", push.SubscriptionInput{Channel: "gcm", Platform: "android", UDID: "u"}, "client_identification_sequence"},
		{"token with a space", push.SubscriptionInput{Channel: "gcm", Platform: "android", UDID: "u", Token: "a b"}, "client_identification_sequence"},
		{"token too long", push.SubscriptionInput{Channel: "gcm", Platform: "android", UDID: "u", Token: strings.Repeat("t", 4097)}, "client_identification_sequence"},
		{"apns token not hex", push.SubscriptionInput{Channel: "apns", Platform: "ios", UDID: "u", Token: strings.Repeat("zz", 32)}, "client_identification_sequence"},
		{"apns token short", push.SubscriptionInput{Channel: "apns", Platform: "ios", UDID: "u", Token: "abcd"}, "client_identification_sequence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Subscribe(ctx, alice, tc.in)
			invalidField(t, err, tc.field)
		})
	}
	if n := e.count(t, "push_subscriptions"); n != 0 {
		t.Fatalf("%d subscriptions stored by refused requests", n)
	}
}

func TestSubscriptionLimit(t *testing.T) {
	e := newEnv(t, push.Limits{MaxSubscriptionsPerUser: 2})
	ctx := t.Context()
	alice := push.Caller{AppID: e.app, UserID: e.alice}
	in := push.SubscriptionInput{Channel: "gcm", Platform: "android", Token: "t"}
	for _, udid := range []string{"1", "2"} {
		in.UDID = udid
		if _, err := e.svc.Subscribe(ctx, alice, in); err != nil {
			t.Fatal(err)
		}
	}
	in.UDID = "3"
	_, err := e.svc.Subscribe(ctx, alice, in)
	invalidField(t, err, "udid")
	in.UDID, in.Token = "2", "t2" // replacing one stays allowed
	if _, err := e.svc.Subscribe(ctx, alice, in); err != nil {
		t.Fatalf("replace at the limit: %v", err)
	}
	if n := e.count(t, "push_subscriptions"); n != 2 {
		t.Fatalf("stored %d", n)
	}
}

func TestUnsubscribe(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	alice := push.Caller{AppID: e.app, UserID: e.alice}
	s, err := e.svc.Subscribe(ctx, alice, push.SubscriptionInput{Channel: "gcm", Platform: "android", UDID: "1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.Unsubscribe(ctx, push.Caller{AppID: e.app, UserID: e.bob}, s.ID)
	if apperr.KindOf(err) != apperr.KindForbidden {
		t.Fatalf("another user's: %v, want 403", err)
	}
	err = e.svc.Unsubscribe(ctx, push.Caller{AppID: e.app2, UserID: e.carol}, s.ID)
	if apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("another app's: %v, want 404", err)
	}
	if err := e.svc.Unsubscribe(ctx, alice, s.ID+100); apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("unknown id: %v, want 404", err)
	}
	if n := e.count(t, "push_subscriptions"); n != 1 {
		t.Fatalf("refused deletes removed it: %d left", n)
	}
	if err := e.svc.Unsubscribe(ctx, alice, s.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "push_subscriptions"); n != 0 {
		t.Fatalf("%d left after delete", n)
	}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(b)
}

func TestCreateEventQueues(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	alice := push.Caller{AppID: e.app, UserID: e.alice}
	bob := push.Caller{AppID: e.app, UserID: e.bob}
	for _, in := range []push.SubscriptionInput{
		{Channel: "apns", Platform: "ios", UDID: "p", Token: apnsToken},
		{Channel: "apns_voip", Platform: "ios", UDID: "p", Token: apnsToken},
		{Channel: "gcm", Platform: "android", UDID: "a", Token: "t"},
		{Channel: "gcm", Platform: "android", UDID: "prod", Token: "t", Environment: "production"},
	} {
		if _, err := e.svc.Subscribe(ctx, bob, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Subscribe(ctx, bob, webInput(t, "https://push.example.com/1")); err != nil {
		t.Fatal(err)
	}
	queuedBy := func() map[push.Channel]int {
		st, err := e.svc.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[push.Channel]int{}
		for _, cs := range st {
			m[cs.Channel] = cs.Queued
		}
		return m
	}
	ev, err := e.svc.CreateEvent(ctx, alice, push.EventInput{NotificationType: "push", EventType: "one_shot",
		Message: b64json(map[string]any{"message": "hi"}), Sel: push.Selector{IDs: []int64{e.bob, 999999, e.carol}}})
	if err != nil || ev.ID == 0 || ev.Environment != push.Development || ev.UserID != e.alice {
		t.Fatalf("CreateEvent: %+v, %v", ev, err)
	}
	if q := queuedBy(); q[push.APNs] != 1 || q[push.APNsVoIP] != 0 || q[push.GCM] != 1 || q[push.Web] != 1 {
		t.Fatalf("universal push queued %v", q)
	}
	// ios_voip: the VoIP subscription instead of the alert one; by
	// external id; URL-safe base64 without padding.
	msg := base64.RawURLEncoding.EncodeToString([]byte(`{"message":"call","ios_voip":1}`))
	if _, err := e.svc.CreateEvent(ctx, alice, push.EventInput{NotificationType: "push", Message: msg,
		Sel: push.Selector{ExternalIDs: []int64{42}}}); err != nil {
		t.Fatal(err)
	}
	if q := queuedBy(); q[push.APNs] != 1 || q[push.APNsVoIP] != 1 || q[push.GCM] != 2 {
		t.Fatalf("voip push queued %v", q)
	}
	// A platform payload to one channel, production only.
	if _, err := e.svc.CreateEvent(ctx, alice, push.EventInput{NotificationType: "push", PushType: "gcm", Environment: "production",
		Message: "payload=" + b64json(map[string]any{"data": map[string]string{"k": "v"}}), Sel: push.Selector{IDs: []int64{e.bob}}}); err != nil {
		t.Fatal(err)
	}
	if q := queuedBy(); q[push.GCM] != 3 || q[push.Web] != 2 {
		t.Fatalf("gcm push queued %v", q)
	}
	items, err := e.db.ClaimDue(ctx, push.GCM, t0, time.Minute, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("claim: %v %v", items, err)
	}
	note, raw, err := push.DecodeEventMessage(items[2].Event)
	if err != nil || note != nil || string(raw) != `{"data":{"k":"v"}}` {
		t.Fatalf("DecodeEventMessage(platform) = %v %s %v", note, raw, err)
	}
	note, _, err = push.DecodeEventMessage(items[0].Event)
	if err != nil || note["message"] != "hi" {
		t.Fatalf("DecodeEventMessage(universal) = %v %v", note, err)
	}
}

func TestCreateEventRefusesBadInput(t *testing.T) {
	e := newEnv(t, push.Limits{MaxEventRecipients: 10000})
	ctx := t.Context()
	alice := push.Caller{AppID: e.app, UserID: e.alice}
	if _, err := e.svc.Subscribe(ctx, push.Caller{AppID: e.app, UserID: e.bob},
		push.SubscriptionInput{Channel: "gcm", Platform: "android", UDID: "a", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	ok := b64json(map[string]any{"message": "hi"})
	many := make([]int64, 10001)
	for i := range many {
		many[i] = int64(i + 1)
	}
	huge := base64.StdEncoding.EncodeToString([]byte(`{"message":"` + strings.Repeat("x", 1<<20) + `"}`))
	justOver := b64json(map[string]any{"message": strings.Repeat("x", 4097-len(`{"message":""}`))})
	bob := push.Selector{IDs: []int64{e.bob}}
	for _, tc := range []struct {
		name  string
		in    push.EventInput
		field string
	}{
		{"not push", push.EventInput{NotificationType: "email", Message: ok, Sel: bob}, "notification_type"},
		{"bad push_type", push.EventInput{NotificationType: "push", PushType: "sms", Message: ok, Sel: bob}, "push_type"},
		{"bad environment", push.EventInput{NotificationType: "push", Environment: "qa", Message: ok, Sel: bob}, "environment"},
		{"fixed_date", push.EventInput{NotificationType: "push", EventType: "fixed_date", Message: ok, Sel: bob}, "event_type"},
		{"no message", push.EventInput{NotificationType: "push", Sel: bob}, "message"},
		{"not base64", push.EventInput{NotificationType: "push", Message: "%%%", Sel: bob}, "message"},
		{"not an object", push.EventInput{NotificationType: "push", Message: b64json([]int{1}), Sel: bob}, "message"},
		{"1 MiB message", push.EventInput{NotificationType: "push", Message: huge, Sel: bob}, "message"},
		{"4097 bytes decoded", push.EventInput{NotificationType: "push", Message: justOver, Sel: bob}, "message"},
		{"platform payload not JSON", push.EventInput{NotificationType: "push", PushType: "gcm",
			Message: "payload=" + base64.StdEncoding.EncodeToString([]byte("nope")), Sel: bob}, "message"},
		{"no recipient", push.EventInput{NotificationType: "push", Message: ok}, "user"},
		{"only excluded tags", push.EventInput{NotificationType: "push", Message: ok, Sel: push.Selector{TagsExclude: []string{"vip"}}}, "user"},
		{"10,001 ids", push.EventInput{NotificationType: "push", Message: ok, Sel: push.Selector{IDs: many}}, "user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CreateEvent(ctx, alice, tc.in)
			invalidField(t, err, tc.field)
			if tc.name == "1 MiB message" && !strings.Contains(err.Error(), "4096") {
				t.Fatalf("the error does not name the limit: %v", err)
			}
		})
	}
	// A selection over the limit, counted in the store.
	small := push.NewService(e.db, nil, nil, e.clk.now, push.Limits{MaxEventRecipients: 1})
	_, err := small.CreateEvent(ctx, alice, push.EventInput{NotificationType: "push", Message: ok,
		Sel: push.Selector{IDs: []int64{e.alice}, ExternalIDs: []int64{42}}})
	invalidField(t, err, "user")
	if n, m := e.count(t, "push_events"), e.count(t, "push_outbox"); n != 0 || m != 0 {
		t.Fatalf("refused events stored %d events, %d pushes", n, m)
	}
}

func pemBlock(t *testing.T, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func fcmKey(t *testing.T) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "proj-1",
		"client_email": "push@proj-1.iam.gserviceaccount.com", "private_key": string(pemBlock(t, "PRIVATE KEY", der)),
		"token_uri": "https://oauth2.googleapis.com/token"})
	return b
}

func apnsKey(t *testing.T, curve elliptic.Curve) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pemBlock(t, "PRIVATE KEY", der)
}

func ptr[T any](v T) *T { return &v }

func TestSettings(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	if _, err := e.svc.VAPIDPublicKey(ctx, e.app); apperr.KindOf(err) != apperr.KindNotFound ||
		!strings.Contains(err.Error(), "Web Push is not configured") {
		t.Fatalf("VAPIDPublicKey before any: %v", err)
	}
	v, err := e.svc.Settings(ctx, e.app)
	if err != nil || !v.Alerts || v.Template != push.DefaultTemplate || v.FCM || v.APNs {
		t.Fatalf("defaults: %+v %v", v, err)
	}
	fcm, apns := fcmKey(t), apnsKey(t, elliptic.P256())
	v, err = e.svc.UpdateSettings(ctx, e.app, push.SettingsInput{Alerts: ptr(false), Template: ptr("{sender} in {dialog}: {body}"),
		VAPIDGenerate: true, VAPIDSubject: ptr("mailto:ops@example.com"), FCMServiceAccount: fcm, APNsKey: apns,
		APNsKeyID: ptr("ABC123DEFG"), APNsTeamID: ptr("TEAM123456"), APNsTopic: ptr("com.example.app")})
	if err != nil {
		t.Fatal(err)
	}
	if v.Alerts || !v.FCM || !v.APNs || v.FCMProject != "proj-1" || v.APNsKeyID != "ABC123DEFG" || v.VAPIDSubject != "mailto:ops@example.com" {
		t.Fatalf("view: %+v", v)
	}
	pub, err := base64.RawURLEncoding.DecodeString(v.VAPIDPublicKey)
	if err != nil || len(pub) != 65 || pub[0] != 4 {
		t.Fatalf("VAPID public key %q", v.VAPIDPublicKey)
	}
	if got, err := e.svc.VAPIDPublicKey(ctx, e.app); err != nil || got != v.VAPIDPublicKey {
		t.Fatalf("VAPIDPublicKey = %q, %v", got, err)
	}
	// The view never holds a secret; the database holds them sealed.
	ap, err := e.svc.App(ctx, e.app)
	if err != nil || ap.Creds == nil || !ap.AlertsOff || ap.Template.Render("A", "D", "b") != "A in D: b" {
		t.Fatalf("App: %+v, %v", ap, err)
	}
	js, _ := json.Marshal(v)
	for _, secret := range []string{ap.Creds.VAPIDPrivateKey, "PRIVATE KEY", "BEGIN"} {
		if strings.Contains(string(js), secret) {
			t.Fatalf("the view shows a secret: %s", js)
		}
	}
	st, _ := e.db.AppSettings(ctx, e.app)
	if strings.Contains(string(st.Secrets), "PRIVATE KEY") || strings.Contains(string(st.Secrets), ap.Creds.VAPIDPrivateKey) || st.VAPIDPublic != v.VAPIDPublicKey {
		t.Fatal("secrets stored in the clear")
	}
	priv, _ := base64.RawURLEncoding.DecodeString(ap.Creds.VAPIDPrivateKey)
	if k, err := ecdh.P256().NewPrivateKey(priv); err != nil || base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()) != v.VAPIDPublicKey {
		t.Fatalf("the VAPID pair does not match: %v", err)
	}
	if string(ap.Creds.APNsKey) != string(apns) || string(ap.Creds.FCMServiceAccount) != string(fcm) || ap.Creds.APNsTopic != "com.example.app" {
		t.Fatal("App's credentials differ from what was set")
	}
	// A later change keeps what it does not name.
	v2, err := e.svc.UpdateSettings(ctx, e.app, push.SettingsInput{Alerts: ptr(true)})
	if err != nil || !v2.Alerts || !v2.FCM || v2.VAPIDPublicKey != v.VAPIDPublicKey || v2.Template != "{sender} in {dialog}: {body}" {
		t.Fatalf("partial update: %+v %v", v2, err)
	}
}

func TestSettingsRefuseBadInput(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	notSA, _ := json.Marshal(map[string]string{"type": "authorized_user", "client_id": "x"})
	var sa map[string]string
	json.Unmarshal(fcmKey(t), &sa)
	sa["private_key"] = "not a pem"
	badPEM, _ := json.Marshal(sa)
	for _, tc := range []struct {
		name  string
		in    push.SettingsInput
		field string
	}{
		{"unknown placeholder", push.SettingsInput{Template: ptr("{sender}: {text}")}, "template"},
		{"unclosed brace", push.SettingsInput{Template: ptr("{sender")}, "template"},
		{"subject not mailto or https", push.SettingsInput{VAPIDSubject: ptr("http://example.com")}, "vapid-subject"},
		{"FCM key not a service account", push.SettingsInput{FCMServiceAccount: notSA}, "fcm-service-account"},
		{"FCM key not JSON", push.SettingsInput{FCMServiceAccount: []byte("-----BEGIN")}, "fcm-service-account"},
		{"FCM private key not PEM", push.SettingsInput{FCMServiceAccount: badPEM}, "fcm-service-account"},
		{"APNs key not PEM", push.SettingsInput{APNsKey: []byte("key")}, "apns-key"},
		{"APNs key on P-384", push.SettingsInput{APNsKey: apnsKey(t, elliptic.P384())}, "apns-key"},
		{"APNs key id of 9", push.SettingsInput{APNsKeyID: ptr("ABC123DEF")}, "apns-key-id"},
		{"APNs team id with a dash", push.SettingsInput{APNsTeamID: ptr("TEAM-12345")}, "apns-team-id"},
		{"VAPID keys without a subject", push.SettingsInput{VAPIDGenerate: true}, "vapid-subject"},
		// One bad value refuses the whole change, the good ones too.
		{"good and bad together", push.SettingsInput{Alerts: ptr(false), VAPIDGenerate: true, Template: ptr("{x}")}, "template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.UpdateSettings(ctx, e.app, tc.in)
			invalidField(t, err, tc.field)
		})
	}
	if n := e.count(t, "push_apps"); n != 0 {
		t.Fatalf("refused updates stored %d rows", n)
	}
}

func TestAppCachedFiveSeconds(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	ap, err := e.svc.App(ctx, e.app)
	if err != nil || ap.AlertsOff || ap.Creds != nil || ap.Template.Render("A", "", "") != "A: Attachment" {
		t.Fatalf("App defaults: %+v, %v", ap, err)
	}
	// Another process (the CLI) changes the settings in the same database.
	seal, _ := push.OpenSealer(e.dir)
	cli := push.NewService(e.db, seal, nil, e.clk.now, push.Limits{})
	if _, err := cli.UpdateSettings(ctx, e.app, push.SettingsInput{Alerts: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	e.clk.add(4 * time.Second)
	if ap, _ := e.svc.App(ctx, e.app); ap.AlertsOff {
		t.Fatal("the cache was not used within 5 s")
	}
	e.clk.add(time.Second)
	if ap, _ := e.svc.App(ctx, e.app); !ap.AlertsOff {
		t.Fatal("a change made beside the server is not seen after 5 s")
	}
	// A change through this service is seen at once.
	if _, err := e.svc.UpdateSettings(ctx, e.app, push.SettingsInput{Alerts: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if ap, _ := e.svc.App(ctx, e.app); ap.AlertsOff {
		t.Fatal("own change not seen")
	}
}

func TestSecretsNeedTheirKey(t *testing.T) {
	e := newEnv(t, push.Limits{})
	ctx := t.Context()
	if _, err := e.svc.UpdateSettings(ctx, e.app, push.SettingsInput{VAPIDGenerate: true, VAPIDSubject: ptr("mailto:ops@example.com")}); err != nil {
		t.Fatal(err)
	}
	wrong, _ := push.OpenSealer(t.TempDir())
	other := push.NewService(e.db, wrong, nil, e.clk.now, push.Limits{})
	if _, err := other.UpdateSettings(ctx, e.app, push.SettingsInput{APNsTopic: ptr("x")}); err == nil {
		t.Fatal("a wrong key overwrote the stored secrets")
	}
	if _, err := e.svc.App(ctx, e.app); err != nil {
		t.Fatalf("the right key no longer opens them: %v", err)
	}
}
