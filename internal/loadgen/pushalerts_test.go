package loadgen_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/loadgen"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/servertest"
)

// The push-alerts scenario against the real server and its dispatcher:
// every user gets a Web Push subscription to the load tool's sink, every
// session is inactive yet receives every message live, and the server
// sends one alert per message delivered, which the sink counts (over TCP
// and over WebSocket, whose framing carries the nonza on its own; once
// with a sink that answers slowly, which must not lose a message).
func TestRunXMPPPushAlerts(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	subject := "mailto:bench@example.com"
	if _, err := env.Server.Push.UpdateSettings(t.Context(), env.App.ID, push.SettingsInput{VAPIDGenerate: true, VAPIDSubject: &subject}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prefix, transport string
		delay             time.Duration
	}{
		{"alt_", "tcp", 0},
		{"alw_", "ws", 0},
		{"als_", "tcp", 200 * time.Millisecond},
	} {
		t.Run(c.prefix, func(t *testing.T) {
			rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
				APIURL: env.URL, WSURL: env.WSURL, XMPPAddr: env.XMPP, Transport: c.transport, AppID: env.App.ID,
				AuthKey: env.App.AuthKey, Domain: "localhost", LoginPrefix: c.prefix,
				Conns: 5, Pairs: 2, Messages: 6, Window: 2, Drain: 20 * time.Second,
				PushAlerts: true, PushSinkDelay: c.delay,
			}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != 12 || rep.Delivered != 12 || rep.Lost != 0 {
				t.Fatalf("chat: %+v", rep)
			}
			if !rep.PushAlerts || rep.PushSetupSeconds <= 0 || rep.PushesExpected != 12 || rep.PushesDrained != 12 ||
				rep.PushesRun > rep.PushesDrained || rep.PushBytes <= 0 || rep.PushSinkDelayNs != int64(c.delay) {
				t.Fatalf("pushes: %+v", rep)
			}
			// Every session's user, the idle fifth too, holds one web
			// subscription to the sink.
			for i := 0; i < 5; i++ {
				token := env.Login(t, c.prefix+strconv.Itoa(i), loadgen.SignupPassword)
				resp := env.Do(t, servertest.Req{Method: "GET", Path: "/subscriptions.json", Token: token})
				var subs []struct {
					Subscription struct {
						Channel struct{ Name string } `json:"notification_channel"`
					} `json:"subscription"`
				}
				if err := json.Unmarshal(resp.Raw, &subs); err != nil || resp.Status != http.StatusOK || len(subs) != 1 ||
					subs[0].Subscription.Channel.Name != "web" {
					t.Fatalf("user %d: subscriptions %d %s", i, resp.Status, resp.Raw)
				}
			}
		})
	}
}
