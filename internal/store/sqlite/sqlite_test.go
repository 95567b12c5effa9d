package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
)

var base = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

// open opens a store in dir, closed when the test ends.
func open(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatalf("sqlite.Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// raw opens the store's file directly, bypassing the package, to inspect or
// tamper with what it wrote.
func raw(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open raw: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAuthStore(t *testing.T) {
	storetest.RunAuth(t, func(t *testing.T) auth.Store { return open(t, t.TempDir()) })
}

func TestChatStore(t *testing.T) {
	storetest.RunChat(t, func(t *testing.T) storetest.ChatStore { return open(t, t.TempDir()) })
}

func schemaRows(t *testing.T, dir string) (rows, distinct, max int) {
	t.Helper()
	err := raw(t, dir).QueryRowContext(t.Context(),
		`SELECT COUNT(*), COUNT(DISTINCT version), COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&rows, &distinct, &max)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return rows, distinct, max
}

// migrationFiles counts the embedded migrations (their numbers may have
// gaps while branches of work reserve them, see migrate).
func migrationFiles(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v, %d files", err, len(files))
	}
	return len(files)
}

func TestMigrationsSurviveReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	v1, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatalf("SchemaVersion: %v", err)
	}
	if v1 < 1 {
		t.Fatalf("SchemaVersion of a new store = %d; want at least 1", v1)
	}
	app := &auth.App{Name: "keep", AuthKey: "k", AuthSecret: "s", DialogExtensions: []string{"a"}, CreatedAt: base}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	u := &auth.User{AppID: app.ID, Login: "alice", PasswordHash: "h", CreatedAt: base, UpdatedAt: base}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db2 := open(t, dir)
	v2, err := db2.SchemaVersion(ctx)
	if err != nil {
		t.Fatalf("SchemaVersion after reopen: %v", err)
	}
	if v2 != v1 {
		t.Errorf("SchemaVersion after reopen = %d; want %d", v2, v1)
	}
	got, err := db2.AppByID(ctx, app.ID)
	if err != nil {
		t.Fatalf("AppByID after reopen: %v", err)
	}
	if got.Name != "keep" || got.AuthKey != "k" || !got.CreatedAt.Equal(base) {
		t.Errorf("app after reopen = %+v", got)
	}
	if gu, err := db2.UserByID(ctx, app.ID, u.ID); err != nil || gu.Login != "alice" {
		t.Errorf("user after reopen = %+v, %v", gu, err)
	}
	rows, distinct, max := schemaRows(t, dir)
	if files := migrationFiles(t); rows != files || distinct != files || max != v1 {
		t.Errorf("schema_migrations has %d rows (%d versions, max %d); want each of the %d migrations once, up to %d", rows, distinct, max, files, v1)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatalf("SchemaVersion: %v", err)
	}
	db.Close()

	r := raw(t, dir)
	if _, err := r.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, v+1); err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	r.Close()

	db, err = sqlite.Open(ctx, dir, nil)
	if err == nil {
		db.Close()
		t.Fatalf("Open of a store at schema version %d (this binary knows %d) succeeded; want an error", v+1, v)
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %q; want it to say the store is newer", err)
	}
}

// TestConcurrentOpenNewStoreBothSucceed opens one new data directory from
// two goroutines at once, many times: both must succeed and each migration
// must be recorded once.
//
// A new file's switch to WAL mode does not wait on another opener's lock
// (SQLite skips the busy handler there), so Open retries on SQLITE_BUSY;
// without that, one of the two opens here fails now and then.
func TestConcurrentOpenNewStoreBothSucceed(t *testing.T) {
	// The race needs a few tries to show; a time budget keeps the passing
	// case (after the fix) cheap even under -race.
	deadline := time.Now().Add(3 * time.Second)
	for round := 0; round < 200 && time.Now().Before(deadline); round++ {
		dir := filepath.Join(t.TempDir(), "new", "data")
		var wg sync.WaitGroup
		var errs [2]error
		var dbs [2]*sqlite.DB
		start := make(chan struct{})
		for i := range 2 {
			wg.Go(func() {
				<-start
				dbs[i], errs[i] = sqlite.Open(t.Context(), dir, nil)
			})
		}
		close(start)
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil {
				t.Errorf("round %d: Open #%d: %v", round, i, errs[i])
				continue
			}
			v, err := dbs[i].SchemaVersion(t.Context())
			if err != nil || v < 1 {
				t.Errorf("round %d: Open #%d: SchemaVersion = %d, %v", round, i, v, err)
			}
			dbs[i].Close()
		}
		if t.Failed() {
			return
		}
		rows, distinct, max := schemaRows(t, dir)
		if rows != distinct || rows != migrationFiles(t) {
			t.Fatalf("round %d: schema_migrations has %d rows for %d versions (max %d); want each migration recorded once", round, rows, distinct, max)
		}
	}
}

// TestOpenNewStoreWaitsForLock holds the write lock on a new
// store's file, as a second opener does while its DSN's journal_mode(WAL)
// pragma converts the file, and checks that Open waits for the lock (its
// busy_timeout is 10s) and then succeeds, as it does on an existing store.
//
// On a new (still rollback-journal) file SQLite does not call the busy
// handler for the WAL conversion, so without Open's retry this fails at
// once; two processes starting on a new data directory at once hit it.
func TestOpenNewStoreWaitsForLock(t *testing.T) {
	for _, existing := range []bool{false, true} {
		name := "new store"
		if existing {
			name = "existing store"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if existing {
				db, err := sqlite.Open(t.Context(), dir, nil)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				db.Close()
			}
			r, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			conn, err := r.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
				t.Fatalf("BEGIN IMMEDIATE: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				db, err := sqlite.Open(context.Background(), dir, nil)
				if err == nil {
					db.Close()
				}
				done <- err
			}()
			// While the lock is held Open cannot finish; returning at all
			// means it gave up instead of waiting.
			select {
			case err := <-done:
				t.Fatalf("Open returned while another connection held the write lock: %v; want it to wait for the lock", err)
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
				t.Fatalf("ROLLBACK: %v", err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Open after the lock was released: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Open did not return within 10s of the lock being released")
			}
		})
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	ctx := t.Context()
	db := open(t, t.TempDir())
	app := &auth.App{Name: "a", AuthKey: "k", AuthSecret: "s", CreatedAt: base}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	now := base.Add(24 * time.Hour)
	sessions := map[string]time.Time{
		"long-expired":  now.Add(-time.Hour),
		"just-expired":  now.Add(-time.Microsecond),
		"expires-now":   now, // expired: auth.Service treats !now.Before(ExpiresAt) as expired
		"live":          now.Add(time.Microsecond),
		"live-for-long": now.Add(time.Hour),
	}
	expired := map[string]bool{"long-expired": true, "just-expired": true, "expires-now": true}
	for token, exp := range sessions {
		s := &auth.Session{AppID: app.ID, TokenHash: auth.HashToken(token), CreatedAt: base, UpdatedAt: base, ExpiresAt: exp}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession(%s): %v", token, err)
		}
	}
	n, err := db.DeleteExpiredSessions(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpiredSessions: %v", err)
	}
	if n != int64(len(expired)) {
		t.Errorf("DeleteExpiredSessions removed %d; want %d", n, len(expired))
	}
	for token := range sessions {
		_, err := db.SessionByTokenHash(ctx, auth.HashToken(token))
		switch {
		case expired[token] && !errors.Is(err, auth.ErrNotFound):
			t.Errorf("expired session %q still found (err %v)", token, err)
		case !expired[token] && err != nil:
			t.Errorf("live session %q: %v", token, err)
		}
	}
	if n, err := db.DeleteExpiredSessions(ctx, now); err != nil || n != 0 {
		t.Errorf("second DeleteExpiredSessions = %d, %v; want 0, nil", n, err)
	}
}

// TestConcurrentWritesAndReads drives one DB from many goroutines at once:
// writes queue on the single writer connection and reads run beside it, so
// no SQLITE_BUSY ("database is locked") may surface.
func TestConcurrentWritesAndReads(t *testing.T) {
	ctx := t.Context()
	db := open(t, t.TempDir())
	app := &auth.App{Name: "a", AuthKey: "k", AuthSecret: "s", CreatedAt: base}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	const workers, perWorker = 16, 10
	var wg sync.WaitGroup
	errc := make(chan error, workers*perWorker*8)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if err := oneClient(ctx, db, app.ID, w, i); err != nil {
					errc <- fmt.Errorf("worker %d op %d: %w", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	var n int
	for err := range errc {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("... and %d more errors", n-10)
	}
	_, total, err := db.ListUsers(ctx, app.ID, auth.UserQuery{Limit: 1})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if total != workers*perWorker {
		t.Errorf("users = %d; want %d", total, workers*perWorker)
	}
}

// oneClient is what one signing-up client does: create a user, open a
// session, read both back, touch the session, list users.
func oneClient(ctx context.Context, db *sqlite.DB, appID int64, w, i int) error {
	at := base.Add(time.Duration(w*1000+i) * time.Millisecond)
	login := fmt.Sprintf("user-%d-%d", w, i)
	u := &auth.User{AppID: appID, Login: login, Email: login + "@example.com", PasswordHash: "h",
		Tags: []string{"t" + fmt.Sprint(w%3)}, CreatedAt: at, UpdatedAt: at}
	if err := db.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("CreateUser: %w", err)
	}
	s := &auth.Session{AppID: appID, UserID: u.ID, TokenHash: auth.HashToken(login), CreatedAt: at, UpdatedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		return fmt.Errorf("CreateSession: %w", err)
	}
	if got, err := db.UserByField(ctx, appID, "login", login); err != nil || got.ID != u.ID {
		return fmt.Errorf("UserByField: %v, %w", got, err)
	}
	if got, err := db.SessionByTokenHash(ctx, s.TokenHash); err != nil || got.ID != s.ID {
		return fmt.Errorf("SessionByTokenHash: %v, %w", got, err)
	}
	s.UpdatedAt = at.Add(time.Minute)
	s.ExpiresAt = s.UpdatedAt.Add(time.Hour)
	if err := db.TouchSession(ctx, s); err != nil {
		return fmt.Errorf("TouchSession: %w", err)
	}
	if _, _, err := db.ListUsers(ctx, appID, auth.UserQuery{Conds: []auth.UserCond{{Field: "user_tags", Op: "eq", Values: []any{"t1"}}}, Limit: 10}); err != nil {
		return fmt.Errorf("ListUsers: %w", err)
	}
	return nil
}
