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
		fmt.Fprintln(env.Stderr, "parley bench: missing subcommand: seed or chat")
		return errUsage
	}
	switch args[0] {
	case "seed":
		return benchSeed(ctx, args[1:], env)
	case "chat":
		return benchChat(ctx, args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "parley bench: unknown subcommand %q: seed or chat\n", args[0])
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
