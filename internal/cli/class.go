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
	"github.com/parley-chat/parley/internal/data"
	"github.com/parley-chat/parley/internal/rest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

func classCommand(ctx context.Context, args []string, env Env) error {
	return runSubcommand(ctx, "class", []subcommand{{"create", classCreate}, {"list", classList}, {"records", classRecords}}, args, env)
}

// openData opens the store for a class command and checks the app. Like
// the other administration commands it does not take the data directory's
// serve lock: SQLite's WAL mode and busy timeout make it safe beside a
// running server, and the server reads classes from the store on every
// request, so a class created now is served at once.
func openData(ctx context.Context, cfg config.Config, appID int64) (*data.Service, func(), error) {
	db, err := sqlite.Open(ctx, cfg.DataDir, nil)
	if err != nil {
		return nil, nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := auth.NewService(db, auth.Config{}, quiet, nil).App(ctx, appID); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("--app: no application %d", appID)
	}
	return data.NewService(db, nil, quiet, nil), func() { db.Close() }, nil
}

// classFlags parses the flags every class command has (--data-dir, --app)
// plus those add adds.
func classFlags(name string, args []string, env Env, add func(*flag.FlagSet)) (config.Config, int64, error) {
	cfg := config.Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg.StoreFlags(fs)
	appID := fs.Int64("app", 0, "application id (required)")
	if add != nil {
		add(fs)
	}
	if err := parseFlags(fs, args, env); err != nil {
		return cfg, 0, err
	}
	if err := config.ApplyEnv(fs, env.Getenv); err != nil {
		return cfg, 0, err
	}
	if *appID <= 0 {
		fmt.Fprintf(env.Stderr, "parley %s: --app is required (a positive application id)\n", name)
		return cfg, 0, errUsage
	}
	return cfg, *appID, nil
}

// classCreate is `parley class create` (spec README §6): it prints the
// class as one JSON object.
func classCreate(ctx context.Context, args []string, env Env) error {
	var name, fields, index *string
	perms := map[string]*string{}
	cfg, appID, err := classFlags("class create", args, env, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "class name (required): a letter, then letters, digits or _")
		fields = fs.String("fields", "", "fields (required), name:type,... with types Integer, String, Float, Boolean, Array, File, Location, Date")
		index = fs.String("index", "", "fields to index, a,b,... (at most 5 single-value fields): equality filters and sorts on them stay fast in large classes")
		perms["create"] = fs.String("create", "open", "who may create records: open, not_allowed, open_for_users_ids:ID,ID or open_for_groups:TAG,TAG")
		perms["read"] = fs.String("read", "open", "default read permission of records: open, owner, not_allowed (nobody, whatever a record says), open_for_users_ids:IDS, open_for_groups:TAGS")
		perms["update"] = fs.String("update", "owner", "default update permission of records (as --read)")
		perms["delete"] = fs.String("delete", "owner", "default delete permission of records (as --read)")
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		fmt.Fprintln(env.Stderr, "parley class create: --name is required")
		return errUsage
	}
	if strings.TrimSpace(*fields) == "" {
		fmt.Fprintln(env.Stderr, "parley class create: --fields is required (name:type,...)")
		return errUsage
	}
	fs, err := data.ParseFields(*fields)
	if err != nil {
		return flagError(err)
	}
	cls := &data.Class{AppID: appID, Name: *name, Fields: fs, Perms: data.DefaultClassPerms()}
	for f := range strings.SplitSeq(*index, ",") {
		if f = strings.TrimSpace(f); f != "" {
			cls.Indexes = append(cls.Indexes, f)
		}
	}
	for _, k := range []string{"create", "read", "update", "delete"} {
		p, err := data.ParsePerm(*perms[k])
		if err != nil {
			return fmt.Errorf("--%s: %v", k, err)
		}
		switch k {
		case "create":
			cls.Perms.Create = p
		case "read":
			cls.Perms.Records[data.Read] = p
		case "update":
			cls.Perms.Records[data.Update] = p
		case "delete":
			cls.Perms.Records[data.Delete] = p
		}
	}
	if err := data.CheckClass(cls); err != nil {
		return flagError(err) // before the store is touched
	}
	svc, closeFn, err := openData(ctx, cfg, appID)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := svc.CreateClass(ctx, cls); err != nil {
		return flagError(err)
	}
	return json.NewEncoder(env.Stdout).Encode(rest.ClassJSON(cls))
}

// classList is `parley class list`: one JSON object a line, by name.
func classList(ctx context.Context, args []string, env Env) error {
	cfg, appID, err := classFlags("class list", args, env, nil)
	if err != nil {
		return err
	}
	svc, closeFn, err := openData(ctx, cfg, appID)
	if err != nil {
		return err
	}
	defer closeFn()
	classes, err := svc.Classes(ctx, appID)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	for i := range classes {
		if err := enc.Encode(rest.ClassJSON(&classes[i])); err != nil {
			return err
		}
	}
	return nil
}

// classRecords is `parley class records`: every record of a class, in the
// REST model, one JSON object a line in creation order. It is how an
// operator reads the reports users filed.
func classRecords(ctx context.Context, args []string, env Env) error {
	var name *string
	cfg, appID, err := classFlags("class records", args, env, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "class name (required)")
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		fmt.Fprintln(env.Stderr, "parley class records: --name is required")
		return errUsage
	}
	svc, closeFn, err := openData(ctx, cfg, appID)
	if err != nil {
		return err
	}
	defer closeFn()
	cls, err := svc.Class(ctx, appID, *name)
	if err != nil {
		return fmt.Errorf("--name: no class %q in application %d", *name, appID)
	}
	enc := json.NewEncoder(env.Stdout)
	return svc.Scan(ctx, cls, func(r *data.Record) error {
		return enc.Encode(rest.RecordJSON(cls, r))
	})
}
