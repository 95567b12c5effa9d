package loadgen

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Timing summarises repeated runs of one operation.
type Timing struct {
	Name     string
	N        int
	P50, P99 time.Duration
}

func (t Timing) String() string {
	return fmt.Sprintf("%-34s n=%-5d p50=%-10v p99=%v", t.Name, t.N, t.P50.Round(time.Microsecond), t.P99.Round(time.Microsecond))
}

func measure(name string, n int, fn func(i int) error) (Timing, error) {
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := fn(i); err != nil {
			return Timing{}, fmt.Errorf("%s: %w", name, err)
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return Timing{Name: name, N: n, P50: ds[n/2], P99: ds[min(n-1, n*99/100)]}, nil
}

// ChatReport is what MeasureChat found.
type ChatReport struct {
	Timings []Timing
	// StoreRate is messages stored per second (with bookkeeping) by
	// concurrent senders through CreateMessage's group commit.
	StoreRate float64
	Senders   int
}

// MeasureChat times the read paths of the chat API on a seeded store, as
// the heavy user, n times each, then the write rate of concurrent senders.
func MeasureChat(ctx context.Context, svc *chat.Service, seed *SeedResult, n, senders, messages int, w io.Writer) (*ChatReport, error) {
	me := chat.Caller{AppID: seed.AppID, UserID: seed.HeavyUser}
	rep := &ChatReport{Senders: senders}
	views, _, err := svc.ListDialogs(ctx, me, chat.Query{Limit: chat.MaxPageSize})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, v := range views[:min(10, len(views))] {
		ids = append(ids, v.ID)
	}
	ops := []struct {
		name string
		fn   func(i int) error
	}{
		{"dialog list (limit 100)", func(int) error {
			_, _, err := svc.ListDialogs(ctx, me, chat.Query{Limit: 100})
			return err
		}},
		{"dialog list, updated_at[gt] filter", func(int) error {
			_, _, err := svc.ListDialogs(ctx, me, chat.Query{Limit: 100, Conds: []chat.Cond{
				{Field: "updated_at", Op: "gt", Values: []any{time.Now().Add(-30 * 24 * time.Hour)}}}})
			return err
		}},
		{"history page (limit 100, newest)", func(int) error {
			_, err := svc.ListMessages(ctx, me, seed.HeavyDialog, chat.Query{Sort: "date_sent", Desc: true, Limit: 100}, false, false)
			return err
		}},
		{"history page (limit 100, skip 1000)", func(int) error {
			_, err := svc.ListMessages(ctx, me, seed.HeavyDialog, chat.Query{Sort: "date_sent", Desc: true, Limit: 100, Skip: 1000}, false, false)
			return err
		}},
		{"unread count (10 dialogs + total)", func(int) error {
			_, _, err := svc.UnreadCount(ctx, me, ids)
			return err
		}},
		{"search \"dinner\" (limit 100)", func(int) error {
			_, err := svc.Search(ctx, me, chat.Search{Text: "dinner", Limit: 100})
			return err
		}},
		{"search \"coffee tomorrow\" (limit 100)", func(int) error {
			_, err := svc.Search(ctx, me, chat.Search{Text: "coffee tomorrow", Limit: 100})
			return err
		}},
	}
	for _, op := range ops {
		t, err := measure(op.name, n, op.fn)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(w, t)
		rep.Timings = append(rep.Timings, t)
	}
	// Writes: senders post into the heavy user's dialogs concurrently.
	var wg sync.WaitGroup
	errc := make(chan error, senders)
	per := messages / senders
	start := time.Now()
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				d := views[(s*per+i)%len(views)]
				if _, err := svc.CreateMessage(ctx, me, chat.MessageInput{DialogID: d.ID, Body: "load test message"}); err != nil {
					errc <- err
					return
				}
			}
		}(s)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	rep.StoreRate = float64(per*senders) / time.Since(start).Seconds()
	fmt.Fprintf(w, "%-34s %d senders, %d messages: %.0f msg/s\n", "store message with bookkeeping", senders, per*senders, rep.StoreRate)
	return rep, nil
}
