package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

// TestUsersMigrationKeepsDataAndRetiresIDs opens a store written at schema
// version 4 (users without AUTOINCREMENT) that holds users, a deleted
// user's traces and every users index, and checks that migration 5 keeps
// every row and index and starts new ids above every id still named
// anywhere, so that neither the deleted newest user's id nor a trace's is
// handed out again.
func TestUsersMigrationKeepsDataAndRetiresIDs(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
	for _, m := range ms[:4] {
		exec(m.sql)
		exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, m.version, m.name)
	}
	exec(`INSERT INTO apps (id, name, auth_key, auth_secret, created_at) VALUES (1, 'a', 'k', 's', 0)`)
	exec(`INSERT INTO users (id, app_id, login, email, password_hash, created_at, updated_at, user_tags) VALUES
		(1, 1, 'alice', 'alice@example.com', 'h1', 10, 11, 'x,y'),
		(2, 1, 'bob', NULL, 'h2', 20, 21, NULL),
		(5, 1, 'carol', NULL, 'h5', 50, 51, NULL)`)
	// User 5 was the newest; user 9 was deleted before the migration but
	// is still an occupant of a dialog.
	exec(`DELETE FROM users WHERE id = 5`)
	exec(`INSERT INTO dialogs (id, app_id, type, owner_id, created_at, updated_at) VALUES ('aaaaaaaaaaaaaaaaaaaaaaaa', 1, 2, 1, 0, 0)`)
	exec(`INSERT INTO members (dialog_id, user_id, member) VALUES ('aaaaaaaaaaaaaaaaaaaaaaaa', 9, 1)`)
	var wantIndexes []string
	indexes := func(db *sql.DB) []string {
		rows, err := db.QueryContext(ctx, `SELECT name || ':' || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	wantIndexes = indexes(old)
	old.Close()

	db, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v < 5 {
		t.Fatalf("schema version %d after Open; want at least 5", v)
	}
	if got := indexes(db.r); !slices.Equal(got, wantIndexes) {
		t.Errorf("users indexes after migration:\n%q\nwant\n%q", got, wantIndexes)
	}
	alice, err := db.UserByID(ctx, 1, 1)
	if err != nil || alice.Login != "alice" || alice.Email != "alice@example.com" || alice.PasswordHash != "h1" ||
		!slices.Equal(alice.Tags, []string{"x", "y"}) || alice.CreatedAt.UnixMicro() != 10 {
		t.Errorf("alice after migration = %+v, %v", alice, err)
	}
	if _, err := db.UserByField(ctx, 1, "login", "bob"); err != nil {
		t.Errorf("bob by login after migration: %v", err)
	}
	// The unique index still guards logins.
	dup := &auth.User{AppID: 1, Login: "bob", PasswordHash: "h", CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0)}
	if err := db.CreateUser(context.Background(), dup); err == nil {
		t.Errorf("a second bob was created after the migration")
	}
	u := &auth.User{AppID: 1, Login: "dave", PasswordHash: "h", CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0)}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID <= 9 {
		t.Errorf("new user after the migration got id %d; want above 9 (deleted user 9 is still an occupant)", u.ID)
	}
}
