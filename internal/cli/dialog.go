package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/rest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

func dialogCommand(ctx context.Context, args []string, env Env) error {
	return runSubcommand(ctx, "dialog", []subcommand{{"create-broadcast", createBroadcast}}, args, env)
}

// createBroadcast is `parley dialog create-broadcast`: the administrative way
// to make a type 1 dialog (REST refuses users). It prints the dialog in the
// REST model.
func createBroadcast(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("dialog create-broadcast", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	appID := fs.Int64("app", 0, "application id (required)")
	name := fs.String("name", "", "dialog name (required)")
	owner := fs.Int64("owner", 0, "user id of the owner, who may post (optional)")
	admins := fs.String("admins", "", "comma-separated user ids of admins, who may post (at most 5)")
	domain := fs.String("domain", cfg.Domain, "XMPP domain, for xmpp_room_jid in the output")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, env.Getenv); err != nil {
		return err
	}
	if *appID <= 0 {
		fmt.Fprintln(env.Stderr, "parley dialog create-broadcast: --app is required (a positive application id)")
		return errUsage
	}
	if strings.TrimSpace(*name) == "" {
		fmt.Fprintln(env.Stderr, "parley dialog create-broadcast: --name is required")
		return errUsage
	}
	var adminIDs []int64
	for s := range strings.SplitSeq(*admins, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("--admins: %q is not a user id", s)
		}
		adminIDs = append(adminIDs, id)
	}
	db, err := sqlite.Open(ctx, cfg.DataDir, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	authSvc := auth.NewService(db, auth.Config{}, quiet, nil)
	if _, err := authSvc.App(ctx, *appID); err != nil {
		return fmt.Errorf("--app: no application %d", *appID)
	}
	if *owner != 0 {
		if _, err := authSvc.User(ctx, *appID, *owner); err != nil {
			return fmt.Errorf("--owner: no user %d in application %d", *owner, *appID)
		}
	}
	chatSvc := chat.NewService(db, authSvc, nil, quiet, nil)
	defer chatSvc.Close()
	d, err := chatSvc.CreateBroadcast(ctx, *appID, *owner, *name, adminIDs)
	if err != nil {
		return flagError(err)
	}
	api := rest.DialogJSON(&chat.View{Dialog: d}, *domain)
	return json.NewEncoder(env.Stdout).Encode(api)
}
