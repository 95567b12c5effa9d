package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// tenantWorld is two apps on one store: app "big" holds benchBig messages,
// nine in ten of them with "dinner"; app "small" has a caller who sees few
// messages (benchFew, a third with "dinner") and one who sees many
// (benchMany in the benchmark) without "dinner". Issue 10 item 11: a search's cost should
// follow the caller's data, not the server's.
type tenantWorld struct {
	db               *sqlite.DB
	big, small       int64
	fewUser, manyUse int64
}

const (
	benchBig  = 120_000
	benchFew  = 60
	benchMany = 20_000
)

func seedTenants(tb testing.TB, ctx context.Context, dir string, big, many int) *tenantWorld {
	db, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	w := &tenantWorld{db: db}
	n := 0
	app := func(name string) int64 {
		a := &auth.App{Name: name, AuthKey: name, AuthSecret: "s", CreatedAt: base}
		if err := db.CreateApp(ctx, a); err != nil {
			tb.Fatal(err)
		}
		return a.ID
	}
	user := func(app int64, login string) int64 {
		u := &auth.User{AppID: app, Login: login, PasswordHash: "h", CreatedAt: base, UpdatedAt: base}
		if err := db.CreateUser(ctx, u); err != nil {
			tb.Fatal(err)
		}
		return u.ID
	}
	dialog := func(app, owner int64) string {
		n++
		id := fmt.Sprintf("d%023x", n)
		if err := db.Tx(ctx, func(tx chat.Tx) error {
			if err := tx.InsertDialog(ctx, &chat.Dialog{ID: id, AppID: app, Type: chat.Group, Name: "g", OwnerID: owner,
				CreatedAt: base, UpdatedAt: base}); err != nil {
				return err
			}
			return tx.PutMember(ctx, &chat.Member{DialogID: id, UserID: owner, IsMember: true, Notifications: true})
		}); err != nil {
			tb.Fatal(err)
		}
		return id
	}
	send := func(app, sender int64, dialogs []string, count int, body func(i int) string) {
		for start := 0; start < count; start += 1000 {
			var batch []*chat.Message
			for i := start; i < min(count, start+1000); i++ {
				n++
				batch = append(batch, &chat.Message{ID: fmt.Sprintf("a%023x", n), AppID: app, DialogID: dialogs[i%len(dialogs)],
					SenderID: sender, Body: body(i), DateSent: base.Unix() + int64(i), CreatedAt: base, UpdatedAt: base})
			}
			err := db.Tx(ctx, func(tx chat.Tx) error {
				if n, _, err := tx.InsertMessages(ctx, batch); err != nil || n != len(batch) {
					return fmt.Errorf("inserted %d of %d: %v", n, len(batch), err)
				}
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	bigApp := app("big")
	w.big = bigApp
	bigUser := user(bigApp, "big")
	var bigDialogs []string
	for range 20 {
		bigDialogs = append(bigDialogs, dialog(bigApp, bigUser))
	}
	w.small = app("small")
	w.fewUser, w.manyUse = user(w.small, "few"), user(w.small, "many")
	few, manyDialog := dialog(w.small, w.fewUser), dialog(w.small, w.manyUse)
	// Interleaved as tenants' traffic is: the small app's messages among
	// the big one's.
	for part := range 10 {
		send(bigApp, bigUser, bigDialogs, big/10, func(i int) string {
			if i%10 == 9 {
				return fmt.Sprintf("lunch at one, table %d of part %d", i, part)
			}
			return fmt.Sprintf("dinner at eight, table %d of part %d", i, part)
		})
		send(w.small, w.fewUser, []string{few}, benchFew/10, func(i int) string {
			if i%3 == 0 {
				return fmt.Sprintf("dinner for two, note %d of part %d", i, part)
			}
			return fmt.Sprintf("breakfast, note %d of part %d", i, part)
		})
		send(w.small, w.manyUse, []string{manyDialog}, many/10, func(i int) string {
			return fmt.Sprintf("lunch for two, note %d of part %d", i, part)
		})
	}
	// Index everything before measuring: a search through the index
	// brings it up to date first (the caller with many messages searches
	// through the index).
	if _, err := db.SearchMessages(ctx, w.small, w.manyUse, chat.Search{Text: "dinner", Limit: 1}); err != nil {
		tb.Fatal(err)
	}
	return w
}

// BenchmarkSearchAcrossTenants: "dinner" matches 108,000 messages of
// another app; the caller sees 20 of them (few) or none among 20,000
// messages (many).
//
//	go test -run XXX -bench SearchAcrossTenants -benchtime 50x ./internal/store/sqlite/
func BenchmarkSearchAcrossTenants(b *testing.B) {
	ctx := context.Background()
	w := seedTenants(b, ctx, b.TempDir(), benchBig, benchMany)
	for _, c := range []struct {
		name string
		user int64
		want int
		scan int // the store's threshold; 0: its default
	}{
		{"few", w.fewUser, benchFew / 3, 0},
		{"many", w.manyUse, 0, 0},
		// What reading the caller's messages would cost for many: the
		// price of a higher threshold.
		{"many-read", w.manyUse, 0, benchMany},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.scan != 0 {
				w.db.SetSearchScan(c.scan)
				defer w.db.SetSearchScan(sqlite.DefaultSearchScan)
			}
			for b.Loop() {
				found, err := w.db.SearchMessages(ctx, w.small, c.user, chat.Search{Text: "dinner", Limit: 100})
				if err != nil {
					b.Fatal(err)
				}
				if len(found) != c.want {
					b.Fatalf("found %d, want %d", len(found), c.want)
				}
			}
		})
	}
}
