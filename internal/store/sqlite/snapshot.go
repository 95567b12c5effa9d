package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A snapshot is a consistent copy of the store taken beside a running
// server, with VACUUM INTO: it reads the source in one read transaction
// (WAL lets the server's writer go on meanwhile) and writes a compact,
// self-contained file with no WAL of its own. SQLite's online backup API
// was the other choice; stepped, it starts over whenever another process
// writes between steps, which under sustained load may be forever.
//
// parley.db and search.db are two files, read in two transactions, so
// they are not one moment. The index (fts.go) is safe to restore when it
// is no newer than parley.db: it then catches up from its marks. So
// search.db is copied first. The one thing that can still go wrong is an
// indexing pass that commits between the two copies and then prunes the
// change log (fts_changes) in parley.db: the copy of search.db has not
// applied those edits and deletes, and the copy of parley.db no longer
// lists them. CopyStore detects that (the log's ids are AUTOINCREMENT and
// only ever pruned from the bottom) and takes both copies again; a copy
// that stays inconsistent is left out, and the index is rebuilt from the
// messages at the restored server's first start.

// snapshotTries bounds how often CopyStore retakes an inconsistent pair.
const snapshotTries = 3

// Progress is told, about once a second while a file is being copied,
// how many bytes of it are written and roughly how many there will be.
type Progress func(file string, written, total int64)

// StoreCopy describes what CopyStore wrote.
type StoreCopy struct {
	// Search: search.db was copied (else the index is rebuilt at start).
	Search bool
	// SearchNote says why search.db was left out.
	SearchNote string
	// LastMessageSeq is the newest message in the copy.
	LastMessageSeq int64
	// Migrations are the schema migrations the copy has applied.
	Migrations []int
}

// ErrNewerSchema is wrapped by CheckCopy's error for a copy with a
// schema migration this binary does not know.
var ErrNewerSchema = errors.New("newer schema")

// ErrNoStore is returned by CopyStore for a directory without parley.db.
var ErrNoStore = errors.New("no Parley store here")

// CopyStore writes consistent copies of dataDir's parley.db and search.db
// into dstDir (which must exist and hold neither).
func CopyStore(ctx context.Context, dataDir, dstDir string, progress Progress) (StoreCopy, error) {
	src := filepath.Join(dataDir, FileName)
	if _, err := os.Stat(src); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return StoreCopy{}, fmt.Errorf("%w: %s does not exist", ErrNoStore, src)
		}
		return StoreCopy{}, err
	}
	dst := filepath.Join(dstDir, FileName)
	searchSrc := filepath.Join(dataDir, SearchFileName)
	searchDst := filepath.Join(dstDir, SearchFileName)
	_, err := os.Stat(searchSrc)
	haveSearch := err == nil
	note := "no search.db in the data dir"
	for try := 1; ; try++ {
		for _, p := range []string{dst, searchDst} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return StoreCopy{}, err
			}
		}
		if haveSearch {
			if err := copyFile(ctx, searchSrc, searchDst, progress); err != nil {
				return StoreCopy{}, err
			}
		}
		if err := copyFile(ctx, src, dst, progress); err != nil {
			return StoreCopy{}, err
		}
		info, err := inspectCopy(ctx, dst)
		if err != nil {
			return StoreCopy{}, err
		}
		if !haveSearch {
			info.SearchNote = note
			return info, nil
		}
		ok, why, retry, err := searchConsistent(ctx, dst, searchDst)
		if err != nil {
			return StoreCopy{}, err
		}
		if ok {
			info.Search = true
			return info, nil
		}
		if !retry || try == snapshotTries {
			if err := os.Remove(searchDst); err != nil {
				return StoreCopy{}, err
			}
			info.SearchNote = why
			return info, nil
		}
	}
}

// copyFile runs VACUUM INTO from src to dst, reporting dst's growth.
func copyFile(ctx context.Context, src, dst string, progress Progress) error {
	db, err := openSingle(dsn(src, false))
	if err != nil {
		return err
	}
	defer db.Close()
	// query_only forbids VACUUM INTO; this connection never writes src.
	if _, err := db.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("sqlite: copy %s: %w", src, err)
	}
	var pages, free, size int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).Scan(&pages, &free, &size); err != nil {
		return fmt.Errorf("sqlite: copy %s: %w", src, err)
	}
	total := (pages - free) * size
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if st, err := os.Stat(dst); err == nil && progress != nil {
					progress(filepath.Base(dst), st.Size(), total)
				}
			}
		}
	}()
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, dst)
	close(done)
	<-stopped
	if err != nil {
		return fmt.Errorf("sqlite: copy %s: %w", src, err)
	}
	if progress != nil {
		if st, err := os.Stat(dst); err == nil {
			progress(filepath.Base(dst), st.Size(), st.Size())
		}
	}
	return nil
}

func inspectCopy(ctx context.Context, path string) (StoreCopy, error) {
	db, err := openSingle(dsn(path, false))
	if err != nil {
		return StoreCopy{}, err
	}
	defer db.Close()
	var info StoreCopy
	if err := db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)`).Scan(&info.LastMessageSeq); err != nil {
		return StoreCopy{}, fmt.Errorf("sqlite: read copy: %w", err)
	}
	info.Migrations, err = appliedList(ctx, db)
	return info, err
}

// searchConsistent reports whether the copy of search.db at searchPath
// may be restored beside the copy of parley.db at mainPath: not ahead of
// it, and with every change it has not applied still in the copy's log.
// retry: another pair of copies may do.
func searchConsistent(ctx context.Context, mainPath, searchPath string) (ok bool, why string, retry bool, err error) {
	s, err := openSingle(dsn(searchPath, false))
	if err != nil {
		return false, "", false, err
	}
	defer s.Close()
	var version int
	if err := s.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return false, "", false, fmt.Errorf("sqlite: read copy of search.db: %w", err)
	}
	if version != searchVersion {
		return false, fmt.Sprintf("search.db has index version %d (this parley: %d); rebuilt at start", version, searchVersion), false, nil
	}
	var upto, changesUpto int64
	if err := s.QueryRowContext(ctx, `SELECT upto, changes_upto FROM fts_state WHERE id = 1`).Scan(&upto, &changesUpto); err != nil {
		return false, "", false, fmt.Errorf("sqlite: read copy of search.db: %w", err)
	}
	m, err := openSingle(dsn(mainPath, false))
	if err != nil {
		return false, "", false, err
	}
	defer m.Close()
	var lastSeq, lastChange, minChange int64
	if err := m.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'fts_changes'), 0),
		COALESCE((SELECT MIN(id) FROM fts_changes), 0)`).Scan(&lastSeq, &lastChange, &minChange); err != nil {
		return false, "", false, fmt.Errorf("sqlite: read copy: %w", err)
	}
	if upto > lastSeq {
		return false, "the index moved ahead of the messages while they were copied; rebuilt at start", true, nil
	}
	// The log holds ids (pruned, lastChange]; pruned must not pass what
	// the index applied.
	pruned := lastChange
	if minChange > 0 {
		pruned = minChange - 1
	}
	if pruned > changesUpto {
		return false, "the index applied edits while the store was copied; rebuilt at start", true, nil
	}
	return true, "", false, nil
}

func appliedList(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CheckCopy verifies a copy of the store in dir before it is put in
// place: parley.db (and search.db, when there) pass integrity_check, and
// this binary knows every schema migration parley.db has applied (one it
// lacks would be applied at the first start).
func CheckCopy(ctx context.Context, dir string) ([]int, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	for _, name := range []string{FileName, SearchFileName} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue // only search.db may be missing (checked above)
		}
		if err := integrityCheck(ctx, p); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	db, err := openSingle(dsn(path, false))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	applied, err := appliedList(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	for _, v := range applied {
		if !known[v] {
			return nil, fmt.Errorf("%s has a %w: migration %d, which this binary does not know; restore it with the parley that made it, or a newer one", FileName, ErrNewerSchema, v)
		}
	}
	return applied, nil
}

func integrityCheck(ctx context.Context, path string) error {
	db, err := openSingle(dsn(path, false))
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" && len(problems) < 3 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity_check failed: %v", problems)
	}
	return nil
}
