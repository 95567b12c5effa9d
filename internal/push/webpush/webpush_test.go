package webpush_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/pushtest"
	"github.com/parley-chat/parley/internal/push/webpush"
)

// rig is a provider, a local push service and one browser subscribed to it.
type rig struct {
	svc   *pushtest.WebPush
	p     *webpush.Provider
	creds *push.Credentials
	b     pushtest.Browser
}

func newRig(t testing.TB) *rig {
	t.Helper()
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	svc := pushtest.NewWebPush(t)
	svc.SetVAPIDKey(pub) // the browser subscribed with our applicationServerKey
	return &rig{
		svc:   svc,
		p:     webpush.New(webpush.Config{}),
		creds: &push.Credentials{VAPIDPrivateKey: priv, VAPIDPublicKey: pub, VAPIDSubject: "mailto:ops@parley.example"},
		b:     svc.NewSubscription(),
	}
}

func (r *rig) delivery(id int64, note push.Notification) push.Delivery {
	return push.Delivery{ID: id, Sub: r.b.Subscription(), Creds: r.creds, Note: note}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// noRejections fails when the service refused anything: every request
// the provider made passed its VAPID and encryption checks.
func noRejections(t *testing.T, svc *pushtest.WebPush) {
	t.Helper()
	for _, r := range svc.Rejections() {
		t.Errorf("service refused a push: %d %s", r.Status, r.Reason)
	}
}

func TestSendArrivesDecrypted(t *testing.T) {
	r := newRig(t)
	note := push.Notification{"message": "Alice: hi", "ios_badge": float64(3), "dialog_id": "5f1"}
	if err := r.p.Send(context.Background(), r.delivery(42, note)); err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.Wait(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	noRejections(t, r.svc)
	var payload push.Notification
	if err := json.Unmarshal(got[0].Payload, &payload); err != nil {
		t.Fatalf("payload %q: %v", got[0].Payload, err)
	}
	if len(payload) != len(note) || payload["message"] != "Alice: hi" || payload["ios_badge"] != float64(3) || payload["dialog_id"] != "5f1" {
		t.Errorf("payload %v, want %v", payload, note)
	}
	if got[0].Endpoint != r.b.Endpoint || got[0].Urgency != "high" || got[0].TTL != 24*time.Hour {
		t.Errorf("push %+v: want endpoint %s, urgency high, TTL 24h", got[0], r.b.Endpoint)
	}
	if got[0].Topic == "" || len(got[0].Topic) > 32 {
		t.Errorf("Topic %q", got[0].Topic)
	}
}

func TestTopicStablePerDelivery(t *testing.T) {
	r := newRig(t)
	for _, id := range []int64{7, 7, 8} {
		if err := r.p.Send(context.Background(), r.delivery(id, push.Notification{"message": "m"})); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.svc.Wait(waitCtx(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Topic != got[1].Topic {
		t.Errorf("the same delivery sent twice has Topics %q and %q", got[0].Topic, got[1].Topic)
	}
	if got[0].Topic == got[2].Topic {
		t.Errorf("deliveries 7 and 8 share Topic %q", got[0].Topic)
	}
}

func TestRawPayloadAndUrgencyNormal(t *testing.T) {
	r := newRig(t)
	raw := json.RawMessage(`{"data":{"kind":"sync"}}`)
	d := r.delivery(1, nil)
	d.Raw = raw
	if err := r.p.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	// A note with an empty message is data-only too.
	if err := r.p.Send(context.Background(), r.delivery(2, push.Notification{"message": "", "x": "y"})); err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.Wait(waitCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].Payload) != string(raw) {
		t.Errorf("raw payload arrived as %q, want %q", got[0].Payload, raw)
	}
	for i, p := range got {
		if p.Urgency != "normal" {
			t.Errorf("push %d: Urgency %q, want normal", i, p.Urgency)
		}
	}
}

func TestTTL(t *testing.T) {
	r := newRig(t)
	r.p = webpush.New(webpush.Config{TTL: 90 * time.Minute})
	exp := time.Now().Add(time.Hour).Unix()
	sends := []push.Notification{
		{"message": "configured"},
		{"message": "expires in an hour", "expiration": float64(exp)},
		{"message": "already expired", "expiration": float64(time.Now().Add(-time.Hour).Unix())},
	}
	for i, n := range sends {
		if err := r.p.Send(context.Background(), r.delivery(int64(i+1), n)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.svc.Wait(waitCtx(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].TTL != 90*time.Minute {
		t.Errorf("TTL %v, want the configured 90m", got[0].TTL)
	}
	if got[1].TTL <= 50*time.Minute || got[1].TTL > time.Hour {
		t.Errorf("TTL %v for a note expiring in an hour", got[1].TTL)
	}
	if got[2].TTL != 0 {
		t.Errorf("TTL %v for an expired note, want 0", got[2].TTL)
	}
}

func TestGone(t *testing.T) {
	r := newRig(t)
	r.svc.FailNext(r.b.Endpoint, 1, http.StatusGone, "")
	r.svc.FailNext(r.b.Endpoint, 1, http.StatusNotFound, "")
	for _, status := range []string{"410", "404"} {
		err := r.p.Send(context.Background(), r.delivery(1, push.Notification{"message": "m"}))
		if !errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), status) {
			t.Errorf("answer %s: %v, want ErrGone", status, err)
		}
	}
	// The service's own refusals: an unsubscribed endpoint, an unknown one.
	r.svc.Unsubscribe(r.b.Endpoint)
	if err := r.p.Send(context.Background(), r.delivery(2, push.Notification{})); !errors.Is(err, push.ErrGone) {
		t.Errorf("unsubscribed endpoint: %v, want ErrGone", err)
	}
	d := r.delivery(3, push.Notification{})
	d.Sub.Token = r.svc.URL + "/push/nosuch"
	if err := r.p.Send(context.Background(), d); !errors.Is(err, push.ErrGone) {
		t.Errorf("unknown endpoint: %v, want ErrGone", err)
	}
}

func TestRetry(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		status     int
		retryAfter string
		min, max   time.Duration
	}{
		{http.StatusTooManyRequests, "7", 7 * time.Second, 7 * time.Second},
		// HTTP-date: whole seconds, so 30 s ahead reads as a little less.
		{http.StatusTooManyRequests, time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat), 20 * time.Second, 30 * time.Second},
		{http.StatusServiceUnavailable, "", 0, 0},
		{http.StatusBadGateway, "86400", time.Hour, time.Hour}, // capped
	}
	for _, c := range cases {
		r.svc.FailNext(r.b.Endpoint, 1, c.status, c.retryAfter)
		err := r.p.Send(context.Background(), r.delivery(1, push.Notification{"message": "m"}))
		var re *push.RetryError
		if !errors.As(err, &re) {
			t.Errorf("%d Retry-After %q: %v, want a RetryError", c.status, c.retryAfter, err)
			continue
		}
		if re.After < c.min || re.After > c.max {
			t.Errorf("%d Retry-After %q: After %v, want %v..%v", c.status, c.retryAfter, re.After, c.min, c.max)
		}
	}
	noRejections(t, r.svc)
}

func TestFinal(t *testing.T) {
	r := newRig(t)
	r.svc.FailNext(r.b.Endpoint, 1, http.StatusBadRequest, "")
	err := r.p.Send(context.Background(), r.delivery(1, push.Notification{"message": "m"}))
	var re *push.RetryError
	if err == nil || errors.As(err, &re) || errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), "400") {
		t.Errorf("400: %v, want a final error naming the status", err)
	}

	// The largest payload that fits arrives; one byte more is refused
	// before anything is sent.
	fits := json.RawMessage(`"` + strings.Repeat("x", webpush.MaxPayload-2) + `"`)
	d := r.delivery(2, nil)
	d.Raw = fits
	if err := r.p.Send(context.Background(), d); err != nil {
		t.Fatalf("a payload of %d bytes: %v", len(fits), err)
	}
	d.Raw = json.RawMessage(`"` + strings.Repeat("x", webpush.MaxPayload-1) + `"`)
	err = r.p.Send(context.Background(), d)
	if !errors.Is(err, webpush.ErrPayloadTooLarge) || errors.As(err, &re) || errors.Is(err, push.ErrGone) {
		t.Errorf("a payload of %d bytes: %v, want ErrPayloadTooLarge", len(d.Raw), err)
	}
	big := r.delivery(3, push.Notification{"message": strings.Repeat("long ", 1000)})
	if err := r.p.Send(context.Background(), big); !errors.Is(err, webpush.ErrPayloadTooLarge) {
		t.Errorf("a 5000-byte note: %v, want ErrPayloadTooLarge", err)
	}
	if got := r.svc.Received(); len(got) != 1 || len(got[0].Payload) != webpush.MaxPayload {
		t.Errorf("service received %d pushes, want only the one that fits", len(got))
	}
	noRejections(t, r.svc)
}

func TestCredentials(t *testing.T) {
	r := newRig(t)
	none := []*push.Credentials{
		nil,
		{},
		{VAPIDPrivateKey: r.creds.VAPIDPrivateKey, VAPIDPublicKey: r.creds.VAPIDPublicKey},
		{VAPIDPublicKey: r.creds.VAPIDPublicKey, VAPIDSubject: "mailto:a@b.example"},
	}
	for i, c := range none {
		d := r.delivery(1, push.Notification{"message": "m"})
		d.Creds = c
		if err := r.p.Send(context.Background(), d); !errors.Is(err, push.ErrNoCredentials) {
			t.Errorf("credentials %d: %v, want ErrNoCredentials", i, err)
		}
	}

	// A public key that is not the private key's: refused here, and the
	// error does not carry the private key.
	_, otherPub, _ := webpush.GenerateVAPIDKeys()
	d := r.delivery(1, push.Notification{"message": "m"})
	d.Creds = &push.Credentials{VAPIDPrivateKey: r.creds.VAPIDPrivateKey, VAPIDPublicKey: otherPub, VAPIDSubject: "mailto:a@b.example"}
	err := r.p.Send(context.Background(), d)
	var re *push.RetryError
	if err == nil || errors.As(err, &re) || errors.Is(err, push.ErrNoCredentials) {
		t.Errorf("mismatched VAPID pair: %v, want a final error", err)
	} else if strings.Contains(err.Error(), r.creds.VAPIDPrivateKey) {
		t.Errorf("the error carries the private key: %v", err)
	}
	d.Creds = &push.Credentials{VAPIDPrivateKey: "not base64!", VAPIDPublicKey: otherPub, VAPIDSubject: "mailto:a@b.example"}
	if err := r.p.Send(context.Background(), d); err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("unreadable private key: %v, want a final error without the key", err)
	}

	// An https subject is accepted by the service (mailto: is by the others).
	d.Creds = &push.Credentials{VAPIDPrivateKey: r.creds.VAPIDPrivateKey, VAPIDPublicKey: r.creds.VAPIDPublicKey, VAPIDSubject: "https://parley.example/contact"}
	if err := r.p.Send(context.Background(), d); err != nil {
		t.Errorf("https subject: %v", err)
	}
	if len(r.svc.Received()) != 1 {
		t.Errorf("service received %d pushes, want 1", len(r.svc.Received()))
	}
	noRejections(t, r.svc)
}

func TestBadSubscriptionIsGone(t *testing.T) {
	r := newRig(t)
	for _, mutate := range []func(*push.Subscription){
		func(s *push.Subscription) { s.WebP256dh = "AAAA" },
		func(s *push.Subscription) { s.WebAuth = "" },
		func(s *push.Subscription) { s.Token = "not a url" },
	} {
		d := r.delivery(1, push.Notification{"message": "m"})
		mutate(&d.Sub)
		if err := r.p.Send(context.Background(), d); !errors.Is(err, push.ErrGone) {
			t.Errorf("%+v: %v, want ErrGone", d.Sub, err)
		}
	}
	if n := len(r.svc.Received()) + len(r.svc.Rejections()); n != 0 {
		t.Errorf("%d requests reached the service", n)
	}
}

func TestHangingServiceReturnsByDeadline(t *testing.T) {
	r := newRig(t)
	r.svc.HangNext("", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := r.p.Send(ctx, r.delivery(1, push.Notification{"message": "m"}))
	var re *push.RetryError
	if !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging service: %v, want a RetryError for the deadline", err)
	}
	// The next push goes through: the hang was one answer.
	if err := r.p.Send(context.Background(), r.delivery(2, push.Notification{"message": "m"})); err != nil {
		t.Errorf("after the hang: %v", err)
	}
}

func TestNetworkErrorIsRetry(t *testing.T) {
	r := newRig(t)
	// A port nothing listens on any more.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	d := r.delivery(1, push.Notification{"message": "m"})
	d.Sub.Token = closed.URL + "/push/x"
	err := r.p.Send(context.Background(), d)
	var re *push.RetryError
	if !errors.As(err, &re) || errors.Is(err, push.ErrGone) {
		t.Errorf("connection refused: %v, want a RetryError", err)
	}
}

func TestGenerateVAPIDKeys(t *testing.T) {
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	// 32 and 65 bytes in base64url without padding.
	if len(priv) != 43 || len(pub) != 87 || strings.ContainsAny(priv+pub, "=+/") {
		t.Errorf("keys of %d and %d characters: %q %q", len(priv), len(pub), priv, pub)
	}
	if !strings.HasPrefix(pub, "B") { // 0x04: an uncompressed point
		t.Errorf("public key %q is not an uncompressed point", pub)
	}
}

func BenchmarkSend(b *testing.B) {
	r := newRig(b)
	d := r.delivery(1, push.Notification{"message": "Alice: see you at 8", "dialog_id": "5f1", "ios_badge": 2})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.p.Send(context.Background(), d); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
}
