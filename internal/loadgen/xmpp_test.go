package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/loadgen"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/servertest"
)

// bounded is the context of a load run in a test: a run that hangs fails
// the test instead of stalling the suite.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// history returns, for a user signed up by the load tool (login
// prefix+index), the number of dialogs it has and the messages of its
// first dialog, over REST.
func history(t *testing.T, env *servertest.Env, login string) (dialogs int, messages int) {
	t.Helper()
	token := env.Login(t, login, loadgen.SignupPassword)
	resp := env.Do(t, servertest.Req{Method: "GET", Path: "/chat/Dialog.json", Token: token})
	if resp.Status != http.StatusOK {
		t.Fatalf("dialogs of %s: %d %s", login, resp.Status, resp.Raw)
	}
	items, _ := resp.JSON["items"].([]any)
	if int(resp.JSON["total_entries"].(float64)) != len(items) {
		t.Fatalf("dialogs of %s: %s", login, resp.Raw)
	}
	if len(items) == 0 {
		return 0, 0
	}
	id := items[0].(map[string]any)["_id"].(string)
	resp = env.Do(t, servertest.Req{Method: "GET", Path: "/chat/Message.json?limit=1000&chat_dialog_id=" + id, Token: token})
	if resp.Status != http.StatusOK {
		t.Fatalf("messages of %s: %d %s", login, resp.Status, resp.Raw)
	}
	msgs, _ := resp.JSON["items"].([]any)
	return len(items), len(msgs)
}

// Plain XMPP over TCP against the real server (SASL PLAIN without TLS,
// restart, bind, presence): every message is delivered, and with
// save_to_history each one is in the pair's dialog.
func TestRunXMPPOverTCP(t *testing.T) {
	env := servertest.Start(t)
	rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
		APIURL: env.URL, AppID: env.App.ID, AuthKey: env.App.AuthKey, Domain: "localhost",
		Transport: "tcp", XMPPAddr: env.XMPP, LoginPrefix: "tcp_",
		Conns: 6, Pairs: 2, Messages: 25, Window: 3, Drain: 10 * time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Transport != "tcp" || rep.Sent != 50 || rep.Delivered != 50 || rep.Lost != 0 || rep.ConnectRate <= 0 || rep.P99 <= 0 {
		t.Fatalf("report = %+v", rep)
	}
	// Pair 0 is user 0 writing to user 2 (Pairs = 2).
	for _, login := range []string{"tcp_0", "tcp_2"} {
		if d, m := history(t, env, login); d != 1 || m != 25 {
			t.Errorf("%s: %d dialogs, %d messages in the first; want 1 dialog of 25", login, d, m)
		}
	}
}

// Routing only (no save_to_history), time-based, a closed-loop and an
// open-loop phase over the same sessions: every message delivered, none
// lost, nothing stored; the server's CPU is read over each window (the
// server runs in this process).
func TestRunXMPPRoutingOnly(t *testing.T) {
	// A timed closed loop of 3 senders saturates the server on purpose:
	// each sends a few thousand stanzas a second on loopback, over the
	// per-session rate real clients get (--max-stanza-rate), so lift it.
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
		APIURL: env.URL, AppID: env.App.ID, AuthKey: env.App.AuthKey, Domain: "localhost",
		Transport: "tcp", XMPPAddr: env.XMPP, LoginPrefix: "route_", NoHistory: true,
		Conns: 8, Pairs: 3, Window: 4, Rates: []float64{0, 300},
		Warmup: 200 * time.Millisecond, Duration: 800 * time.Millisecond, Drain: 10 * time.Second,
		StanzaBytes: 175, ServerPID: os.Getpid(), Settle: 10 * time.Millisecond,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 || rep.RSSPerConnKiB < 0 {
		t.Fatalf("report = %+v", rep)
	}
	for _, p := range rep.Phases {
		if p.Sent == 0 || p.Delivered != p.Sent || p.Lost != 0 || p.Errors != 0 || p.Measured == 0 ||
			p.DeliveredRate <= 0 || p.P99 <= 0 || p.CPUMsPer1000 <= 0 || p.StanzaBytes != 175 || p.Seconds != 0.8 ||
			p.ToolCPU <= 0 || p.OtherCPU < 0 {
			t.Errorf("phase %+v", p)
		}
	}
	// The open loop offers 300/s for 1 s: 300 messages, all sent on schedule.
	if open := rep.Phases[1]; open.Rate != 300 || open.Offered != 300 || open.Sent != 300 {
		t.Errorf("open loop: offered %d, sent %d; want 300 and 300", open.Offered, open.Sent)
	}
	for _, login := range []string{"route_0", "route_3"} {
		if d, m := history(t, env, login); d != 0 || m != 0 {
			t.Errorf("%s: %d dialogs, %d messages; routed messages must not be stored", login, d, m)
		}
	}
}

// Existing accounts (a users file) instead of REST sign-up, over
// WebSocket: the login uses the account's JID and password as given.
func TestRunXMPPWithAccounts(t *testing.T) {
	env := servertest.Start(t)
	var file strings.Builder
	for i := 0; i < 4; i++ {
		u := env.NewUser(t)
		fmt.Fprintf(&file, "%d-%d@localhost %s\n", u.ID, env.App.ID, u.Password)
	}
	accounts, err := loadgen.ReadAccounts(strings.NewReader("# users\n\n" + file.String()))
	if err != nil || len(accounts) != 4 {
		t.Fatalf("accounts %v, %v", accounts, err)
	}
	rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
		WSURL: env.WSURL, Domain: "localhost", Accounts: accounts, NoHistory: true,
		Conns: 4, Pairs: 2, Messages: 10, Window: 2, Drain: 10 * time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 20 || rep.Delivered != 20 || rep.Lost != 0 {
		t.Fatalf("report = %+v", rep)
	}
}

// A refused login ends the run at once with an error naming the account,
// over both transports.
func TestRunXMPPBadPassword(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	for _, tr := range []string{"ws", "tcp"} {
		start := time.Now()
		_, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
			WSURL: env.WSURL, XMPPAddr: env.XMPP, Transport: tr, Domain: "localhost",
			Accounts: []loadgen.Account{{JID: fmt.Sprintf("%d-%d@localhost", u.ID, env.App.ID), Password: "wrong-password"}},
			Conns:    1, Messages: 1,
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d-%d@localhost", u.ID, env.App.ID)) || time.Since(start) > 20*time.Second {
			t.Errorf("%s: err = %v after %v; want the login refused, naming the account", tr, err, time.Since(start))
		}
	}
}

func TestReadAccounts(t *testing.T) {
	got, err := loadgen.ReadAccounts(strings.NewReader("user1@localhost pass\n  user2@localhost  pass2 \n"))
	if err != nil || len(got) != 2 || got[1] != (loadgen.Account{JID: "user2@localhost", Password: "pass2"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"user1 pass\n", "user1@localhost\n", "a@b c d\n"} {
		if _, err := loadgen.ReadAccounts(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v; want line 1 refused", bad, err)
		}
	}
	if p := loadgen.PeerAccounts(3, "localhost", "pass"); len(p) != 3 || p[2].JID != "user3@localhost" || p[0].Password != "pass" {
		t.Errorf("peer accounts %v", p)
	}
}

// With --markers every receiver answers each delivery with a 'received'
// marker: the server records each one (the receiver is in the message's
// delivered_ids), while every message is still delivered once.
func TestRunXMPPWithMarkers(t *testing.T) {
	env := servertest.Start(t)
	rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
		APIURL: env.URL, AppID: env.App.ID, AuthKey: env.App.AuthKey, Domain: "localhost",
		Transport: "tcp", XMPPAddr: env.XMPP, LoginPrefix: "mark_", Markers: true,
		Conns: 4, Pairs: 2, Messages: 20, Window: 4, Drain: 10 * time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 40 || rep.Delivered != 40 || rep.Lost != 0 {
		t.Fatalf("report = %+v", rep)
	}
	// Pair 0 is user 0 writing to user 2; the markers are recorded before
	// they are routed, and the run ends after the last delivery, so wait
	// (bounded) for the last ones.
	token := env.Login(t, "mark_0", loadgen.SignupPassword)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := env.Do(t, servertest.Req{Method: "GET", Path: "/chat/Dialog.json", Token: token})
		id := d.JSON["items"].([]any)[0].(map[string]any)["_id"].(string)
		resp := env.Do(t, servertest.Req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&limit=100&chat_dialog_id=" + id, Token: token})
		msgs := resp.JSON["items"].([]any)
		marked := 0
		for _, m := range msgs {
			m := m.(map[string]any)
			for _, u := range m["delivered_ids"].([]any) {
				if u == m["recipient_id"] {
					marked++
				}
			}
		}
		if len(msgs) == 20 && marked == 20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages, %d with the receiver in delivered_ids; want 20 and 20", len(msgs), marked)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Groups: each sender posts to its group's room; every other member gets
// every message once, the sender's echo paces it, and each group's
// history holds its messages.
func TestRunXMPPGroups(t *testing.T) {
	env := servertest.Start(t)
	rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
		APIURL: env.URL, AppID: env.App.ID, AuthKey: env.App.AuthKey, Domain: "localhost",
		Transport: "tcp", XMPPAddr: env.XMPP, LoginPrefix: "grp_", GroupSize: 4,
		Conns: 9, Pairs: 2, Messages: 15, Window: 3, Drain: 10 * time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// 2 groups × 15 messages, each to 3 receivers.
	if rep.Sent != 30 || rep.Delivered != 90 || rep.Lost != 0 || rep.P99 <= 0 {
		t.Fatalf("report = %+v", rep)
	}
	// Group 1 is user 1 with users 5, 6, 7 (after the 2 senders, 3 each).
	for _, login := range []string{"grp_1", "grp_5", "grp_7"} {
		if d, m := history(t, env, login); d != 1 || m != 15 {
			t.Errorf("%s: %d dialogs, %d messages in the first; want 1 dialog of 15", login, d, m)
		}
	}
	if d, _ := history(t, env, "grp_8"); d != 0 {
		t.Errorf("grp_8 is in no group, has %d dialogs", d)
	}
	for _, bad := range []loadgen.XMPPConfig{
		{Conns: 9, Pairs: 2, GroupSize: 2, Messages: 1},
		{Conns: 7, Pairs: 2, GroupSize: 4, Messages: 1},
		{Conns: 9, Pairs: 2, GroupSize: 4, Messages: 1, Markers: true},
	} {
		if _, err := loadgen.RunXMPP(bounded(t), bad, io.Discard); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// The status fan-out against the real server over WebSocket: every
// watcher gets every watched user's "online" push, counted once each,
// with latencies.
func TestRunStatus(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	rep, err := loadgen.RunStatus(bounded(t), loadgen.StatusConfig{
		XMPPConfig: loadgen.XMPPConfig{APIURL: env.URL, WSURL: env.WSURL, AppID: env.App.ID, AuthKey: env.App.AuthKey,
			Domain: "localhost", LoginPrefix: "status_"},
		Watchers: 7, Watched: 3, Wait: 20 * time.Second, Quiet: 200 * time.Millisecond,
	}, io.Discard)
	if err != nil {
		t.Fatalf("%v; report %+v", err, rep)
	}
	if rep.Expected != 21 || rep.Received != 21 || rep.Missing != 0 || rep.P50 <= 0 || rep.P99 < rep.P50 || rep.Max < rep.P99 ||
		len(rep.Users) != 3 || rep.ConnectRate <= 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, u := range rep.Users {
		if u.Received != 7 || u.P99 <= 0 || !strings.HasSuffix(u.JID, fmt.Sprintf("-%d@localhost", env.App.ID)) {
			t.Errorf("watched user %+v", u)
		}
	}
}

// With PrivacyItems every user of the run has a default block list of
// that many items, in the SDK's shape, naming only the extra users signed
// up for it: the lists block them and nothing of the run, whose messages
// (1-1 over TCP, a group over WebSocket) are all delivered.
func TestRunXMPPBlockLists(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	for _, c := range []struct {
		prefix    string
		transport string
		conns     int
		pairs     int
		group     int
	}{
		{"bl1_", "tcp", 4, 2, 0},
		{"blg_", "ws", 3, 1, 3},
	} {
		t.Run(c.prefix, func(t *testing.T) {
			rep, err := loadgen.RunXMPP(bounded(t), loadgen.XMPPConfig{
				APIURL: env.URL, WSURL: env.WSURL, XMPPAddr: env.XMPP, Transport: c.transport, AppID: env.App.ID,
				AuthKey: env.App.AuthKey, Domain: "localhost", LoginPrefix: c.prefix,
				Conns: c.conns, Pairs: c.pairs, GroupSize: c.group, Messages: 10, Window: 2, Drain: 10 * time.Second,
				PrivacyItems: 6,
			}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			fanout := int64(1)
			if c.group > 0 {
				fanout = int64(c.group - 1)
			}
			if rep.PrivacyItems != 6 || rep.BlockListSeconds <= 0 || rep.Sent != int64(c.pairs*10) ||
				rep.Delivered != rep.Sent*fanout || rep.Lost != 0 {
				t.Fatalf("report %+v", rep)
			}
			ctx := context.Background()
			id := func(i int) int64 {
				u, err := env.Server.Auth.UserBy(ctx, env.App.ID, "login", fmt.Sprintf("%s%d", c.prefix, i))
				if err != nil {
					t.Fatal(err)
				}
				return u.ID
			}
			var outsiders []int64
			for i := c.conns; i < c.conns+3; i++ {
				outsiders = append(outsiders, id(i))
			}
			if _, err := env.Server.Auth.UserBy(ctx, env.App.ID, "login", fmt.Sprintf("%s%d", c.prefix, c.conns+3)); err == nil {
				t.Fatalf("more than 3 outsiders signed up for 6 items")
			}
			slices.Sort(outsiders) // the SDK's order: ascending user ids
			for i := 0; i < c.conns; i++ {
				u := id(i)
				names, err := env.Server.Privacy.Names(ctx, env.App.ID, u)
				if err != nil || names.Default == "" || len(names.Lists) != 1 || names.Lists[0] != names.Default {
					t.Fatalf("user %d: names %+v, %v", i, names, err)
				}
				l, err := env.Server.Privacy.Get(ctx, env.App.ID, u, names.Default)
				if err != nil || len(l.Items) != 6 {
					t.Fatalf("user %d: list %+v, %v", i, l, err)
				}
				for k, it := range l.Items {
					o := outsiders[k/2]
					want := fmt.Sprintf("%d-%d@localhost", o, env.App.ID)
					if k%2 == 1 {
						want = fmt.Sprintf("muc.localhost/%d", o)
					}
					if it.Type != "jid" || it.Value != want || it.Action != "deny" || it.Order != uint32(k+1) ||
						it.Kinds != privacy.Message|privacy.IQ|privacy.PresenceIn|privacy.PresenceOut {
						t.Errorf("user %d item %d: %+v; want %s", i, k, it, want)
					}
				}
				if !env.Server.Privacy.Denies(ctx, env.App.ID, u, outsiders[0], privacy.Direct, privacy.Message) ||
					!env.Server.Privacy.Denies(ctx, env.App.ID, u, outsiders[2], privacy.Room, privacy.Message) {
					t.Errorf("user %d: the outsiders are not blocked", i)
				}
				if env.Server.Privacy.Denies(ctx, env.App.ID, u, id((i+1)%c.conns), privacy.Direct, privacy.Message) {
					t.Errorf("user %d blocks a user of the run", i)
				}
			}
			for _, o := range outsiders {
				if names, err := env.Server.Privacy.Names(ctx, env.App.ID, o); err != nil || names.Default != "" || len(names.Lists) != 0 {
					t.Errorf("outsider %d has lists: %+v, %v", o, names, err)
				}
			}
		})
	}
}
