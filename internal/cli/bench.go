package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/loadgen"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// seedFile records, in the data dir, what `bench seed` made for `bench chat`.
const seedFile = "bench-seed.json"

func benchCommand(ctx context.Context, args []string, env Env) error {
	return runSubcommand(ctx, "bench", []subcommand{{"seed", benchSeed}, {"chat", benchChat}, {"xmpp", benchXMPP}, {"status", benchStatus}}, args, env)
}

type services struct {
	db   *sqlite.DB
	auth *auth.Service
	chat *chat.Service
}

func openServices(ctx context.Context, dir string) (*services, error) {
	db, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := auth.NewService(db, auth.Config{}, quiet, nil)
	return &services{db: db, auth: a, chat: chat.NewService(db, a, nil, quiet, nil)}, nil
}

func (s *services) close() {
	s.chat.Close()
	s.db.Close()
}

func benchSeed(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("bench seed", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	sc := loadgen.DefaultSeed
	fs.IntVar(&sc.Users, "users", sc.Users, "users to create")
	fs.IntVar(&sc.Dialogs, "dialogs", sc.Dialogs, "dialogs to create")
	fs.IntVar(&sc.Messages, "messages", sc.Messages, "messages to store")
	fs.IntVar(&sc.HeavyDialogs, "heavy-dialogs", sc.HeavyDialogs, "dialogs the benchmark user is in")
	fs.Uint64Var(&sc.Seed, "seed", sc.Seed, "random seed (same seed, same data set)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	stop, err := startProfile(*profile)
	if err != nil {
		return err
	}
	defer stop()
	if sc.Users < 2 || sc.Dialogs < 1 || sc.Messages < 0 || sc.HeavyDialogs > sc.Dialogs {
		return fmt.Errorf("--users must be at least 2, --dialogs at least 1, --heavy-dialogs at most --dialogs")
	}
	s, err := openServices(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := loadgen.Seed(ctx, s.auth, s.chat, sc, env.Stderr)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.DataDir, seedFile), b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "seeded app %d: %d users, %d dialogs, %d messages in %v\n",
		res.AppID, sc.Users, sc.Dialogs, sc.Messages, res.Took.Round(1e6))
	return nil
}

func benchChat(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("bench chat", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	n := fs.Int("n", 200, "runs of each read operation")
	senders := fs.Int("senders", 256, "concurrent senders for the write rate (256 fill one group commit)")
	messages := fs.Int("messages", 50000, "messages the senders store in all")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	stop, err := startProfile(*profile)
	if err != nil {
		return err
	}
	defer stop()
	if *n < 1 || *senders < 1 || *messages < *senders {
		return fmt.Errorf("--n and --senders must be positive and --messages at least --senders")
	}
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, seedFile))
	if err != nil {
		return fmt.Errorf("--data-dir: no seeded data set (run parley bench seed first): %w", err)
	}
	var res loadgen.SeedResult
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	s, err := openServices(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer s.close()
	_, err = loadgen.MeasureChat(ctx, s.chat, &res, *n, *senders, *messages, env.Stdout)
	return err
}

// startProfile writes a CPU profile to path (none when path is "") until
// the returned stop runs.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// benchXMPP is the real-time load tool: against a running server it opens
// --conns authenticated XMPP sessions (WebSocket or TCP) and lets --pairs
// of them chat 1-1, reporting login rate, server memory per connection and
// CPU per message (with --server-pid), delivered messages per second,
// latency and losses. Against Parley it signs its users up over REST;
// with --peer or --users-file it logs in as existing accounts, which is how
// it measures ejabberd and Prosody the same way (scripts/bench-peers.sh).
func benchXMPP(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("bench xmpp", flag.ContinueOnError)
	var c loadgen.XMPPConfig
	fs.StringVar(&c.APIURL, "api", "http://127.0.0.1:8080", "REST base URL of the server")
	fs.StringVar(&c.WSURL, "ws", "ws://127.0.0.1:5291", "XMPP over WebSocket URL of the server")
	fs.StringVar(&c.Transport, "transport", "ws", "ws (XMPP over WebSocket at --ws) or tcp (plain RFC 6120 c2s at --xmpp, no TLS)")
	fs.StringVar(&c.XMPPAddr, "xmpp", "127.0.0.1:5222", "XMPP over TCP address of the server (host:port)")
	fs.Int64Var(&c.AppID, "app", 1, "application id")
	fs.StringVar(&c.AuthKey, "auth-key", "", "the application's auth key (required unless --peer or --users-file)")
	fs.StringVar(&c.Domain, "domain", "localhost", "XMPP domain of the server")
	usersFile := fs.String("users-file", "", "log in as the accounts in this file (\"jid password\" lines) instead of signing users up over REST")
	peer := fs.Bool("peer", false, "log in as the existing accounts user1..userN@DOMAIN with password \"pass\" (bench-peers) instead of signing users up")
	history := fs.Bool("history", true, "send messages with save_to_history=1; false routes them only (always false with --peer or --users-file)")
	fs.IntVar(&c.GroupSize, "group-size", 0, "from 3: each pair becomes a group dialog of this many members (the sender and the connections after the senders), created over REST; the sender posts to the room")
	fs.BoolVar(&c.Markers, "markers", false, "each receiver answers every message with a 'received' chat marker (the SDK's automatic delivered status)")
	fs.IntVar(&c.Conns, "conns", 1000, "connections to open and hold")
	fs.IntVar(&c.Pairs, "pairs", 100, "pairs of connections that chat (sender i writes to receiver i+pairs)")
	fs.IntVar(&c.Messages, "messages", 200, "messages each sender sends (without --duration)")
	fs.IntVar(&c.Window, "window", 10, "closed loop: messages a sender may have unanswered")
	rates := fs.String("rate", "", "chat phases, comma-separated: N>0 is an open loop at N msgs/s in total, 0 a closed loop (--window); default one closed loop")
	fs.DurationVar(&c.Duration, "duration", 0, "measure each phase for this long (time-based) instead of sending --messages")
	fs.DurationVar(&c.Warmup, "warmup", 3*time.Second, "with --duration: unmeasured time at the start of each phase")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "how long to wait for the last deliveries")
	fs.IntVar(&c.LoginConcurrency, "login-concurrency", 50, "logins in flight")
	fs.IntVar(&c.StanzaBytes, "size", 0, "pad each chat stanza to this many bytes (0: no padding)")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "how long the connections are held idle before the server's memory is read")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process id, to report its memory per connection and CPU per message")
	fs.IntVar(&c.PrivacyItems, "privacy-items", 0, "give every user a default block list of this many items (even: two per blocked user, the SDK's shape) naming users outside the run, set over XMPP before the chat (Parley only)")
	fs.BoolVar(&c.PushAlerts, "push-alerts", false, "every user subscribes to Web Push (over REST, before the chat) at a sink the load tool runs on 127.0.0.1, and every session marks itself inactive (XEP-0352) after its initial presence, so that every message delivered also calls for a chat alert; the sink answers each POST 201 and only counts it, decrypting nothing, to take as little of the load tool's CPU as possible (Parley only; the app needs VAPID keys)")
	fs.DurationVar(&c.PushSinkDelay, "push-sink-delay", 0, "with --push-alerts: the sink holds each answer this long (a slow push provider)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	refuse := func(format string, a ...any) error {
		fmt.Fprintf(env.Stderr, "parley bench xmpp: "+format+"\n", a...)
		return errUsage
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	switch {
	case c.Transport != "ws" && c.Transport != "tcp":
		return refuse("--transport %q: want ws or tcp", c.Transport)
	case *peer && *usersFile != "":
		return refuse("--peer and --users-file: give one")
	case (*peer || *usersFile != "") && explicit["history"] && *history:
		return refuse("--history: the peers store no history; with --peer or --users-file messages are routed only")
	case !*peer && *usersFile == "" && c.AuthKey == "":
		return refuse("--auth-key is required (or --peer, --users-file)")
	case c.Conns < 1 || c.Pairs < 0:
		return refuse("--conns must be positive, --pairs not negative")
	case c.Pairs*2 > c.Conns:
		return refuse("--pairs %d: two connections each, at most --conns/2", c.Pairs)
	case c.Duration < 0 || c.Warmup < 0 || c.Drain <= 0:
		return refuse("--duration and --warmup must not be negative, --drain must be positive")
	case c.Duration == 0 && c.Messages < 1:
		return refuse("--messages must be positive (or give --duration)")
	case c.LoginConcurrency < 1:
		return refuse("--login-concurrency must be positive")
	case c.StanzaBytes < 0:
		return refuse("--size must not be negative")
	case c.Window < 1:
		return refuse("--window must be positive")
	case c.PrivacyItems < 0 || c.PrivacyItems%2 != 0:
		return refuse("--privacy-items %d: want an even number (two items per blocked user), 0 or more", c.PrivacyItems)
	case c.PrivacyItems > 0 && (*peer || *usersFile != ""):
		return refuse("--privacy-items: block lists name users signed up over Parley's REST API, not with --peer or --users-file")
	case c.PushAlerts && (*peer || *usersFile != ""):
		return refuse("--push-alerts: push subscriptions are created over Parley's REST API, not with --peer or --users-file")
	case c.PushSinkDelay < 0 || (c.PushSinkDelay > 0 && !c.PushAlerts):
		return refuse("--push-sink-delay: needs --push-alerts, and must not be negative")
	}
	if *rates != "" {
		for _, f := range strings.Split(*rates, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
				return refuse("--rate %q: want comma-separated numbers, 0 or more", f)
			}
			c.Rates = append(c.Rates, r)
		}
	}
	c.NoHistory = !*history
	switch {
	case *peer:
		c.Accounts, c.NoHistory = loadgen.PeerAccounts(c.Conns, c.Domain, "pass"), true
	case *usersFile != "":
		f, err := os.Open(*usersFile)
		if err != nil {
			return refuse("--users-file: %v", err)
		}
		accounts, err := loadgen.ReadAccounts(f)
		f.Close()
		if err != nil {
			return refuse("--users-file %s: %v", *usersFile, err)
		}
		if len(accounts) < c.Conns {
			return refuse("--users-file %s: %d accounts for --conns %d", *usersFile, len(accounts), c.Conns)
		}
		c.Accounts, c.NoHistory = accounts, true
	}
	rep, err := loadgen.RunXMPP(ctx, c, env.Stderr)
	if rep == nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(env.Stdout, "connections %d (%s): %.0f logins/s", rep.Conns, rep.Transport, rep.ConnectRate)
	if rep.PrivacyItems > 0 {
		fmt.Fprintf(env.Stdout, ", %d-item default block lists set in %.1f s", rep.PrivacyItems, rep.BlockListSeconds)
	}
	if rep.PushAlerts {
		fmt.Fprintf(env.Stdout, ", Web Push subscriptions created in %.1f s, sessions inactive", rep.PushSetupSeconds)
	}
	if rep.RSSPerConnKiB > 0 {
		fmt.Fprintf(env.Stdout, ", server memory %.1f KiB per connection", rep.RSSPerConnKiB)
	}
	fmt.Fprintln(env.Stdout)
	who := fmt.Sprintf("%d pairs", c.Pairs)
	if c.GroupSize > 0 {
		// delivered counts every receiver's copy
		who = fmt.Sprintf("%d groups of %d", c.Pairs, c.GroupSize)
	}
	for _, p := range rep.Phases {
		fmt.Fprintf(env.Stdout, "chat %s, %s: sent %d, delivered %d, lost %d; %.0f delivered msg/s; latency p50 %v p99 %v",
			who, p.Name, p.Sent, p.Delivered, p.Lost, p.DeliveredRate, p.P50.Round(time.Microsecond), p.P99.Round(time.Microsecond))
		if p.CPUMsPer1000 > 0 {
			fmt.Fprintf(env.Stdout, "; server CPU %.0f ms per 1,000 messages", p.CPUMsPer1000)
		}
		if p.ToolCPU > 0 {
			fmt.Fprintf(env.Stdout, "; load tool %.2f cores, other work %.2f cores", p.ToolCPU, p.OtherCPU)
		}
		if rep.PushAlerts {
			fmt.Fprintf(env.Stdout, "; %d pushes in the window", p.Pushes)
		}
		fmt.Fprintln(env.Stdout)
	}
	if rep.PushAlerts {
		delay := ""
		if c.PushSinkDelay > 0 {
			delay = fmt.Sprintf(", each answered after %v", c.PushSinkDelay)
		}
		fmt.Fprintf(env.Stdout, "pushes: %d expected (one per copy delivered), %d received by the end of the chat, %d after the drain (%d bytes)%s\n",
			rep.PushesExpected, rep.PushesRun, rep.PushesDrained, rep.PushBytes, delay)
	}
	return err
}

// benchStatus is the status fan-out scenario: against a running Parley
// server, --watchers sessions subscribe to the status (status streaming)
// of the same --watched users, who then come online one after another;
// it reports how long each one's push took to reach every watcher (p50,
// p99, max) and fails when a push is missing after --wait.
func benchStatus(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("bench status", flag.ContinueOnError)
	var c loadgen.StatusConfig
	fs.StringVar(&c.APIURL, "api", "http://127.0.0.1:8080", "REST base URL of the server")
	fs.StringVar(&c.WSURL, "ws", "ws://127.0.0.1:5291", "XMPP over WebSocket URL of the server")
	fs.StringVar(&c.Transport, "transport", "ws", "ws (XMPP over WebSocket at --ws) or tcp (plain RFC 6120 c2s at --xmpp, no TLS)")
	fs.StringVar(&c.XMPPAddr, "xmpp", "127.0.0.1:5222", "XMPP over TCP address of the server (host:port)")
	fs.Int64Var(&c.AppID, "app", 1, "application id")
	fs.StringVar(&c.AuthKey, "auth-key", "", "the application's auth key (required)")
	fs.StringVar(&c.Domain, "domain", "localhost", "XMPP domain of the server")
	fs.IntVar(&c.Watchers, "watchers", 10000, "sessions that subscribe to the watched users' status")
	fs.IntVar(&c.Watched, "watched", 10, "users every watcher subscribes to; they come online one after another")
	fs.DurationVar(&c.Wait, "wait", 30*time.Second, "how long one watched user's pushes may take to reach every watcher")
	fs.DurationVar(&c.Quiet, "quiet", 2*time.Second, "pause after the subscriptions, before the first watched user comes online")
	fs.IntVar(&c.LoginConcurrency, "login-concurrency", 50, "logins (and subscriptions) in flight")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process id, to report its CPU time per fan-out")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	refuse := func(format string, a ...any) error {
		fmt.Fprintf(env.Stderr, "parley bench status: "+format+"\n", a...)
		return errUsage
	}
	switch {
	case c.Transport != "ws" && c.Transport != "tcp":
		return refuse("--transport %q: want ws or tcp", c.Transport)
	case c.AuthKey == "":
		return refuse("--auth-key is required")
	case c.Watchers < 1 || c.Watched < 1:
		return refuse("--watchers and --watched must be positive")
	case c.Wait <= 0 || c.Quiet < 0:
		return refuse("--wait must be positive, --quiet not negative")
	case c.LoginConcurrency < 1:
		return refuse("--login-concurrency must be positive")
	}
	rep, err := loadgen.RunStatus(ctx, c, env.Stderr)
	if rep == nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	fmt.Fprintf(env.Stdout, "watchers %d (%s): %.0f logins/s; %d subscriptions in %.1f s\n",
		rep.Watchers, rep.Transport, rep.ConnectRate, int64(rep.Watchers)*int64(rep.Watched), rep.SubscribeSeconds)
	for _, u := range rep.Users {
		fmt.Fprintf(env.Stdout, "online %s: %d/%d pushes, p50 %s p99 %s max %s\n", u.JID, u.Received, rep.Watchers, ms(u.P50), ms(u.P99), ms(u.Max))
	}
	fmt.Fprintf(env.Stdout, "all: %d/%d pushes, %d missing; p50 %s p99 %s max %s", rep.Received, rep.Expected, rep.Missing, ms(rep.P50), ms(rep.P99), ms(rep.Max))
	if c.ServerPID > 0 {
		// Read in 10 ms clock ticks: a small run may well show 0.
		fmt.Fprintf(env.Stdout, "; server CPU %.0f ms per fan-out", rep.CPUMsPerUser)
	}
	fmt.Fprintln(env.Stdout)
	return err
}
