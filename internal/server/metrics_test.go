package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// samples is one scrape: every sample by name and sorted labels, as
// `name{a="x",b="y"}`; a histogram gives name_count and name_sum.
type samples map[string]float64

func scrape(t *testing.T, env *servertest.Env) samples {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + env.Server.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: parse: %v", err)
	}
	out := samples{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := func(n string) string {
				if len(labels) == 0 {
					return n
				}
				return n + "{" + strings.Join(labels, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key(name)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(name)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key(name+"_count")] = float64(m.GetHistogram().GetSampleCount())
				out[key(name+"_sum")] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// want asserts that every named sample is present with its value.
func (s samples) want(t *testing.T, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		got, ok := s[k]
		if !ok {
			t.Errorf("no sample %s", k)
		} else if got != v {
			t.Errorf("%s = %v; want %v", k, got, v)
		}
	}
}

// waitFor scrapes until cond holds, within a bounded wait, and returns
// that scrape.
func waitFor(t *testing.T, env *servertest.Env, what string, cond func(samples) bool) samples {
	t.Helper()
	var s samples
	servertest.Eventually(t, 10*time.Second, what, func() bool {
		s = scrape(t, env)
		return cond(s)
	})
	return s
}

// wsClient is a bare XMPP-over-WebSocket client: enough to log in, send
// and read.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// expect reads frames until one named name, skipping others (presence,
// stream management requests).
func (c *wsClient) expect(name string) *xmpp.Element {
	c.t.Helper()
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := c.c.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("waiting for <%s>: %v", name, err)
		}
		el, err := xmpp.ParseElement(b, xmpp.Limits{})
		if err != nil {
			c.t.Fatalf("unparsable frame %q: %v", b, err)
		}
		if el.Name == name {
			return el
		}
	}
	c.t.Fatalf("no <%s> in 100 frames", name)
	return nil
}

const wsOpen = `<open version="1.0" xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost"/>`

func saslPlain(env *servertest.Env, u *servertest.User, password string) string {
	creds := base64.StdEncoding.EncodeToString([]byte("\x00" + fmt.Sprintf("%d-%d", u.ID, env.App.ID) + "\x00" + password))
	return `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + creds + `</auth>`
}

func dialWS(t *testing.T, env *servertest.Env) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, env.WSURL, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	cl := &wsClient{t: t, c: c}
	cl.send(wsOpen)
	cl.expect("stream:features")
	return cl
}

// xmppLogin logs u in over WebSocket, binds and sends initial presence;
// a ping's answer proves the session available.
func xmppLogin(t *testing.T, env *servertest.Env, u *servertest.User) *wsClient {
	t.Helper()
	c := dialWS(t, env)
	c.send(saslPlain(env, u, u.Password))
	c.expect("success")
	c.send(wsOpen)
	c.expect("stream:features")
	c.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	c.expect("iq")
	c.send(`<presence xmlns="jabber:client"/>`)
	c.send(`<iq type="get" id="p1" to="localhost" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	if r := c.expect("iq"); r.Attr("id") != "p1" {
		t.Fatalf("ping answer %s", r.AppendXML(nil))
	}
	return c
}

// saved asks for the message to be stored (REALTIME.md §6).
const saved = `<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams>`

func userJID(env *servertest.Env, u *servertest.User) string {
	return fmt.Sprintf("%d-%d@localhost", u.ID, env.App.ID)
}

// The metrics listener is off by default, and never on the public one.
func TestMetricsOnlyOnTheMetricsAddress(t *testing.T) {
	if off := servertest.Start(t); off.Server.MetricsAddr() != "" {
		t.Fatal("a metrics listener without --metrics-addr")
	}
	env := servertest.Start(t, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	if r := env.Do(t, servertest.Req{Method: "GET", Path: "/metrics"}); r.Status == http.StatusOK {
		t.Fatalf("the public listener serves /metrics: %d", r.Status)
	}
	s := scrape(t, env)
	// The Go runtime's and the process's own metrics are there too.
	for _, k := range []string{"go_goroutines", "process_open_fds"} {
		if _, ok := s[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}

// Every metric moves with what it counts: logins (and failed ones) over
// REST and XMPP, connections of both transports, sessions, messages
// stored and routed, the group commits, offline messages held, REST
// routes by pattern, and the push outbox of every channel.
func TestMetricsMoveWithTheTraffic(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	s := scrape(t, env)
	s.want(t, map[string]float64{
		`parley_connections{transport="tcp"}`: 0, `parley_connections{transport="ws"}`: 0,
		`parley_sessions`: 0, `parley_messages_stored_total`: 0, `parley_messages_routed_total`: 0,
		`parley_offline_messages`: 0, `parley_outbox_bytes`: 0, `parley_push_pending_chat_alerts`: 0,
		`parley_sessions_closed_slow_total{reason="queue"}`:  0,
		`parley_sessions_closed_slow_total{reason="memory"}`: 0,
	})
	for _, ch := range []string{"apns", "apns_voip", "gcm", "web"} {
		s.want(t, map[string]float64{
			`parley_push_total{channel="` + ch + `",outcome="sent"}`:  0,
			`parley_push_outbox{channel="` + ch + `",state="queued"}`: 0,
			`parley_push_oldest_queued_seconds{channel="` + ch + `"}`: 0,
		})
	}

	alice, bob := env.NewUser(t), env.NewUser(t) // two sign-ups, two logins

	// A failed login over REST and one over XMPP.
	if r := env.Do(t, servertest.Req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": env.App.ID, "auth_key": env.App.AuthKey,
		"user": map[string]any{"login": alice.Login, "password": "not-her-password"}}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
	}
	bad := dialWS(t, env)
	bad.send(saslPlain(env, bob, "not-his-password"))
	bad.expect("failure")

	// A raw TCP connection that only opened its stream.
	nc, err := net.DialTimeout("tcp", env.XMPP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(nc, `<?xml version="1.0"?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost" version="1.0">`)
	if _, err := bufio.NewReader(nc).ReadString('>'); err != nil {
		t.Fatalf("tcp stream: %v", err)
	}

	a := xmppLogin(t, env, alice)
	b := xmppLogin(t, env, bob)
	for i := range 3 {
		a.send(fmt.Sprintf(`<message type="chat" to="%s" id="m%d" xmlns="jabber:client"><body>hello %d</body>`+saved+`</message>`, userJID(env, bob), i, i))
		if m := b.expect("message"); m.Child("body", "").Text() != fmt.Sprintf("hello %d", i) {
			t.Fatalf("bob got %s", m.AppendXML(nil))
		}
	}
	// REST: a route with an id in its path, and a path that matches none.
	env.Do(t, servertest.Req{Method: "GET", Path: fmt.Sprintf("/users/%d.json", bob.ID), Token: alice.Token})
	env.Do(t, servertest.Req{Method: "GET", Path: "/no/such/route", Token: alice.Token})
	env.Do(t, servertest.Req{Method: "OPTIONS", Path: "/chat/Dialog.json"}) // a preflight: no route

	s = scrape(t, env)
	s.want(t, map[string]float64{
		// bad, a and b; the TCP stream.
		`parley_connections{transport="ws"}`:                              3,
		`parley_connections{transport="tcp"}`:                             1,
		`parley_sessions`:                                                 2,
		`parley_messages_stored_total`:                                    3,
		`parley_messages_routed_total`:                                    3, // one copy each: bob has one session
		`parley_login_failures_total{reason="wrong_password",via="rest"}`: 1,
		`parley_login_failures_total{reason="wrong_password",via="xmpp"}`: 1,
		`parley_http_requests_total{code="201",route="POST /users"}`:      2,
		`parley_http_requests_total{code="201",route="POST /session"}`:    2,
		`parley_http_requests_total{code="401",route="POST /session"}`:    1,
		`parley_http_requests_total{code="200",route="GET /users/{id}"}`:  1,
		`parley_http_requests_total{code="404",route="unmatched"}`:        1,
		`parley_http_requests_total{code="200",route="unmatched"}`:        1, // the preflight
		`parley_http_request_duration_seconds_count{route="POST /users"}`: 2,
	})
	for k := range s {
		if strings.Contains(k, fmt.Sprintf("/users/%d", bob.ID)) || strings.Contains(k, "/no/such") {
			t.Errorf("a raw path made a series: %s", k)
		}
	}
	// Each message was committed in a batch of its own or with others;
	// the batches hold them all, and each batch has a duration.
	if n := s[`parley_commit_batch_size_count`]; n < 1 || s[`parley_commit_batch_size_sum`] < 3 ||
		s[`parley_commit_duration_seconds_count`] != n || s[`parley_commit_duration_seconds_sum`] <= 0 {
		t.Errorf("commit histograms: batches %v holding %v, durations %v summing %v", n, s[`parley_commit_batch_size_sum`],
			s[`parley_commit_duration_seconds_count`], s[`parley_commit_duration_seconds_sum`])
	}

	// A push event to bob's FCM subscription puts a push in the gcm
	// outbox (queued, or already settled: sent or dead, as the app has
	// no FCM credentials).
	if r := env.Do(t, servertest.Req{Method: "POST", Path: "/subscriptions.json", Token: bob.Token, Body: map[string]any{
		"notification_channel": "gcm", "device": map[string]any{"platform": "android", "udid": "phone"},
		"push_token": map[string]any{"environment": "development", "client_identification_sequence": "fcm-token"}}}); r.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.Status, r.Raw)
	}
	msg := base64.StdEncoding.EncodeToString([]byte(`{"message":"hi"}`))
	if r := env.Do(t, servertest.Req{Method: "POST", Path: "/events.json", Token: alice.Token, Body: map[string]any{"event": map[string]any{
		"notification_type": "push", "environment": "development", "message": msg,
		"user": map[string]any{"ids": fmt.Sprint(bob.ID)}}}}); r.Status != http.StatusCreated {
		t.Fatalf("event: %d %s", r.Status, r.Raw)
	}
	s = scrape(t, env)
	if n := s[`parley_push_outbox{channel="gcm",state="queued"}`] + s[`parley_push_outbox{channel="gcm",state="sent"}`] +
		s[`parley_push_outbox{channel="gcm",state="dead"}`]; n != 1 {
		t.Errorf("gcm outbox holds %v pushes; want 1", n)
	}
	s.want(t, map[string]float64{`parley_http_requests_total{code="201",route="POST /events"}`: 1,
		`parley_push_outbox{channel="web",state="queued"}`: 0})

	// Bob leaves; what alice sends now is held for him.
	b.c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, env, "bob's session to end", func(s samples) bool { return s[`parley_sessions`] == 1 })
	a.send(fmt.Sprintf(`<message type="chat" to="%s" id="off1" xmlns="jabber:client"><body>later</body>`+saved+`</message>`, userJID(env, bob)))
	s = waitFor(t, env, "the offline message to be kept", func(s samples) bool { return s[`parley_offline_messages`] == 1 })
	s.want(t, map[string]float64{`parley_messages_stored_total`: 4, `parley_messages_routed_total`: 3,
		`parley_connections{transport="ws"}`: 2})
}

// A client that stops reading is closed, and counted.
func TestMetricsCountSlowReaders(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MetricsAddr, c.OutQueue = "127.0.0.1:0", 4 })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a := xmppLogin(t, env, alice)
	xmppLogin(t, env, bob) // and then it stops reading
	body := strings.Repeat("x", 30<<10)
	// 200 × 30 KiB: more than socket buffers hold.
	for i := range 200 {
		a.send(fmt.Sprintf(`<message type="chat" to="%s" id="m%03d" xmlns="jabber:client"><body>%s</body></message>`, userJID(env, bob), i, body))
	}
	s := waitFor(t, env, "the slow session to be closed", func(s samples) bool {
		return s[`parley_sessions_closed_slow_total{reason="queue"}`] == 1
	})
	s.want(t, map[string]float64{`parley_sessions_closed_slow_total{reason="memory"}`: 0})
}
