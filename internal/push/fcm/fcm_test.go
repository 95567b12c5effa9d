package fcm

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/pushtest"
)

// setup starts the local FCM and a Provider pointed at it.
func setup(t testing.TB) (*pushtest.FCM, *Provider, *push.Credentials) {
	t.Helper()
	f := pushtest.NewFCM(t)
	p := New(Config{Endpoint: f.Endpoint(), Client: f.Client()})
	return f, p, &push.Credentials{FCMServiceAccount: f.ServiceAccount()}
}

func delivery(id int64, token string, creds *push.Credentials, note push.Notification) push.Delivery {
	return push.Delivery{
		ID:    id,
		Sub:   push.Subscription{ID: id, Channel: push.GCM, Platform: "android", Token: token},
		Creds: creds,
		Note:  note,
	}
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// decode makes a Notification as the API decodes an event's message.
func decode(t *testing.T, s string) push.Notification {
	t.Helper()
	var n push.Notification
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUniversalToV1(t *testing.T) {
	f, p, creds := setup(t)
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }

	note := decode(t, `{
		"message": "Alice: hi",
		"ios_badge": 3, "ios_sound": "default", "ios_content_available": 1, "ios_mutable_content": 1,
		"ios_category": "chat", "ios_voip": 1, "ios_push_type": "alert", "ios_thread_id": "d1",
		"ios_loc_data": {"title_loc_key": "T", "body_loc_args": ["a"]},
		"expiration": 1800000600,
		"android_fcm_notification": {"title": "Alice", "body": "hi", "image": "https://x.test/a.png",
			"icon": "ic_chat", "sound": "ping", "tag": "t", "color": "#ff0000", "click_action": "OPEN",
			"android_channel_id": "chats", "not_an_fcm_field": 1},
		"dialog_id": "65a1f0c2e4b0a1b2c3d4e5f6", "user_id": 29085, "flag": true, "extra": {"a": [1, "b"]},
		"from": "reserved by FCM", "gcm.x": "reserved too"
	}`)
	if err := p.Send(waitCtx(t), delivery(41, "dev-token-1", creds, note)); err != nil {
		t.Fatal(err)
	}
	got, err := f.Wait(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.Token != "dev-token-1" || m.Project != f.Project() {
		t.Errorf("token %q project %q", m.Token, m.Project)
	}
	wantData := map[string]string{
		"message":   "Alice: hi",
		"dialog_id": "65a1f0c2e4b0a1b2c3d4e5f6",
		"user_id":   "29085",
		"flag":      "true",
		"extra":     `{"a":[1,"b"]}`,
	}
	if !reflect.DeepEqual(m.Data, wantData) {
		t.Errorf("data = %v, want %v (no ios_* keys, no reserved keys)", m.Data, wantData)
	}
	wantNote := map[string]any{"title": "Alice", "body": "hi", "image": "https://x.test/a.png"}
	if !reflect.DeepEqual(m.Notification, wantNote) {
		t.Errorf("notification = %v, want %v", m.Notification, wantNote)
	}
	wantAndroid := map[string]any{
		"priority": "high",
		"ttl":      "600s",
		"notification": map[string]any{"icon": "ic_chat", "sound": "ping", "tag": "t", "color": "#ff0000",
			"click_action": "OPEN", "channel_id": "chats"},
	}
	if !reflect.DeepEqual(m.Android, wantAndroid) {
		t.Errorf("android = %v, want %v", m.Android, wantAndroid)
	}
}

func TestUniversalEdges(t *testing.T) {
	f, p, creds := setup(t)
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	cases := []struct {
		name        string
		note        string
		wantAndroid map[string]any
		wantData    map[string]string
	}{
		{"past expiration is 0s, no message no priority", `{"expiration": 1700000000, "k": "v"}`,
			map[string]any{"ttl": "0s"}, map[string]string{"k": "v"}},
		{"expiration as a numeric string", `{"message": "m", "expiration": "1800000030"}`,
			map[string]any{"ttl": "30s", "priority": "high"}, map[string]string{"message": "m"}},
		{"unreadable expiration is no ttl", `{"message": "m", "expiration": "soon"}`,
			map[string]any{"priority": "high"}, map[string]string{"message": "m"}},
		{"only ios keys: no data", `{"ios_badge": 1}`,
			map[string]any{}, nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := p.Send(waitCtx(t), delivery(int64(i+1), "tok", creds, decode(t, c.note))); err != nil {
				t.Fatal(err)
			}
			got, err := f.Wait(waitCtx(t), i+1)
			if err != nil {
				t.Fatal(err)
			}
			m := got[i]
			if !reflect.DeepEqual(m.Android, c.wantAndroid) {
				t.Errorf("android = %v, want %v", m.Android, c.wantAndroid)
			}
			if len(m.Data) != 0 || len(c.wantData) != 0 {
				if !reflect.DeepEqual(m.Data, c.wantData) {
					t.Errorf("data = %v, want %v", m.Data, c.wantData)
				}
			}
		})
	}
}

func TestRawPayload(t *testing.T) {
	f, p, creds := setup(t)
	for i, raw := range []string{
		`{"data": {"call": "1"}, "android": {"priority": "high", "ttl": "30s"}, "topic": "news"}`,
		`{"message": {"data": {"call": "1"}, "android": {"priority": "high", "ttl": "30s"}}}`,
	} {
		d := delivery(int64(7+i), "dev-raw", creds, nil)
		d.Raw = json.RawMessage(raw)
		if err := p.Send(waitCtx(t), d); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got, err := f.Wait(waitCtx(t), i+1)
		if err != nil {
			t.Fatal(err)
		}
		m := got[i]
		if m.Token != "dev-raw" || !reflect.DeepEqual(m.Data, map[string]string{"call": "1"}) ||
			!reflect.DeepEqual(m.Android, map[string]any{"priority": "high", "ttl": "30s"}) {
			t.Errorf("%s: received %+v", raw, m)
		}
		if strings.Contains(string(m.JSON), "topic") {
			t.Errorf("topic was sent: %s", m.JSON)
		}
	}
	d := delivery(9, "dev-raw", creds, nil)
	d.Raw = json.RawMessage(`[1, 2]`)
	err := p.Send(waitCtx(t), d)
	var re *push.RetryError
	if err == nil || errors.As(err, &re) || errors.Is(err, push.ErrGone) {
		t.Errorf("a payload that is not an object: %v, want a final error", err)
	}
}

func TestTokenReused(t *testing.T) {
	f, p, creds := setup(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- p.Send(waitCtx(t), delivery(int64(i), "tok", creds, push.Notification{"message": "m"}))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Wait(waitCtx(t), n); err != nil {
		t.Fatal(err)
	}
	if c := f.TokenRequests(); c != 1 {
		t.Errorf("%d token requests for %d sends, want 1", c, n)
	}
	// A second provider has its own cache: the key is what is cached,
	// not a global.
	p2 := New(Config{Endpoint: f.Endpoint(), Client: f.Client()})
	if err := p2.Send(waitCtx(t), delivery(99, "tok", creds, push.Notification{"message": "m"})); err != nil {
		t.Fatal(err)
	}
	if c := f.TokenRequests(); c != 2 {
		t.Errorf("%d token requests after a second provider's send, want 2", c)
	}
}

func TestUnauthorizedRefreshesToken(t *testing.T) {
	f, p, creds := setup(t)
	send := func(id int64) error {
		return p.Send(waitCtx(t), delivery(id, "tok", creds, push.Notification{"message": "m"}))
	}
	if err := send(1); err != nil {
		t.Fatal(err)
	}
	f.RevokeTokens()
	err := send(2)
	var re *push.RetryError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("send with a revoked token: %v, want a RetryError for the 401", err)
	}
	if err := send(3); err != nil {
		t.Fatalf("send after the 401: %v", err)
	}
	if c := f.TokenRequests(); c != 2 {
		t.Errorf("%d token requests, want 2 (the first and the refresh)", c)
	}
	if got := len(f.Received()); got != 2 {
		t.Errorf("%d accepted, want 2", got)
	}
}

func TestGone(t *testing.T) {
	f, p, creds := setup(t)
	f.Unregister("old-device")
	f.Invalid("garbage-token")
	for _, tok := range []string{"old-device", "garbage-token"} {
		err := p.Send(waitCtx(t), delivery(1, tok, creds, push.Notification{"message": "m"}))
		if !errors.Is(err, push.ErrGone) {
			t.Errorf("%s: %v, want ErrGone", tok, err)
		}
	}
	if err := p.Send(waitCtx(t), delivery(1, "", creds, push.Notification{"message": "m"})); !errors.Is(err, push.ErrGone) {
		t.Errorf("empty token: %v, want ErrGone", err)
	}
	if n := len(f.Received()); n != 0 {
		t.Errorf("%d accepted, want 0", n)
	}
}

func TestRetryAnswers(t *testing.T) {
	f, p, creds := setup(t)
	date := time.Now().Add(3 * time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		status    int
		header    string
		wantAfter time.Duration
	}{
		{429, "7", 7 * time.Second},
		{503, "120", 2 * time.Minute},
		{503, "", 0},
		{429, "999999", time.Hour},
		{503, date, time.Hour}, // an HTTP-date three hours on is capped
	}
	for _, c := range cases {
		f.FailNext(1, c.status, c.header)
		err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"}))
		var re *push.RetryError
		if !errors.As(err, &re) {
			t.Errorf("%d %q: %v, want a RetryError", c.status, c.header, err)
			continue
		}
		if re.After != c.wantAfter {
			t.Errorf("%d %q: After = %s, want %s", c.status, c.header, re.After, c.wantAfter)
		}
	}
	if err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"})); err != nil {
		t.Errorf("send after the failures: %v", err)
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		"0":         0,
		"-5":        0,
		"not-a-val": 0,
	} {
		if got := push.RetryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestPlainBadRequestIsFinal(t *testing.T) {
	f, p, creds := setup(t)
	d := delivery(1, "tok", creds, nil)
	d.Raw = json.RawMessage(`{"data": {"n": 1}}`) // FCM wants string data values
	err := p.Send(waitCtx(t), d)
	var re *push.RetryError
	if err == nil || errors.As(err, &re) || errors.Is(err, push.ErrGone) {
		t.Fatalf("%v, want a final error", err)
	}
	if !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "INVALID_ARGUMENT") {
		t.Errorf("error %q does not name the status and FCM's answer", err)
	}
	if n := len(f.Received()); n != 0 {
		t.Errorf("%d accepted, want 0", n)
	}
}

func TestNoCredentials(t *testing.T) {
	_, p, _ := setup(t)
	for _, c := range []*push.Credentials{nil, {}, {VAPIDPublicKey: "x"}} {
		if err := p.Send(waitCtx(t), delivery(1, "tok", c, push.Notification{"message": "m"})); !errors.Is(err, push.ErrNoCredentials) {
			t.Errorf("creds %+v: %v, want ErrNoCredentials", c, err)
		}
	}
}

func TestBadServiceAccount(t *testing.T) {
	f, p, creds := setup(t)
	// A key the token endpoint does not know (another private key under
	// the same account): Google refuses the grant; retrying cannot help.
	var acct map[string]string
	if err := json.Unmarshal(creds.FCMServiceAccount, &acct); err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	acct["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	wrong, _ := json.Marshal(acct)
	var re *push.RetryError
	for name, key := range map[string][]byte{
		"unknown key":  wrong,
		"not json":     []byte("{nope"),
		"not a key":    []byte(`{"type": "authorized_user"}`),
		"no project":   mustDelete(t, creds.FCMServiceAccount, "project_id"),
		"no signature": mustDelete(t, creds.FCMServiceAccount, "private_key"),
	} {
		err := p.Send(waitCtx(t), delivery(1, "tok", &push.Credentials{FCMServiceAccount: key}, push.Notification{"message": "m"}))
		if err == nil || errors.As(err, &re) || errors.Is(err, push.ErrGone) {
			t.Errorf("%s: %v, want a final error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
	if n := len(f.Received()); n != 0 {
		t.Errorf("%d accepted, want 0", n)
	}
}

func mustDelete(t *testing.T, key []byte, field string) []byte {
	var m map[string]any
	if err := json.Unmarshal(key, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, field)
	b, _ := json.Marshal(m)
	return b
}

func TestHangReturnsByDeadline(t *testing.T) {
	f, p, creds := setup(t)
	if err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"})); err != nil {
		t.Fatal(err)
	}
	f.Hang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Send(ctx, delivery(2, "tok", creds, push.Notification{"message": "m"})) }()
	select {
	case err := <-done:
		var re *push.RetryError
		if !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v, want a RetryError for the deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its deadline")
	}
	f.Hang(false)
	if n := len(f.Received()); n != 1 {
		t.Errorf("%d accepted, want 1", n)
	}
}

func TestHangOnTokenFetchReturnsByDeadline(t *testing.T) {
	// A token endpoint that never answers: the fetch is bounded by the
	// send's context even though the oauth2 library does not pass it on.
	block := make(chan struct{})
	f, _, creds := setup(t)
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-block:
			return nil, errors.New("unblocked")
		}
	})}
	defer close(block)
	p := New(Config{Endpoint: f.Endpoint(), Client: client})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Send(ctx, delivery(1, "tok", creds, push.Notification{"message": "m"})) }()
	select {
	case err := <-done:
		var re *push.RetryError
		if !errors.As(err, &re) {
			t.Errorf("%v, want a RetryError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its deadline")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNetworkErrorRetries(t *testing.T) {
	f, _, creds := setup(t)
	p := New(Config{Endpoint: "http://127.0.0.1:1", Client: f.Client()}) // nothing listens on port 1
	err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"}))
	var re *push.RetryError
	if !errors.As(err, &re) {
		t.Errorf("%v, want a RetryError", err)
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	f, p, creds := setup(t)
	if err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"})); err != nil {
		t.Fatal(err)
	}
	f.RevokeTokens()
	err := p.Send(waitCtx(t), delivery(2, "tok", creds, push.Notification{"message": "m"}))
	if err == nil || strings.Contains(err.Error(), "ya29.") || strings.Contains(err.Error(), "PRIVATE") {
		t.Errorf("error %v: want an error naming neither the token nor the key", err)
	}
}

// The local server refuses what Google refuses: these prove the test
// endpoints are strict enough for the tests above to mean something.

func grant(t *testing.T, f *pushtest.FCM, key *rsa.PrivateKey, claims jwt.MapClaims) int {
	t.Helper()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.Client().PostForm(f.TokenURL(), url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {assertion},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func accountKey(t *testing.T, f *pushtest.FCM) *rsa.PrivateKey {
	t.Helper()
	var acct struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(f.ServiceAccount(), &acct); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(acct.PrivateKey))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func TestServerRefusesBadGrants(t *testing.T) {
	f := pushtest.NewFCM(t)
	key := accountKey(t, f)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": f.ClientEmail(), "aud": f.TokenURL(),
			"scope": "https://www.googleapis.com/auth/firebase.messaging",
			"iat":   now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	if c := grant(t, f, key, good()); c != 200 {
		t.Fatalf("a good grant: %d", c)
	}
	with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
	for name, c := range map[string]int{
		"another key":       grant(t, f, other, good()),
		"wrong aud":         grant(t, f, key, with("aud", "https://oauth2.googleapis.com/token")),
		"wrong iss":         grant(t, f, key, with("iss", "someone@else.iam.gserviceaccount.com")),
		"no scope":          grant(t, f, key, with("scope", "https://www.googleapis.com/auth/cloud-platform")),
		"two-hour lifetime": grant(t, f, key, with("exp", now.Add(2*time.Hour).Unix())),
		"expired":           grant(t, f, key, with("exp", now.Add(-time.Hour).Unix())),
	} {
		if c != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, c)
		}
	}
	if n := f.TokenRequests(); n != 1 {
		t.Errorf("%d tokens issued, want 1", n)
	}
}

func TestServerRefusesBadSends(t *testing.T) {
	f, p, creds := setup(t)
	// Get a real access token through the provider's own path.
	if err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"})); err != nil {
		t.Fatal(err)
	}
	src, err := p.tokens.source(creds.FCMServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.token(waitCtx(t), f.Client())
	if err != nil {
		t.Fatal(err)
	}
	send := func(bearer, project, body string) int {
		req, _ := http.NewRequest(http.MethodPost, f.Endpoint()+"/v1/projects/"+project+"/messages:send", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ok := `{"message": {"token": "t", "data": {"a": "b"}}}`
	if c := send(tok.AccessToken, f.Project(), ok); c != 200 {
		t.Fatalf("a good send: %d", c)
	}
	for name, c := range map[string]int{
		"non-string data value": send(tok.AccessToken, f.Project(), `{"message": {"token": "t", "data": {"a": 1}}}`),
		"unknown top-level":     send(tok.AccessToken, f.Project(), `{"message": {"token": "t"}, "dry_run": true}`),
		"unknown message field": send(tok.AccessToken, f.Project(), `{"message": {"token": "t", "priority": "high"}}`),
		"no target":             send(tok.AccessToken, f.Project(), `{"message": {"data": {"a": "b"}}}`),
		"two targets":           send(tok.AccessToken, f.Project(), `{"message": {"token": "t", "topic": "x"}}`),
		"bad ttl":               send(tok.AccessToken, f.Project(), `{"message": {"token": "t", "android": {"ttl": 30}}}`),
	} {
		if c != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, c)
		}
	}
	if c := send("ya29.made-up", f.Project(), ok); c != http.StatusUnauthorized {
		t.Errorf("unknown bearer: %d, want 401", c)
	}
	if c := send(tok.AccessToken, "another-project", ok); c != http.StatusForbidden {
		t.Errorf("another project: %d, want 403", c)
	}
	if n := len(f.Received()); n != 2 {
		t.Errorf("%d accepted, want 2", n)
	}
}

// BenchmarkSend measures universal pushes through the local FCM, with a
// cached access token, from parallel senders.
func BenchmarkSend(b *testing.B) {
	f, p, creds := setup(b)
	note := push.Notification{"message": "Mira: How are you?", "dialog_id": "65a1f0c2e4b0a1b2c3d4e5f6", "ios_badge": 3}
	var id atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := p.Send(ctx, delivery(id.Add(1), "tok", creds, note)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
	if n := f.TokenRequests(); n != 1 {
		b.Errorf("%d token requests, want 1", n)
	}
}

func TestTokenEndpointUnavailableRetries(t *testing.T) {
	f, _, creds := setup(t)
	// Google's token endpoint answering 503 (through a client that stands
	// in for it); the send endpoint is never reached.
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path != "/token" {
			t.Errorf("unexpected request to %s", r.URL.Path)
		}
		return &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"5"}},
			Body: http.NoBody, Request: r}, nil
	})}
	p := New(Config{Endpoint: f.Endpoint(), Client: client})
	err := p.Send(waitCtx(t), delivery(1, "tok", creds, push.Notification{"message": "m"}))
	var re *push.RetryError
	if !errors.As(err, &re) || re.After != 5*time.Second {
		t.Errorf("%v, want a RetryError after 5s", err)
	}
}
