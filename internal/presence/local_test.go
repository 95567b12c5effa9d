package presence_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

func openStore(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Many sessions of many users arriving and leaving at once: each user's
// watcher sees exactly its transitions, alternating online and offline,
// and nobody is left online.
func TestTransitionsExactlyOnceInOrder(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	l := presence.NewLocal(db, nil, nil)
	var mu sync.Mutex
	seen := map[int64][]bool{}
	l.Watch(func(c presence.Change) {
		mu.Lock()
		seen[c.UserID] = append(seen[c.UserID], c.Online)
		mu.Unlock()
	})
	const users, sessions, rounds = 20, 4, 50
	var wg sync.WaitGroup
	for u := int64(1); u <= users; u++ {
		for range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					l.Arrive(1, u)
					l.Leave(1, u, time.Now())
				}
			}()
		}
	}
	wg.Wait()
	if n := l.Available(); n != 0 {
		t.Fatalf("%d users still available", n)
	}
	for u := int64(1); u <= users; u++ {
		got := seen[u]
		if len(got) == 0 || len(got)%2 != 0 {
			t.Fatalf("user %d: %d transitions", u, len(got))
		}
		for i, online := range got {
			if online != (i%2 == 0) {
				t.Fatalf("user %d: transition %d is online=%t; want alternating, starting online", u, i, online)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// Last seen is visible before it is written, written by Close, and read
// from the store by the next process; an offline change carries the
// latest activity of the sessions that went away.
func TestLastSeenWrittenBehind(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	l := presence.NewLocal(db, nil, clock)
	var changes []presence.Change
	l.Watch(func(c presence.Change) { changes = append(changes, c) })
	ctx := context.Background()

	if st, err := l.Status(ctx, 1, 7); err != nil || st.Known() {
		t.Fatalf("never connected: %+v %v", st, err)
	}
	l.Arrive(1, 7)
	l.Arrive(1, 7)
	if st, _ := l.Status(ctx, 1, 7); !st.Online {
		t.Fatalf("status = %+v; want online", st)
	}
	if ids, total, _ := l.Online(ctx, 1, 0, 10); total != 1 || len(ids) != 1 || ids[0] != 7 {
		t.Fatalf("online = %v (%d)", ids, total)
	}
	if _, total, _ := l.Online(ctx, 2, 0, 10); total != 0 {
		t.Fatal("another app sees user 7 online")
	}
	active := now.Add(-time.Minute)
	l.Leave(1, 7, active)                 // one of two: no transition
	l.Leave(1, 7, active.Add(-time.Hour)) // the last one, idle for longer
	if len(changes) != 2 || !changes[0].Online || changes[1].Online || !changes[1].LastActive.Equal(active) {
		t.Fatalf("changes = %+v", changes)
	}
	if s := changes[1].Seconds(now); s != 60 {
		t.Fatalf("offline push seconds = %d; want 60", s)
	}
	if st, _ := l.Status(ctx, 1, 7); st.Online || !st.LastSeen.Equal(now) {
		t.Fatalf("status = %+v; want last seen %v", st, now)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db2 := openStore(t, dir)
	defer db2.Close()
	l2 := presence.NewLocal(db2, nil, clock)
	defer l2.Close()
	if st, err := l2.Status(ctx, 1, 7); err != nil || st.Online || !st.LastSeen.Equal(now) {
		t.Fatalf("after a restart: %+v %v; want last seen %v", st, err, now)
	}
	if st, _ := l2.Status(ctx, 2, 7); st.Known() {
		t.Fatal("user 7 is known in another app")
	}
}
