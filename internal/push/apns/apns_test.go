package apns_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/apns"
	"github.com/parley-chat/parley/internal/push/pushtest"
)

const (
	bundle = "com.example.parley"
	token  = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
)

type fixture struct {
	srv   *pushtest.APNs
	p     *apns.Provider
	creds *push.Credentials
}

func setup(t testing.TB) *fixture {
	srv := pushtest.NewAPNs(t)
	srv.SetTopic(bundle)
	key, kid, team := srv.Key()
	return &fixture{
		srv:   srv,
		p:     apns.New(apns.Config{Production: srv.URL(), Development: srv.URL(), Client: srv.Client()}),
		creds: &push.Credentials{APNsKey: key, APNsKeyID: kid, APNsTeamID: team, APNsTopic: bundle},
	}
}

func (f *fixture) delivery(id int64, ch push.Channel, n push.Notification) push.Delivery {
	return push.Delivery{
		ID:    id,
		Sub:   push.Subscription{ID: 1, AppID: 1, UserID: 2, Channel: ch, Platform: "ios", Environment: push.Production, Token: token},
		Creds: f.creds,
		Note:  n,
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// sendOne sends d, expects success, and returns what the endpoint got.
func (f *fixture) sendOne(t *testing.T, d push.Delivery) pushtest.APNsPush {
	t.Helper()
	before := len(f.srv.Received())
	if err := f.p.Send(ctx(t), d); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := f.srv.Received()
	if len(got) != before+1 {
		t.Fatalf("endpoint recorded %d pushes, want %d", len(got), before+1)
	}
	return got[len(got)-1]
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	return m
}

func TestUniversalToAPS(t *testing.T) {
	f := setup(t)
	got := f.sendOne(t, f.delivery(77, push.APNs, push.Notification{
		"message":               "Mira Holm: How are you today?",
		"ios_badge":             "3", // a number given as a string
		"ios_sound":             "default",
		"ios_content_available": 1,
		"ios_mutable_content":   "1",
		"ios_category":          "MESSAGE",
		"ios_thread_id":         "dialog-1",
		"ios_voip":              0,
		"ios_loc_data": map[string]any{
			"title_loc_key": "T_KEY", "title_loc_args": []any{"Mira"},
			"body_loc_key": "B_KEY", "body_loc_args": []any{"a", 2.0},
		},
		"expiration":               "1893456000",
		"android_fcm_notification": map[string]any{"title": "x"},
		"dialog_id":                "65a1f0c2e4b0a1b2c3d4e5f6",
		"user_id":                  "29085",
		"extra":                    map[string]any{"n": 1.0},
	}))
	want := map[string]any{
		"aps": map[string]any{
			"alert": map[string]any{
				"body":          "Mira Holm: How are you today?",
				"title-loc-key": "T_KEY", "title-loc-args": []any{"Mira"},
				"loc-key": "B_KEY", "loc-args": []any{"a", "2"},
			},
			"badge":             3.0,
			"sound":             "default",
			"content-available": 1.0,
			"mutable-content":   1.0,
			"category":          "MESSAGE",
			"thread-id":         "dialog-1",
		},
		"dialog_id": "65a1f0c2e4b0a1b2c3d4e5f6",
		"user_id":   "29085",
		"extra":     map[string]any{"n": 1.0},
	}
	if p := decode(t, got.Payload); !reflect.DeepEqual(p, want) {
		t.Errorf("payload\n got %v\nwant %v", p, want)
	}
	if got.Topic != bundle || got.PushType != "alert" || got.Priority != 10 || got.Token != token {
		t.Errorf("topic %q push type %q priority %d token %q", got.Topic, got.PushType, got.Priority, got.Token)
	}
	if got.Expiration != 1893456000 {
		t.Errorf("apns-expiration %d, want 1893456000", got.Expiration)
	}
	if got.CollapseID == "" || len(got.CollapseID) > 64 {
		t.Errorf("apns-collapse-id %q", got.CollapseID)
	}

	// The same outbox row sent again collapses onto the first; another
	// row does not.
	again := f.sendOne(t, f.delivery(77, push.APNs, push.Notification{"message": "x"}))
	other := f.sendOne(t, f.delivery(78, push.APNs, push.Notification{"message": "x"}))
	if again.CollapseID != got.CollapseID || other.CollapseID == got.CollapseID {
		t.Errorf("collapse ids %q, %q (same row), %q (other row)", got.CollapseID, again.CollapseID, other.CollapseID)
	}
}

func TestBackgroundPush(t *testing.T) {
	f := setup(t)
	cases := []struct {
		name         string
		n            push.Notification
		wantType     string
		wantPriority int
	}{
		{"content-available without message", push.Notification{"ios_content_available": "1", "k": "v"}, "background", 5},
		{"ios_push_type background", push.Notification{"ios_push_type": "background", "message": "m"}, "background", 5},
		{"content-available with message", push.Notification{"ios_content_available": 1, "message": "m"}, "alert", 10},
		{"badge only", push.Notification{"ios_badge": 4}, "alert", 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := f.sendOne(t, f.delivery(1, push.APNs, c.n))
			if got.PushType != c.wantType || got.Priority != c.wantPriority {
				t.Errorf("push type %q priority %d, want %q %d", got.PushType, got.Priority, c.wantType, c.wantPriority)
			}
			if _, ok := decode(t, got.Payload)["aps"].(map[string]any); !ok {
				t.Errorf("no aps in %s", got.Payload)
			}
		})
	}
}

func TestVoIP(t *testing.T) {
	f := setup(t)
	got := f.sendOne(t, f.delivery(5, push.APNsVoIP, push.Notification{"message": "Alice is calling you", "call_id": "c1"}))
	if got.Topic != bundle+".voip" || got.PushType != "voip" || got.Priority != 10 {
		t.Errorf("topic %q push type %q priority %d", got.Topic, got.PushType, got.Priority)
	}
	if p := decode(t, got.Payload); p["call_id"] != "c1" {
		t.Errorf("payload %s", got.Payload)
	}

	// A bundle that already ends in .voip is not suffixed twice.
	d := f.delivery(6, push.APNsVoIP, push.Notification{"message": "m"})
	d.Sub.Bundle = bundle + ".voip"
	if got := f.sendOne(t, d); got.Topic != bundle+".voip" {
		t.Errorf("topic %q", got.Topic)
	}

	// VoIP payloads may be up to 5120 bytes.
	big := f.delivery(7, push.APNsVoIP, push.Notification{"message": strings.Repeat("v", 4500)})
	if got := f.sendOne(t, big); len(got.Payload) <= 4096 {
		t.Errorf("payload %d bytes", len(got.Payload))
	}
}

func TestRawPayload(t *testing.T) {
	f := setup(t)
	raw := `{"aps":{"alert":{"title":"Hi","body":"there"},"sound":"ping.aiff"},"acme":[1,2]}`
	d := f.delivery(9, push.APNs, nil)
	d.Raw = json.RawMessage(raw)
	got := f.sendOne(t, d)
	if string(got.Payload) != raw {
		t.Errorf("payload %s, want %s as is", got.Payload, raw)
	}
	if got.PushType != "alert" || got.Priority != 10 {
		t.Errorf("push type %q priority %d", got.PushType, got.Priority)
	}

	silent := f.delivery(10, push.APNs, nil)
	silent.Raw = json.RawMessage(`{"aps":{"content-available":1},"sync":true}`)
	if got := f.sendOne(t, silent); got.PushType != "background" || got.Priority != 5 {
		t.Errorf("silent raw: push type %q priority %d", got.PushType, got.Priority)
	}

	bad := f.delivery(11, push.APNs, nil)
	bad.Raw = json.RawMessage(`payload=abc`)
	if err := f.p.Send(ctx(t), bad); err == nil || isRetry(err) || errors.Is(err, push.ErrGone) {
		t.Errorf("raw not JSON: %v, want a final error", err)
	}
}

func TestTopicFromBundleOrCredentials(t *testing.T) {
	f := setup(t)
	f.srv.SetTopic("com.example.other")
	d := f.delivery(1, push.APNs, push.Notification{"message": "m"})
	d.Sub.Bundle = "com.example.other"
	if got := f.sendOne(t, d); got.Topic != "com.example.other" {
		t.Errorf("topic %q, want the subscription's bundle", got.Topic)
	}

	d.Sub.Bundle = ""
	creds := *f.creds
	creds.APNsTopic = ""
	d.Creds = &creds
	err := f.p.Send(ctx(t), d)
	if err == nil || isRetry(err) || errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), "topic") {
		t.Errorf("no topic: %v, want a final error naming the topic", err)
	}
}

func TestEnvironmentPicksHost(t *testing.T) {
	prod, dev := pushtest.NewAPNs(t), pushtest.NewAPNs(t)
	prod.SetTopic(bundle)
	dev.SetTopic(bundle)
	// One key trusted by both: the same Apple key works on both hosts.
	key, kid, team := prod.Key()
	p := apns.New(apns.Config{Production: prod.URL(), Development: dev.URL(), Client: prod.Client()})
	creds := &push.Credentials{APNsKey: key, APNsKeyID: kid, APNsTeamID: team, APNsTopic: bundle}
	d := push.Delivery{ID: 1, Creds: creds, Note: push.Notification{"message": "m"},
		Sub: push.Subscription{Channel: push.APNs, Environment: push.Development, Token: token}}

	// dev does not trust prod's key: a development push reaches dev (its
	// refusal says so), and none arrives at prod.
	if err := p.Send(ctx(t), d); err == nil || !strings.Contains(err.Error(), "403 InvalidProviderToken") {
		t.Fatalf("development push: %v, want dev's 403 InvalidProviderToken", err)
	}
	if n := len(prod.Received()); n != 0 {
		t.Fatalf("development push went to the production host (%d pushes)", n)
	}
	d.Sub.Environment = push.Production
	if err := p.Send(ctx(t), d); err != nil {
		t.Fatalf("production push: %v", err)
	}
	if n := len(prod.Received()); n != 1 {
		t.Fatalf("production host got %d pushes, want 1", n)
	}

	// And a development push to a development host that trusts it arrives
	// there only.
	dkey, dkid, dteam := dev.Key()
	pd := apns.New(apns.Config{Production: prod.URL(), Development: dev.URL(), Client: dev.Client()})
	d.Sub.Environment = push.Development
	d.Creds = &push.Credentials{APNsKey: dkey, APNsKeyID: dkid, APNsTeamID: dteam, APNsTopic: bundle}
	if err := pd.Send(ctx(t), d); err != nil {
		t.Fatalf("development push: %v", err)
	}
	if len(dev.Received()) != 1 || len(prod.Received()) != 1 {
		t.Errorf("dev %d, prod %d pushes; want 1 and 1", len(dev.Received()), len(prod.Received()))
	}
}

func TestDefaultHosts(t *testing.T) {
	// With no hosts configured, Apple's own are used: a push to a
	// subscription must not reach the local endpoint.
	f := setup(t)
	p := apns.New(apns.Config{Client: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("host " + r.URL.Host)
	})}})
	d := f.delivery(1, push.APNs, push.Notification{"message": "m"})
	for env, host := range map[string]string{push.Production: "api.push.apple.com", push.Development: "api.sandbox.push.apple.com"} {
		d.Sub.Environment = env
		err := p.Send(ctx(t), d)
		if !isRetry(err) || !strings.Contains(err.Error(), "host "+host) {
			t.Errorf("%s: %v, want a request to %s", env, err, host)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestGone(t *testing.T) {
	f := setup(t)
	f.srv.Unregister(token)
	if err := f.p.Send(ctx(t), f.delivery(1, push.APNs, push.Notification{"message": "m"})); !errors.Is(err, push.ErrGone) {
		t.Errorf("410 Unregistered: %v, want ErrGone", err)
	}
	d := f.delivery(2, push.APNs, push.Notification{"message": "m"})
	d.Sub.Token = "not-hex"
	if err := f.p.Send(ctx(t), d); !errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), "BadDeviceToken") {
		t.Errorf("400 BadDeviceToken: %v, want ErrGone", err)
	}
}

func isRetry(err error) bool {
	var re *push.RetryError
	return errors.As(err, &re)
}

func TestRetry(t *testing.T) {
	f := setup(t)
	d := f.delivery(1, push.APNs, push.Notification{"message": "m"})

	f.srv.FailNext(1, http.StatusTooManyRequests, "TooManyRequests", "120")
	err := f.p.Send(ctx(t), d)
	var re *push.RetryError
	if !errors.As(err, &re) || re.After != 2*time.Minute || !strings.Contains(err.Error(), "TooManyRequests") {
		t.Errorf("429: %v, want a RetryError after 2m", err)
	}

	f.srv.FailNext(1, http.StatusServiceUnavailable, "ServiceUnavailable", "")
	err = f.p.Send(ctx(t), d)
	if !errors.As(err, &re) || re.After != 0 {
		t.Errorf("503: %v, want a RetryError with no wait", err)
	}

	f.srv.FailNext(1, http.StatusServiceUnavailable, "Shutdown", "86400")
	if err = f.p.Send(ctx(t), d); !errors.As(err, &re) || re.After != time.Hour {
		t.Errorf("503 Retry-After a day: %v, want a RetryError capped at 1h", err)
	}

	// Retry-After as an HTTP date.
	at := time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat)
	f.srv.FailNext(1, http.StatusTooManyRequests, "TooManyRequests", at)
	if err = f.p.Send(ctx(t), d); !errors.As(err, &re) || re.After <= 8*time.Minute || re.After > 10*time.Minute {
		t.Errorf("429 Retry-After %s: %v, want a RetryError after about 10m", at, err)
	}

	f.srv.FailNext(1, http.StatusForbidden, "ExpiredProviderToken", "")
	if err = f.p.Send(ctx(t), d); !isRetry(err) {
		t.Errorf("403 ExpiredProviderToken: %v, want a RetryError", err)
	}
	// The token APNs called expired is replaced on the next push.
	before := f.srv.JWTs()
	f.sendOne(t, d)
	if f.srv.JWTs() != before+1 {
		t.Errorf("after ExpiredProviderToken %d distinct JWTs, want %d", f.srv.JWTs(), before+1)
	}

	// Once the failures are over, the push goes through.
	f.sendOne(t, d)
}

func TestFinalErrors(t *testing.T) {
	f := setup(t)
	big := f.delivery(1, push.APNs, push.Notification{"message": strings.Repeat("x", 4100)})
	err := f.p.Send(ctx(t), big)
	if err == nil || isRetry(err) || errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), "4096") {
		t.Errorf("too large: %v, want a final error naming the limit", err)
	}
	bigVoIP := f.delivery(2, push.APNsVoIP, push.Notification{"message": strings.Repeat("x", 5200)})
	if err := f.p.Send(ctx(t), bigVoIP); err == nil || isRetry(err) || !strings.Contains(err.Error(), "5120") {
		t.Errorf("voip too large: %v, want a final error naming the limit", err)
	}
	if n := len(f.srv.Received()); n != 0 {
		t.Errorf("%d oversized pushes were sent", n)
	}

	// A refusal that is neither gone nor worth retrying is final, with
	// its status and reason.
	f.srv.FailNext(1, http.StatusBadRequest, "BadTopic", "")
	err = f.p.Send(ctx(t), f.delivery(3, push.APNs, push.Notification{"message": "m"}))
	if err == nil || isRetry(err) || errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), "400 BadTopic") {
		t.Errorf("400 BadTopic: %v, want a final error with status and reason", err)
	}

	// Pushes to another channel are not this provider's.
	if err := f.p.Send(ctx(t), f.delivery(4, push.GCM, push.Notification{"message": "m"})); err == nil || isRetry(err) {
		t.Errorf("gcm channel: %v, want a final error", err)
	}
}

func TestNoCredentials(t *testing.T) {
	f := setup(t)
	for name, c := range map[string]*push.Credentials{
		"nil":        nil,
		"no key":     {APNsKeyID: "K", APNsTeamID: "T", APNsTopic: bundle},
		"no key id":  {APNsKey: f.creds.APNsKey, APNsTeamID: "T", APNsTopic: bundle},
		"no team id": {APNsKey: f.creds.APNsKey, APNsKeyID: "K", APNsTopic: bundle},
	} {
		d := f.delivery(1, push.APNs, push.Notification{"message": "m"})
		d.Creds = c
		if err := f.p.Send(ctx(t), d); !errors.Is(err, push.ErrNoCredentials) {
			t.Errorf("%s: %v, want ErrNoCredentials", name, err)
		}
	}

	d := f.delivery(1, push.APNs, push.Notification{"message": "m"})
	d.Creds = &push.Credentials{APNsKey: []byte("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"), APNsKeyID: "K", APNsTeamID: "T"}
	d.Sub.Bundle = bundle
	err := f.p.Send(ctx(t), d)
	if err == nil || isRetry(err) || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("bad key: %v, want a final error that does not show the key", err)
	}
}

func TestTokenReused(t *testing.T) {
	f := setup(t)
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		go func() {
			d := f.delivery(int64(i+1), push.APNs, push.Notification{"message": "m"})
			if i%2 == 0 {
				d.Sub.Environment = push.Development
			}
			errs <- f.p.Send(ctx(t), d)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.srv.Wait(ctx(t), n); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.JWTs(); got != 1 {
		t.Errorf("%d distinct JWTs over %d pushes, want 1", got, n)
	}

	// A rotated key gets its own token.
	key, kid, team := f.srv.Key()
	d := f.delivery(100, push.APNs, push.Notification{"message": "m"})
	d.Creds = &push.Credentials{APNsKey: key, APNsKeyID: kid, APNsTeamID: team, APNsTopic: bundle}
	f.sendOne(t, d)
	f.sendOne(t, d)
	if got := f.srv.JWTs(); got != 2 {
		t.Errorf("%d distinct JWTs after a second key, want 2", got)
	}
}

func TestHangingEndpoint(t *testing.T) {
	f := setup(t)
	f.srv.Hang(true)
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := f.p.Send(c, f.delivery(1, push.APNs, push.Notification{"message": "m"}))
	if !isRetry(err) {
		t.Fatalf("hanging endpoint: %v, want a RetryError", err)
	}
	if c.Err() == nil {
		t.Errorf("Send returned before its deadline with %v", err)
	}
	f.srv.Hang(false)
	f.sendOne(t, f.delivery(2, push.APNs, push.Notification{"message": "m"}))
}

// The endpoint itself must refuse what APNs refuses, or the tests above
// prove nothing.
func TestEndpointRefuses(t *testing.T) {
	f := setup(t)

	// A JWT signed by another key under a trusted key id.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	d := f.delivery(1, push.APNs, push.Notification{"message": "m"})
	d.Creds = &push.Credentials{APNsKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		APNsKeyID: f.creds.APNsKeyID, APNsTeamID: f.creds.APNsTeamID, APNsTopic: bundle}
	err = f.p.Send(ctx(t), d)
	if err == nil || !strings.Contains(err.Error(), "403 InvalidProviderToken") {
		t.Errorf("JWT by another key: %v, want 403 InvalidProviderToken", err)
	}

	// The right key with another team id.
	d.Creds = &push.Credentials{APNsKey: f.creds.APNsKey, APNsKeyID: f.creds.APNsKeyID, APNsTeamID: "OTHERTEAM1", APNsTopic: bundle}
	if err := f.p.Send(ctx(t), d); err == nil || !strings.Contains(err.Error(), "403 InvalidProviderToken") {
		t.Errorf("wrong team: %v, want 403 InvalidProviderToken", err)
	}

	// A topic the test did not set.
	d = f.delivery(2, push.APNs, push.Notification{"message": "m"})
	d.Sub.Bundle = "com.example.intruder"
	if err := f.p.Send(ctx(t), d); err == nil || !strings.Contains(err.Error(), "400 TopicDisallowed") {
		t.Errorf("wrong topic: %v, want 400 TopicDisallowed", err)
	}

	// HTTP/1.1 instead of HTTP/2, with an otherwise valid request.
	h1 := f.srv.Client()
	tr := h1.Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	tr.TLSClientConfig.NextProtos = nil // no ALPN: the server can only speak HTTP/1.1
	h1 = &http.Client{Transport: tr}
	p1 := apns.New(apns.Config{Production: f.srv.URL(), Development: f.srv.URL(), Client: h1})
	if err := p1.Send(ctx(t), f.delivery(3, push.APNs, push.Notification{"message": "m"})); err == nil || !strings.Contains(err.Error(), "HTTP2Required") {
		t.Errorf("HTTP/1.1 push: %v, want refused with HTTP2Required", err)
	}

	// A request with no authorization, and one without aps.
	req := func(auth, body string) int {
		r, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, f.srv.URL()+"/3/device/"+token, strings.NewReader(body))
		r.Header.Set("apns-topic", bundle)
		r.Header.Set("apns-push-type", "alert")
		if auth != "" {
			r.Header.Set("authorization", auth)
		}
		res, err := f.srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.ProtoMajor != 2 {
			t.Errorf("answered over HTTP/%d", res.ProtoMajor)
		}
		return res.StatusCode
	}
	if s := req("", `{"aps":{}}`); s != http.StatusForbidden {
		t.Errorf("no authorization: %d, want 403", s)
	}
	if s := req("bearer x.y.z", `{"aps":{}}`); s != http.StatusForbidden {
		t.Errorf("garbage JWT: %d, want 403", s)
	}

	if n := len(f.srv.Received()); n != 0 {
		t.Errorf("the endpoint accepted %d refused pushes", n)
	}
}

func BenchmarkSend(b *testing.B) {
	f := setup(b)
	var id atomic.Int64
	c := context.Background()
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := f.delivery(id.Add(1), push.APNs, push.Notification{"message": "Mira Holm: How are you today?", "ios_badge": 3, "dialog_id": "65a1f0c2e4b0a1b2c3d4e5f6"})
			if err := f.p.Send(c, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
}
