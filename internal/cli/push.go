package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
)

func pushCommand(ctx context.Context, args []string, env Env) error {
	return runSubcommand(ctx, "push", []subcommand{{"status", pushStatus}}, args, env)
}

// pushStatus prints the push outbox per channel: what waits (due now, or
// leased by a dispatcher that is sending it), what was sent, what was
// given up, how many needed more than one try, and how long the oldest
// waiting push has waited; then how many stored messages have chat
// alerts the dispatcher has not queued yet (it queues them every 100 ms,
// and slowly while the chat is saturated). Safe beside a running server.
func pushStatus(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("push status", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	asJSON := fs.Bool("json", false, `one JSON object per channel, then {"pending_chat_alerts": N}, instead of a table`)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, env.Getenv); err != nil {
		return err
	}
	_, db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	// Counting needs no credentials: no sealing key.
	svc := push.NewService(db, nil, nil, func() time.Time { return now }, push.Limits{})
	stats, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	pending, err := svc.PendingAlerts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, s := range stats {
			var age *int64
			if !s.OldestQueued.IsZero() {
				a := int64(max(0, now.Sub(s.OldestQueued)) / time.Second)
				age = &a
			}
			if err := enc.Encode(struct {
				Channel          push.Channel `json:"channel"`
				Queued           int          `json:"queued"`
				Due              int          `json:"due"`
				Leased           int          `json:"leased"`
				Sent             int          `json:"sent"`
				Dead             int          `json:"dead"`
				Retried          int          `json:"retried"`
				OldestQueuedSecs *int64       `json:"oldest_queued_age_seconds"`
			}{s.Channel, s.Queued, s.Due, s.Leased, s.Sent, s.Dead, s.Retried, age}); err != nil {
				return err
			}
		}
		return enc.Encode(struct {
			Pending int `json:"pending_chat_alerts"`
		}{pending})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CHANNEL\tQUEUED\tDUE\tLEASED\tSENT\tDEAD\tRETRIED\tOLDEST QUEUED\t")
	for _, s := range stats {
		age := "-"
		if !s.OldestQueued.IsZero() {
			age = max(0, now.Sub(s.OldestQueued)).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", s.Channel, s.Queued, s.Due, s.Leased, s.Sent, s.Dead, s.Retried, age)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "messages whose chat alerts are not queued yet: %d\n", pending)
	return err
}
