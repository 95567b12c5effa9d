package server_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/datadir"
	"github.com/parley-chat/parley/internal/server"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// A second server on a data dir that one already serves stops at New with
// the holder's PID, and leaves the first one working; the tools that are
// safe beside a server (here the store opened as `parley app list` opens
// it) still work; once the first one shut down, the dir can be served.
func TestSecondServerOnOneDataDirIsRefused(t *testing.T) {
	var dir string
	env := servertest.Start(t, func(c *config.Config) { dir = c.DataDir })

	cfg := config.Default()
	cfg.DataDir = dir
	cfg.HTTPAddr, cfg.WSAddr, cfg.XMPPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	second, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		second.Shutdown(context.Background())
		t.Fatal("a second server started on a data dir in use")
	}
	if !errors.Is(err, datadir.ErrLocked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second server: %v; want ErrLocked naming PID %d", err, os.Getpid())
	}

	db, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatalf("opening the store beside the server (the CLI tools' way): %v", err)
	}
	if apps, err := db.ListApps(t.Context()); err != nil || len(apps) == 0 {
		t.Fatalf("ListApps beside the server: %v, %d apps", err, len(apps))
	}
	db.Close()

	if r := env.Do(t, servertest.Req{Method: "GET", Path: "/health"}); r.Status != 200 {
		t.Fatalf("first server after the refused start: /health %d", r.Status)
	}
	if err := env.Server.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	third, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("server on the data dir after the first shut down: %v", err)
	}
	third.Shutdown(context.Background())
}
