package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/server"
)

func serve(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.ServeFlags(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := cfg.ApplyEnvTo(fs, env.Getenv); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := NewLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel)
	n := procs(cfg.Procs, env.Getenv("GOMAXPROCS") != "", runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(n)
	log.Debug("go processors", "procs", n)
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	// The default app is made only once the server is up, so a first start
	// that fails (a port in use) leaves the data dir as it found it and the
	// next start still welcomes.
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	// Finish start-up even if a signal already arrived; shutdown follows.
	app, created, err := srv.EnsureDefaultApp(context.WithoutCancel(ctx))
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	if created {
		printWelcome(env.Stdout, app, cfg, srv.HTTPAddr())
	} else if err := printAppsHint(context.WithoutCancel(ctx), env.Stdout, srv.Auth, cfg.DataDir); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	<-ctx.Done()
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// procs is how many Go processors the server runs with: set, when set;
// else what GOMAXPROCS chose, when the environment sets it; else one more
// than Go's own choice (the CPUs the process may use). The full-text
// indexer works for hundreds of milliseconds at a time; with a processor
// to spare it never holds one that requests are waiting for, and the
// kernel shares the cores among the threads at a finer grain than Go's
// 10 ms preemption. Measured on 2 cores at 20,000 messages per second:
// p99 25 to 29 ms against 31 to 37 ms, for 3% more CPU (README).
func procs(set int, fromEnv bool, goDefault int) int {
	switch {
	case set > 0:
		return set
	case fromEnv:
		return goDefault
	default:
		return goDefault + 1
	}
}

// NewLogger returns the structured logger of --log-format and --log-level.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// publicHost turns a listen address into the host a client on this machine
// would use.
func publicHost(addr string) (host, port string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "localhost", ""
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "localhost"
	}
	return h, p
}

func printWelcome(w io.Writer, app *auth.App, cfg config.Config, httpAddr string) {
	host, httpPort := publicHost(httpAddr)
	wsHost, wsPort := publicHost(cfg.WSAddr)
	scheme, wsScheme := "http", "ws"
	if cfg.TLSCert != "" {
		scheme, wsScheme = "https", "wss"
	}
	fmt.Fprintf(w, `Created the default application:
  application id: %d
  auth key:       %s

Point the ConnectyCube SDK at this server with:

ConnectyCube.init(
  { appId: %d, authKey: %q },
  {
    endpoints: {
      api_url: "%s://%s",
      chat: %q,
      chat_url: "%s://%s",
    },
    chat: { streamManagement: { enable: true } },
  }
);

`, app.ID, app.AuthKey, app.ID, app.AuthKey, scheme, net.JoinHostPort(host, httpPort), cfg.Domain,
		wsScheme, net.JoinHostPort(wsHost, wsPort))
}
