package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

func appCommand(ctx context.Context, args []string, env Env) error {
	return runSubcommand(ctx, "app", []subcommand{{"create", appCreate}, {"list", appList}, {"update", appUpdate}}, args, env)
}

// openAuth opens the store in cfg.DataDir for an administration command.
// SQLite's WAL mode and busy timeout make this safe beside a running server.
func openAuth(ctx context.Context, cfg config.Config) (*auth.Service, func(), error) {
	svc, db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}

// openStore is openAuth that also hands back the store, for commands that
// need another domain on it (push).
func openStore(ctx context.Context, cfg config.Config) (*auth.Service, *sqlite.DB, error) {
	db, err := sqlite.Open(ctx, cfg.DataDir, nil)
	if err != nil {
		return nil, nil, err
	}
	return auth.NewService(db, auth.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil), db, nil
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
	svc, db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
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
		// Read as stored: listing needs no sealing key.
		ps, err := db.AppSettings(ctx, a.ID)
		if err != nil {
			return err
		}
		if err := enc.Encode(struct {
			ID               int64    `json:"id"`
			Name             string   `json:"name"`
			AuthKey          string   `json:"auth_key"`
			DialogExtensions []string `json:"dialog_extensions"`
			GroupSubscribe   bool     `json:"group_subscribe"`
			BlobMaxSize      int64    `json:"blob_max_size"`
			BlobContentTypes []string `json:"blob_content_types"`
			ChatAlerts       bool     `json:"chat_alerts"`
			VAPIDPublicKey   string   `json:"vapid_public_key"`
			CreatedAt        string   `json:"created_at"`
		}{a.ID, a.Name, a.AuthKey, exts, !a.NoGroupSubscribe, blobMaxSize(a.BlobMaxSize), orEmpty(a.BlobContentTypes),
			!ps.AlertsOff, ps.VAPIDPublic, a.CreatedAt.Format("2006-01-02T15:04:05Z")}); err != nil {
			return err
		}
	}
	return nil
}

// blobMaxSize is the limit in force: the app's, or the default.
func blobMaxSize(n int64) int64 {
	if n <= 0 {
		return blob.DefaultMaxSize
	}
	return n
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// appUpdate changes the settings of an existing app: its blob limits
// (REST.md §8.2) and its push settings (REST.md §10). Flags not given
// keep their values. A running server reads blob limits on the next
// upload and push settings within 5 s.
func appUpdate(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("app update", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	id := fs.Int64("id", 0, "application id (required)")
	maxSize := fs.Int64("blob-max-size", -1, fmt.Sprintf("largest blob in bytes (0: the default, %d)", int64(blob.DefaultMaxSize)))
	types := fs.String("blob-content-types", "", `comma-separated media types blobs may have, e.g. "image/*,video/mp4" ("*/*" or "any": all)`)
	pf := pushFlags(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, env.Getenv); err != nil {
		return err
	}
	if *id <= 0 {
		fmt.Fprintln(env.Stderr, "parley app update: --id is required")
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var sizeArg *int64
	if set["blob-max-size"] {
		if *maxSize < 0 {
			return fmt.Errorf("--blob-max-size: must not be negative")
		}
		sizeArg = maxSize
	}
	var typesArg *[]string
	if set["blob-content-types"] {
		list := []string{}
		for t := range strings.SplitSeq(*types, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" && t != "any" && t != "*/*" {
				list = append(list, t)
			}
		}
		if err := blob.CheckContentTypes(list); err != nil {
			return flagError(err)
		}
		typesArg = &list
	}
	// Files are read before the store is touched.
	pushIn, pushSet, err := pf.input(set)
	if err != nil {
		return err
	}
	if sizeArg == nil && typesArg == nil && !pushSet {
		fmt.Fprintln(env.Stderr, "parley app update: nothing to change: give --blob-max-size, --blob-content-types, "+
			"--chat-alerts, --push-template, --vapid-generate, --vapid-subject, --fcm-service-account, --apns-key, "+
			"--apns-key-id, --apns-team-id or --apns-topic")
		return errUsage
	}
	svc, db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	app, err := svc.App(ctx, *id)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return fmt.Errorf("--id: no application %d", *id)
		}
		return err
	}
	// Push first: it validates every push flag before it writes, and the
	// blob flags were checked above, so a refusal changes nothing.
	ps, err := openPush(cfg, db)
	if err != nil {
		return err
	}
	view, err := ps.Settings(ctx, *id)
	if err != nil {
		return err
	}
	if pushSet {
		if view, err = ps.UpdateSettings(ctx, *id, pushIn); err != nil {
			return pushFlagError(err)
		}
	}
	if sizeArg != nil || typesArg != nil {
		if app, err = svc.SetBlobLimits(ctx, *id, sizeArg, typesArg); err != nil {
			return flagError(err)
		}
	}
	return json.NewEncoder(env.Stdout).Encode(struct {
		ID                 int64    `json:"id"`
		BlobMaxSize        int64    `json:"blob_max_size"`
		BlobContentTypes   []string `json:"blob_content_types"`
		*push.SettingsView          // its "id" is shadowed by the one above: the same
	}{app.ID, blobMaxSize(app.BlobMaxSize), orEmpty(app.BlobContentTypes), view})
}
