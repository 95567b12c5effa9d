package sqlite_test

import (
	"fmt"
	"testing"
	"time"
)

// Offline rows are kept until deleted up to an id, read a page at a time
// from a cursor, refused (not made room for) at the cap, and expired by
// age with a count.
func TestOfflinePeekDeleteCapAndExpiry(t *testing.T) {
	db := open(t, t.TempDir())
	ctx := t.Context()
	const app, bob, carol = 1, 7, 8
	for i := 0; i < 5; i++ {
		kept, err := db.PushOffline(ctx, app, bob, []byte(fmt.Sprint(i)), base.Add(time.Duration(i)*time.Hour), 4)
		if err != nil || kept != (i < 4) {
			t.Fatalf("push %d: kept %v, %v; want kept only under the cap of 4", i, kept, err)
		}
	}
	if kept, err := db.PushOffline(ctx, app, carol, []byte("c"), base, 4); err != nil || !kept {
		t.Fatalf("another user's cap is their own: %v, %v", kept, err)
	}
	page, err := db.PeekOffline(ctx, app, bob, 0, 3)
	if err != nil || len(page) != 3 || string(page[0].Stanza) != "0" || string(page[2].Stanza) != "2" || !page[1].At.Equal(base.Add(time.Hour)) {
		t.Fatalf("first page: %v, %v", page, err)
	}
	next, err := db.PeekOffline(ctx, app, bob, page[2].ID, 3)
	if err != nil || len(next) != 1 || string(next[0].Stanza) != "3" {
		t.Fatalf("second page: %v, %v", next, err)
	}
	// Peeking removes nothing; deleting up to an id removes just those.
	if err := db.DeleteOffline(ctx, app, bob, page[1].ID); err != nil {
		t.Fatal(err)
	}
	rest, _ := db.PeekOffline(ctx, app, bob, 0, 10)
	if len(rest) != 2 || string(rest[0].Stanza) != "2" {
		t.Fatalf("after deleting the first two: %v", rest)
	}
	if kept, _ := db.PushOffline(ctx, app, bob, []byte("4"), base.Add(4*time.Hour), 4); !kept {
		t.Fatal("room under the cap again, but not kept")
	}
	n, err := db.ExpireOffline(ctx, app, bob, base.Add(3*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want the one kept at 2h", n, err)
	}
	rest, _ = db.PeekOffline(ctx, app, bob, 0, 10)
	if len(rest) != 2 || string(rest[0].Stanza) != "3" || string(rest[1].Stanza) != "4" {
		t.Fatalf("after expiry: %v", rest)
	}
	if c, _ := db.PeekOffline(ctx, app, carol, 0, 10); len(c) != 1 {
		t.Fatalf("carol's rows touched: %v", c)
	}
}
