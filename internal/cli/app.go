package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

func appCommand(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "parley app: missing subcommand: create or list")
		return errUsage
	}
	switch args[0] {
	case "create":
		return appCreate(ctx, args[1:], env)
	case "list":
		return appList(ctx, args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "parley app: unknown subcommand %q: create or list\n", args[0])
	return errUsage
}

// openAuth opens the store in cfg.DataDir for an administration command.
// SQLite's WAL mode and busy timeout make this safe beside a running server.
func openAuth(ctx context.Context, cfg config.Config) (*auth.Service, func(), error) {
	db, err := sqlite.Open(ctx, cfg.DataDir, nil)
	if err != nil {
		return nil, nil, err
	}
	svc := auth.NewService(db, auth.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	return svc, func() { db.Close() }, nil
}

func appCreate(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("app create", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	name := fs.String("name", "", "application name (required)")
	exts := fs.String("dialog-extensions", "", "comma-separated dialog extensions fields the app allows (at most 3)")
	noGroupSubscribe := fs.Bool("no-group-subscribe", false, "users may not subscribe to group dialogs they are not in (they must be added)")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, env.Getenv); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		fmt.Fprintln(env.Stderr, "parley app create: --name is required")
		return errUsage
	}
	var fields []string
	for f := range strings.SplitSeq(*exts, ",") {
		if f = strings.TrimSpace(f); f != "" {
			fields = append(fields, f)
		}
	}
	if err := auth.CheckApp(*name, fields); err != nil {
		return flagError(err) // before the store is touched
	}
	svc, closeFn, err := openAuth(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	app, err := svc.CreateAppWith(ctx, auth.AppSettings{Name: *name, DialogExtensions: fields, NoGroupSubscribe: *noGroupSubscribe})
	if err != nil {
		return flagError(err)
	}
	return json.NewEncoder(env.Stdout).Encode(struct {
		ID         int64  `json:"id"`
		AuthKey    string `json:"auth_key"`
		AuthSecret string `json:"auth_secret"`
	}{app.ID, app.AuthKey, app.AuthSecret})
}

// flagError turns a domain validation error into "--flag: message".
func flagError(err error) error {
	if e, ok := asInvalid(err); ok {
		return fmt.Errorf("--%s: %s", e.Field, e.Message)
	}
	return err
}

func appList(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("app list", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, env.Getenv); err != nil {
		return err
	}
	svc, closeFn, err := openAuth(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	apps, err := svc.ListApps(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	for _, a := range apps {
		exts := a.DialogExtensions
		if exts == nil {
			exts = []string{}
		}
		if err := enc.Encode(struct {
			ID               int64    `json:"id"`
			Name             string   `json:"name"`
			AuthKey          string   `json:"auth_key"`
			DialogExtensions []string `json:"dialog_extensions"`
			GroupSubscribe   bool     `json:"group_subscribe"`
			CreatedAt        string   `json:"created_at"`
		}{a.ID, a.Name, a.AuthKey, exts, !a.NoGroupSubscribe, a.CreatedAt.Format("2006-01-02T15:04:05Z")}); err != nil {
			return err
		}
	}
	return nil
}
