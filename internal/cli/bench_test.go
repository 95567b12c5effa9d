package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// Every bad flag of bench xmpp is refused in one line naming it, before
// anything connects (the addresses here would not answer).
func TestBenchXMPPRefusals(t *testing.T) {
	short := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(short, []byte("user1@localhost pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("user1 pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		name string
	}{
		{[]string{"--auth-key", "k", "--transport", "quic"}, "--transport"},
		{[]string{"--peer", "--users-file", short}, "--users-file"},
		{[]string{"--peer", "--history=true"}, "--history"},
		{[]string{"--users-file", short, "--history"}, "--history"},
		{[]string{"--conns", "10"}, "--auth-key"},
		{[]string{"--peer", "--rate", "2000,fast"}, "--rate"},
		{[]string{"--peer", "--rate", "-5"}, "--rate"},
		{[]string{"--peer", "--conns", "0"}, "--conns"},
		{[]string{"--peer", "--conns", "10", "--pairs", "6"}, "--pairs"},
		{[]string{"--peer", "--login-concurrency", "0"}, "--login-concurrency"},
		{[]string{"--peer", "--size", "-1"}, "--size"},
		{[]string{"--peer", "--duration", "-1s"}, "--duration"},
		{[]string{"--users-file", short, "--conns", "2", "--pairs", "1"}, "--users-file"},
		{[]string{"--users-file", bad, "--conns", "1", "--pairs", "0"}, "--users-file"},
		{[]string{"--users-file", filepath.Join(t.TempDir(), "none"), "--conns", "1", "--pairs", "0"}, "--users-file"},
		{[]string{"--peer", "--bogus"}, "-bogus"},
		{[]string{"--auth-key", "k", "--privacy-items", "99"}, "--privacy-items"},
		{[]string{"--auth-key", "k", "--privacy-items", "-2"}, "--privacy-items"},
		{[]string{"--peer", "--privacy-items", "100"}, "--privacy-items"},
		{[]string{"--users-file", short, "--conns", "1", "--pairs", "0", "--privacy-items", "100"}, "--privacy-items"},
		{[]string{"--peer", "--push-alerts"}, "--push-alerts"},
		{[]string{"--users-file", short, "--conns", "1", "--pairs", "0", "--push-alerts"}, "--push-alerts"},
		{[]string{"--auth-key", "k", "--push-sink-delay", "1s"}, "--push-sink-delay"},
		{[]string{"--auth-key", "k", "--push-alerts", "--push-sink-delay", "-1s"}, "--push-sink-delay"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := append([]string{"bench", "xmpp", "--xmpp", "127.0.0.1:1", "--api", "http://127.0.0.1:1"}, c.args...)
			wantUsageError(t, run(t, nil, args...), c.name)
		})
	}
}

// The whole command against the real server over TCP with a users file:
// a closed-loop and an open-loop phase, time-based, routed only, one JSON
// report on stdout with the server's CPU per message (the server is this
// process).
func TestBenchXMPPTCPUsersFileJSON(t *testing.T) {
	// A closed loop of two senders is far above the per-session stanza
	// rate real clients are held to; benchmarks turn it off, as
	// scripts/bench-peers.sh does.
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	var file strings.Builder
	for i := 0; i < 4; i++ {
		u := env.NewUser(t)
		fmt.Fprintf(&file, "%d-%d@localhost %s\n", u.ID, env.App.ID, u.Password)
	}
	users := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(users, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "bench", "xmpp", "--transport", "tcp", "--xmpp", env.XMPP, "--users-file", users,
		"--conns", "4", "--pairs", "2", "--window", "2", "--rate", "0,100", "--warmup", "100ms", "--duration", "500ms",
		"--drain", "5s", "--size", "175", "--settle", "10ms", "--server-pid", fmt.Sprint(os.Getpid()), "--json")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	ls := lines(t, "stdout", r.stdout)
	if len(ls) != 1 {
		t.Fatalf("stdout %q; want one JSON line", r.stdout)
	}
	var rep struct {
		Transport       string  `json:"transport"`
		Conns           int     `json:"conns"`
		LoginsPerSecond float64 `json:"logins_per_second"`
		Phases          []struct {
			Name      string  `json:"name"`
			Offered   int64   `json:"offered"`
			Sent      int64   `json:"sent"`
			Delivered int64   `json:"delivered"`
			Lost      int64   `json:"lost"`
			Rate      float64 `json:"delivered_per_second"`
			P99       int64   `json:"p99_ns"`
			CPU       float64 `json:"cpu_ms_per_1000"`
			Bytes     int     `json:"stanza_bytes"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(ls[0]), &rep); err != nil {
		t.Fatalf("stdout %q: %v", ls[0], err)
	}
	if rep.Transport != "tcp" || rep.Conns != 4 || rep.LoginsPerSecond <= 0 || len(rep.Phases) != 2 {
		t.Fatalf("report %s", ls[0])
	}
	for _, p := range rep.Phases {
		if p.Sent == 0 || p.Delivered != p.Sent || p.Lost != 0 || p.Rate <= 0 || p.P99 <= 0 || p.CPU <= 0 || p.Bytes != 175 {
			t.Errorf("phase %+v", p)
		}
	}
	if p := rep.Phases[1]; p.Name != "open loop 100 msg/s" || p.Offered != 60 {
		t.Errorf("open loop %+v; want 100 msg/s over 0.6 s, 60 offered", p)
	}
	if !strings.Contains(r.stderr, "connections") || !strings.Contains(r.stderr, "chat") {
		t.Errorf("stderr %q; want the progress lines", r.stderr)
	}
}

// The text report: one line for the connections, one per phase.
func TestBenchXMPPText(t *testing.T) {
	env := servertest.Start(t)
	r := run(t, nil, "bench", "xmpp", "--api", env.URL, "--ws", env.WSURL, "--app", fmt.Sprint(env.App.ID),
		"--auth-key", env.App.AuthKey, "--conns", "4", "--pairs", "2", "--messages", "10", "--window", "2", "--history=false")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	ls := lines(t, "stdout", r.stdout)
	if len(ls) != 2 || !strings.HasPrefix(ls[0], "connections 4 (ws): ") ||
		!strings.HasPrefix(ls[1], "chat 2 pairs, closed loop 2 in flight: sent 20, delivered 20, lost 0;") {
		t.Errorf("stdout %q", r.stdout)
	}
}

// Every bad flag of bench status is refused in one line naming it, before
// anything connects.
func TestBenchStatusRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
	}{
		{[]string{"--watchers", "10"}, "--auth-key"},
		{[]string{"--auth-key", "k", "--transport", "quic"}, "--transport"},
		{[]string{"--auth-key", "k", "--watchers", "0"}, "--watchers"},
		{[]string{"--auth-key", "k", "--watched", "0"}, "--watched"},
		{[]string{"--auth-key", "k", "--wait", "0s"}, "--wait"},
		{[]string{"--auth-key", "k", "--quiet", "-1s"}, "--quiet"},
		{[]string{"--auth-key", "k", "--login-concurrency", "0"}, "--login-concurrency"},
		{[]string{"--auth-key", "k", "--bogus"}, "-bogus"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := append([]string{"bench", "status", "--xmpp", "127.0.0.1:1", "--api", "http://127.0.0.1:1"}, c.args...)
			wantUsageError(t, run(t, nil, args...), c.name)
		})
	}
}

// The status scenario against the real server over TCP: every watcher
// gets every watched user's "online" push; the text report has a line
// per watched user and the total.
func TestBenchStatusText(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxStanzaRate = 0 })
	r := run(t, nil, "bench", "status", "--transport", "tcp", "--xmpp", env.XMPP, "--api", env.URL,
		"--app", fmt.Sprint(env.App.ID), "--auth-key", env.App.AuthKey, "--watchers", "6", "--watched", "2",
		"--quiet", "200ms", "--wait", "20s", "--server-pid", fmt.Sprint(os.Getpid()))
	if r.code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	ls := lines(t, "stdout", r.stdout)
	if len(ls) != 4 || !strings.HasPrefix(ls[0], "watchers 6 (tcp): ") || !strings.Contains(ls[0], "12 subscriptions") ||
		!strings.HasPrefix(ls[1], "online ") || !strings.Contains(ls[1], ": 6/6 pushes, p50 ") ||
		!strings.HasPrefix(ls[3], "all: 12/12 pushes, 0 missing; p50 ") || !strings.Contains(ls[3], "per fan-out") {
		t.Errorf("stdout %q", r.stdout)
	}
}
