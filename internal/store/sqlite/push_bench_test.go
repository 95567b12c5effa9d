package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// BenchmarkExpandAlerts is the writer time a chat alert costs once its
// message is stored (migration 0013): the dispatcher's ExpandAlerts of
// batches of 500 stored 1-1 messages, each alerting its recipient, who
// has one Web Push subscription, among 2,000 users with one each (the
// bench-peers parley-history-alerts scenario). ns/op is per message.
func BenchmarkExpandAlerts(b *testing.B) {
	ctx := b.Context()
	dir := b.TempDir()
	db, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	app := &auth.App{Name: "bench", AuthKey: "k", AuthSecret: "s", CreatedAt: base}
	if err := db.CreateApp(ctx, app); err != nil {
		b.Fatal(err)
	}
	const users, pairs = 2000, 50
	ids := make([]int64, users)
	for i := range ids {
		u := &auth.User{AppID: app.ID, Login: fmt.Sprintf("u%d", i), PasswordHash: "x", CreatedAt: base, UpdatedAt: base}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
		if err := db.PutSubscription(ctx, &push.Subscription{AppID: app.ID, UserID: u.ID, Channel: push.Web, Platform: "web",
			UDID: "browser", Environment: push.Development, Token: "https://push.example/" + u.Login,
			WebAuth: "a", WebP256dh: "p", UpdatedAt: base}); err != nil {
			b.Fatal(err)
		}
	}
	w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	dialogs := make([]string, pairs)
	for i := range dialogs {
		dialogs[i] = fmt.Sprintf("65f0a0a0a0a0a0a0a0a0a%03d", i)
		if _, err := w.ExecContext(ctx, `INSERT INTO dialogs (id, app_id, type, owner_id, created_at, updated_at) VALUES (?, ?, 3, ?, 0, 0)`,
			dialogs[i], app.ID, ids[i]); err != nil {
			b.Fatal(err)
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO members (dialog_id, user_id, member, notifications) VALUES (?, ?, 1, 1), (?, ?, 1, 1)`,
			dialogs[i], ids[i], dialogs[i], ids[i+pairs]); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	const batch = 500
	n := 0
	store := func() {
		msgs := make([]*chat.Message, batch)
		for k := range msgs {
			p := n % pairs
			msgs[k] = &chat.Message{ID: fmt.Sprintf("65f0b0b0b0b0b0b%09d", n), AppID: app.ID, DialogID: dialogs[p],
				SenderID: ids[p], RecipientID: ids[p+pairs], Body: "hello", DateSent: base.Unix(), CreatedAt: base, UpdatedAt: base,
				Alert: []int64{ids[p+pairs]}}
			n++
		}
		if err := db.Tx(ctx, func(tx chat.Tx) error {
			_, _, err := tx.InsertMessages(ctx, msgs)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		store()
		b.StartTimer()
		msgs, queued, err := db.ExpandAlerts(ctx, time.Now(), batch)
		if err != nil || msgs != batch || queued != batch {
			b.Fatalf("expanded %d messages, %d pushes, %v", msgs, queued, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/alert")
}
