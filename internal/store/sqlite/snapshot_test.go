package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// CopyStore's copies of one moment are consistent; a search.db copied
// before an indexing pass that applied an edit (and pruned the change
// log) beside a parley.db copied after it is not, nor is a search.db
// ahead of the messages; both are detected.
func TestCopyStoreDetectsTornPairs(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	msgs := f.store("coffee tomorrow?", "tea tomorrow")
	f.expect("coffee", "coffee tomorrow?") // indexed

	early := t.TempDir()
	info, err := sqlite.CopyStore(ctx, f.dir, early, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Search || info.LastMessageSeq != 2 || len(info.Migrations) == 0 {
		t.Fatalf("copy: %+v", info)
	}
	if err := f.db.Tx(ctx, func(tx chat.Tx) error { return tx.UpdateMessageBody(ctx, msgs[0].ID, "juice later", base) }); err != nil {
		t.Fatal(err)
	}
	f.expect("coffee") // the edit is applied, its log entry pruned
	late := t.TempDir()
	if _, err := sqlite.CopyStore(ctx, f.dir, late, nil); err != nil {
		t.Fatal(err)
	}

	pair := func(mainDir, searchDir string) (bool, bool) {
		t.Helper()
		ok, retry, err := sqlite.SearchConsistent(ctx, filepath.Join(mainDir, sqlite.FileName), filepath.Join(searchDir, sqlite.SearchFileName))
		if err != nil {
			t.Fatal(err)
		}
		return ok, retry
	}
	if ok, _ := pair(early, early); !ok {
		t.Fatal("early copies: inconsistent")
	}
	if ok, _ := pair(late, late); !ok {
		t.Fatal("late copies: inconsistent")
	}
	if ok, retry := pair(late, early); ok || !retry {
		t.Fatalf("search.db before the edit's pass, parley.db after: ok=%v retry=%v; want a retry", ok, retry)
	}

	f.store("coffee again")
	f.expect("coffee", "coffee again")
	newest := t.TempDir()
	if _, err := sqlite.CopyStore(ctx, f.dir, newest, nil); err != nil {
		t.Fatal(err)
	}
	if ok, _ := pair(late, newest); ok {
		t.Fatal("search.db ahead of parley.db: consistent")
	}
	for _, dir := range []string{early, late, newest} {
		if _, err := sqlite.CheckCopy(ctx, dir); err != nil {
			t.Fatalf("CheckCopy: %v", err)
		}
	}
}
