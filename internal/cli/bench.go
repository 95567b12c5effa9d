package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
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
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "parley bench: missing subcommand: seed, chat or xmpp")
		return errUsage
	}
	switch args[0] {
	case "seed":
		return benchSeed(ctx, args[1:], env)
	case "chat":
		return benchChat(ctx, args[1:], env)
	case "xmpp":
		return benchXMPP(ctx, args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "parley bench: unknown subcommand %q: seed, chat or xmpp\n", args[0])
	return errUsage
}

type services struct {
	db   *sqlite.DB
	auth *auth.Service
	chat *chat.Service
}

func openServices(ctx context.Context, dir string) (*services, error) {
	db, err := sqlite.Open(ctx, dir)
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
	senders := fs.Int("senders", 64, "concurrent senders for the write rate")
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
// --conns authenticated WebSocket connections and lets --pairs of them chat
// (save_to_history=1), reporting login rate, server memory per connection
// (with --server-pid), delivered messages per second, latency and losses.
func benchXMPP(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("bench xmpp", flag.ContinueOnError)
	var c loadgen.XMPPConfig
	fs.StringVar(&c.APIURL, "api", "http://127.0.0.1:8080", "REST base URL of the server")
	fs.StringVar(&c.WSURL, "ws", "ws://127.0.0.1:5291", "XMPP over WebSocket URL of the server")
	fs.Int64Var(&c.AppID, "app", 1, "application id")
	fs.StringVar(&c.AuthKey, "auth-key", "", "the application's auth key (required)")
	fs.StringVar(&c.Domain, "domain", "localhost", "XMPP domain of the server")
	fs.IntVar(&c.Conns, "conns", 1000, "connections to open and hold")
	fs.IntVar(&c.Pairs, "pairs", 100, "pairs of connections that chat")
	fs.IntVar(&c.Messages, "messages", 200, "messages each sender sends")
	fs.IntVar(&c.Window, "window", 10, "messages a sender may have unanswered")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "how long to wait for the last deliveries")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "how long the connections are held idle before the server's memory is read")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process id, to report its memory per connection")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if c.AuthKey == "" {
		fmt.Fprintln(env.Stderr, "parley bench xmpp: --auth-key is required")
		return errUsage
	}
	if c.Conns < 1 || c.Pairs < 0 || c.Messages < 1 {
		return fmt.Errorf("--conns and --messages must be positive, --pairs not negative")
	}
	rep, err := loadgen.RunXMPP(ctx, c, env.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "connections %d: %.0f logins/s", rep.Conns, rep.ConnectRate)
	if rep.RSSPerConnKiB > 0 {
		fmt.Fprintf(env.Stdout, ", server memory %.1f KiB per connection", rep.RSSPerConnKiB)
	}
	fmt.Fprintln(env.Stdout)
	if c.Pairs > 0 {
		fmt.Fprintf(env.Stdout, "chat %d pairs: sent %d, delivered %d, lost %d; %.0f delivered msg/s; latency p50 %v p99 %v\n",
			c.Pairs, rep.Sent, rep.Delivered, rep.Lost, rep.DeliveredRate, rep.P50.Round(time.Microsecond), rep.P99.Round(time.Microsecond))
	}
	return nil
}
