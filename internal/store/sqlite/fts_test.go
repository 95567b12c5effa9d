package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// searchFixture is a store in dir with one group of one member, where
// messages are stored and searched.
type searchFixture struct {
	t      *testing.T
	dir    string
	db     *sqlite.DB
	app    int64
	user   int64
	dialog string
	n      int
}

func newSearchFixture(t *testing.T) *searchFixture {
	f := &searchFixture{t: t, dir: t.TempDir(), dialog: "d00000000000000000000001"}
	f.db = open(t, f.dir)
	f.db.SetSearchScan(-1) // these tests are about the index
	ctx := t.Context()
	app := &auth.App{Name: "search", AuthKey: "k", AuthSecret: "s", CreatedAt: base}
	if err := f.db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	u := &auth.User{AppID: app.ID, Login: "reader", PasswordHash: "h", CreatedAt: base, UpdatedAt: base}
	if err := f.db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	f.app, f.user = app.ID, u.ID
	err := f.db.Tx(ctx, func(tx chat.Tx) error {
		if err := tx.InsertDialog(ctx, &chat.Dialog{ID: f.dialog, AppID: app.ID, Type: chat.Group, Name: "g", OwnerID: u.ID,
			CreatedAt: base, UpdatedAt: base}); err != nil {
			return err
		}
		return tx.PutMember(ctx, &chat.Member{DialogID: f.dialog, UserID: u.ID, IsMember: true, Notifications: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// store stores messages with these bodies and returns them.
func (f *searchFixture) store(bodies ...string) []*chat.Message {
	f.t.Helper()
	var msgs []*chat.Message
	for _, b := range bodies {
		f.n++
		msgs = append(msgs, &chat.Message{ID: fmt.Sprintf("a%023x", f.n), AppID: f.app, DialogID: f.dialog, SenderID: f.user,
			Body: b, DateSent: base.Unix(), CreatedAt: base, UpdatedAt: base})
	}
	err := f.db.Tx(f.t.Context(), func(tx chat.Tx) error {
		n, _, err := tx.InsertMessages(f.t.Context(), msgs)
		if err == nil && n != len(msgs) {
			err = fmt.Errorf("stored %d of %d", n, len(msgs))
		}
		return err
	})
	if err != nil {
		f.t.Fatalf("InsertMessages: %v", err)
	}
	return msgs
}

// search returns the bodies found for text, sorted.
func (f *searchFixture) search(text string) []string {
	f.t.Helper()
	found, err := f.db.SearchMessages(f.t.Context(), f.app, f.user, chat.Search{Text: text, Limit: 100})
	if err != nil {
		f.t.Fatalf("search %q: %v", text, err)
	}
	var out []string
	for _, m := range found {
		out = append(out, m.Body)
	}
	slices.Sort(out)
	return out
}

func (f *searchFixture) expect(text string, want ...string) {
	f.t.Helper()
	slices.Sort(want)
	if got := f.search(text); !slices.Equal(got, want) {
		f.t.Errorf("search %q = %q, want %q", text, got, want)
	}
}

func (f *searchFixture) reopen() {
	f.t.Helper()
	if err := f.db.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.db = open(f.t, f.dir)
	f.db.SetSearchScan(-1)
}

// integrity runs FTS5's own consistency check on the index file.
func integrity(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.SearchFileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`); err != nil {
		t.Fatalf("index integrity: %v", err)
	}
}

// The index in its own file follows every change made to the messages,
// whether it had indexed them already or not yet, and stays consistent.
func TestSearchIndexFollowsEditsAndDeletes(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	msgs := f.store("coffee tomorrow?", "tea tomorrow", "coffee now")
	f.expect("coffee", "coffee tomorrow?", "coffee now")

	// Indexed already: an edit and a delete.
	if err := f.db.Tx(ctx, func(tx chat.Tx) error {
		if err := tx.UpdateMessageBody(ctx, msgs[0].ID, "juice later", base); err != nil {
			return err
		}
		return tx.DeleteMessage(ctx, msgs[2])
	}); err != nil {
		t.Fatal(err)
	}
	// Not indexed yet: stored, edited and deleted before any search.
	late := f.store("coffee soon", "coffee gone")
	if err := f.db.Tx(ctx, func(tx chat.Tx) error {
		if err := tx.UpdateMessageBody(ctx, late[0].ID, "decaf soon", base); err != nil {
			return err
		}
		return tx.DeleteMessage(ctx, late[1])
	}); err != nil {
		t.Fatal(err)
	}
	f.expect("coffee")
	f.expect("juice", "juice later")
	f.expect("decaf", "decaf soon")
	f.expect("tomorrow", "tea tomorrow")
	f.expect("ea tom", "tea tomorrow")
	integrity(t, f.dir)

	// The index is derived: deleted, it is rebuilt from the messages.
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(f.dir, sqlite.SearchFileName+suffix))
	}
	f.db = open(t, f.dir)
	f.expect("tomorrow", "tea tomorrow")
	f.expect("soon", "decaf soon")
	integrity(t, f.dir)
}

// A data directory whose parley.db was put back from an older copy, under
// the newer index: the index is dropped and rebuilt rather than trusted
// (it would answer with the newer messages' bodies for reused seqs).
func TestSearchIndexAheadOfTheMessagesIsRebuilt(t *testing.T) {
	f := newSearchFixture(t)
	f.store("first message", "second message")
	f.expect("message", "first message", "second message")
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	backup := t.TempDir()
	copyFile(t, filepath.Join(f.dir, sqlite.FileName), filepath.Join(backup, sqlite.FileName))
	f.db = open(t, f.dir)
	f.store("third message", "fourth message")
	f.expect("message", "first message", "second message", "third message", "fourth message")
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to two messages; the index has four.
	os.Remove(filepath.Join(f.dir, sqlite.FileName+"-wal"))
	os.Remove(filepath.Join(f.dir, sqlite.FileName+"-shm"))
	copyFile(t, filepath.Join(backup, sqlite.FileName), filepath.Join(f.dir, sqlite.FileName))
	f.db = open(t, f.dir)
	f.store("a different third")
	f.expect("message", "first message", "second message")
	f.expect("different", "a different third")
	f.expect("fourth")
	integrity(t, f.dir)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Both ways a search runs (all matches collected, or a common text walked
// newest first) give the same answer: the newest visible matches, never
// one of a dialog the caller is not in.
func TestSearchPathsAgree(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	other := "d00000000000000000000002"
	if err := f.db.Tx(ctx, func(tx chat.Tx) error {
		return tx.InsertDialog(ctx, &chat.Dialog{ID: other, AppID: f.app, Type: chat.Group, Name: "other", OwnerID: f.user + 1000,
			CreatedAt: base, UpdatedAt: base})
	}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 30 {
		body := fmt.Sprintf("needle %02d", i)
		if i%3 == 0 {
			d := f.dialog
			f.dialog = other
			f.store(body)
			f.dialog = d
			continue
		}
		f.store(body)
		want = append(want, body)
	}
	slices.Reverse(want)
	want = want[:7]
	// The caller's messages read (scan 1000), or the index with all
	// matches collected (probe 10000) or walked newest first (probe 5).
	for _, c := range []struct{ scan, probe int }{{1000, 10000}, {-1, 10000}, {-1, 5}} {
		f.db.SetSearchScan(c.scan)
		restore := sqlite.SetSearchProbe(c.probe)
		found, err := f.db.SearchMessages(ctx, f.app, f.user, chat.Search{Text: "needle", Limit: 7})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range found {
			got = append(got, m.Body)
		}
		if !slices.Equal(got, want) {
			t.Errorf("scan %d probe %d: %q, want %q", c.scan, c.probe, got, want)
		}
	}
	f.db.SetSearchScan(-1)
	f.expect("no such text")
}

// Two processes on one data directory (a command-line tool beside the
// server) both index at once: a search still finds each message once, and
// the index stays consistent.
func TestTwoIndexersIndexEachMessageOnce(t *testing.T) {
	f := newSearchFixture(t)
	other := open(t, f.dir)
	var bodies []string
	for i := range 3000 {
		b := fmt.Sprintf("filler %d", i)
		if i%100 == 0 {
			b = fmt.Sprintf("needle %d", i)
		}
		bodies = append(bodies, b)
	}
	f.store(bodies...)
	errs := make(chan error, 2)
	for _, db := range []*sqlite.DB{f.db, other} {
		go func() {
			_, err := db.SearchMessages(t.Context(), f.app, f.user, chat.Search{Text: "needle", Limit: 100})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := f.search("needle"); len(got) != 30 {
		t.Fatalf("search finds %d needles, want 30 (each once): %q", len(got), got)
	}
	integrity(t, f.dir)
}

// An index of version 1 (no app column, from before searches walked their
// own app only) is dropped and rebuilt at the next start, and searches
// through it find what they found before.
func TestSearchIndexOfVersion1IsRebuilt(t *testing.T) {
	f := newSearchFixture(t)
	f.store("first message", "second message")
	f.expect("message", "first message", "second message")
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, sqlite.SearchFileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	// Version 1's schema, with both messages indexed in it.
	if _, err := old.Exec(`DROP TABLE messages_fts;
		CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='', contentless_delete=1, tokenize='trigram case_sensitive 1');
		INSERT INTO messages_fts (rowid, body) VALUES (1, 'first message'), (2, 'second message');
		UPDATE fts_state SET upto = 2;
		PRAGMA user_version = 1;`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	f.db = open(t, f.dir)
	f.db.SetSearchScan(-1)
	f.store("third message")
	f.expect("message", "first message", "second message", "third message")
	integrity(t, f.dir)
}
