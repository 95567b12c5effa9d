package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// The full-text index lives in its own database file, SearchFileName, with
// its own writer. Indexing is heavy (every three-character substring of a
// body is a term): done on parley.db's single writer, each batch held it
// for tens of milliseconds while every message being stored waited
// (measured at 20,000 messages per second: p99 latency 140-280 ms with the
// index in parley.db, 50 ms without indexing). In a file of its own it
// runs beside message storage, on the other core.
//
// The index is derived data. parley.db says what it must catch up with:
// the messages above the index's mark (upto), and fts_changes, a log of
// the bodies edited or deleted (written by triggers in the same
// transaction as the change). The index records in its own transactions
// how far it got in both, so a crash at any point leaves nothing behind:
// the indexer starts again from its marks. A search first brings the index
// up to date, so it sees every message stored before it.
//
// Deleting search.db while the server is stopped rebuilds it from the
// messages at the next start, in the background.
const (
	// SearchFileName is the full-text index's file inside the data
	// directory.
	SearchFileName = "search.db"
	// searchVersion is the index's schema; an index of another version is
	// dropped and rebuilt.
	// Version 2 added the app column (appToken): a search walks its own
	// app's matches only.
	searchVersion = 2

	ftsEvery   = 250 * time.Millisecond
	ftsBatch   = 2000 // messages indexed per transaction
	ftsChanges = 5000 // edits and deletes applied per transaction
)

// Contentless (the bodies stay in parley.db), with deletes by rowid. The
// index is shared by every app; app holds the message's app as one
// trigram (appToken), so that a search can restrict its walk to the
// caller's app: `body : "<text>" AND app : "<token>"`. body comes first:
// FTS5 marks the positions of every column but the first with the
// column's number, and with app first every body term's positions grew
// by it (a rare phrase's search got half slower, single-app seed).
const searchSchema = `
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    body, app, content='', contentless_delete=1, tokenize='trigram case_sensitive 1'
);
CREATE TABLE IF NOT EXISTS fts_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    upto         BIGINT NOT NULL,  -- messages with seq <= upto are indexed
    changes_upto BIGINT NOT NULL   -- fts_changes with id <= this are applied
);
INSERT OR IGNORE INTO fts_state (id, upto, changes_upto) VALUES (1, 0, 0);
-- Messages indexed per app (app 0: all), counted as they are added and
-- never taken back: what a search needs is each app's share of the index
-- (appShare), which edits and deletes hardly move.
CREATE TABLE IF NOT EXISTS fts_apps (
    app BIGINT PRIMARY KEY,
    n   BIGINT NOT NULL
) WITHOUT ROWID;
`

// openSearchWriter opens (creating or rebuilding when needed) the index's
// file. An index ahead of parley.db (a data directory restored from a
// backup under a newer search.db) is dropped: it would skip messages.
func openSearchWriter(ctx context.Context, dataDir string, main *sql.DB) (*sql.DB, error) {
	path := filepath.Join(dataDir, SearchFileName)
	w, err := openSingle(dsn(path, true))
	if err != nil {
		return nil, err
	}
	var lastSeq int64
	if err := main.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)`).Scan(&lastSeq); err != nil {
		w.Close()
		return nil, err
	}
	err = retryBusy(ctx, func() error {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var version int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
			return err
		}
		stale := version != 0 && version != searchVersion
		if version == searchVersion {
			var upto int64
			if err := tx.QueryRowContext(ctx, `SELECT upto FROM fts_state WHERE id = 1`).Scan(&upto); err != nil {
				return err
			}
			stale = upto > lastSeq
		}
		if stale {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS messages_fts; DROP TABLE IF EXISTS fts_state; DROP TABLE IF EXISTS fts_apps`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, searchSchema+fmt.Sprintf("PRAGMA user_version = %d;", searchVersion)); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return w, nil
}

// openSearchReaders opens the pool searches run on: readers of parley.db
// with the index attached as schema "search", so that one query joins the
// matches with the messages and their visibility.
func openSearchReaders(dataDir string) *sql.DB {
	drv := &sqlite.Driver{}
	searchPath := filepath.Join(dataDir, SearchFileName)
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		ctx := context.Background()
		if _, err := c.ExecContext(ctx, `ATTACH DATABASE ? AS search`, []driver.NamedValue{{Ordinal: 1, Value: searchPath}}); err != nil {
			return err
		}
		_, err := c.ExecContext(ctx, `PRAGMA search.cache_size = -65536`, nil)
		return err
	})
	r := sql.OpenDB(connector{drv: drv, dsn: dsn(filepath.Join(dataDir, FileName), false)})
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return r
}

// connector opens connections of one DSN through a driver of our own
// (database/sql's connector for a driver not registered by name).
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

type ftsIndexer struct {
	db   *DB
	log  *slog.Logger
	mu   sync.Mutex // one indexing pass at a time
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newFTSIndexer(db *DB, log *slog.Logger) *ftsIndexer {
	f := &ftsIndexer{db: db, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go f.loop()
	return f
}

// poke tells the indexer there is work, without waiting.
func (f *ftsIndexer) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *ftsIndexer) loop() {
	defer close(f.done)
	t := time.NewTicker(ftsEvery)
	defer t.Stop()
	pending := true // catch up with whatever an earlier run left
	for {
		select {
		case <-f.stop:
			return
		case <-f.wake:
			pending = true
		case <-t.C:
			if !pending {
				continue
			}
			pending = false
			if err := f.flush(context.Background()); err != nil {
				f.log.Warn("sqlite: full-text indexing failed; retrying", "err", err)
				pending = true
			}
		}
	}
}

type indexed struct {
	seq  int64
	app  int64
	body string
}

// appToken writes an app id as exactly three characters of Unicode's
// first private use area (4,096 values each: ids below 2^36), so that the
// trigram tokenizer indexes it as one term, whose doclist is the app's
// messages. Text is only ever matched in the body column, so no message
// can pose as an app.
func appToken(app int64) string {
	const base, digit = 4096, 0xE000
	return string([]rune{digit + rune(app/base/base%base), digit + rune(app/base%base), digit + rune(app%base)})
}

// flush brings the index up to date with parley.db: the bodies that
// changed below its mark, then the messages above it, a batch per
// transaction.
func (f *ftsIndexer) flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		var upto, changesUpto int64
		if err := f.db.fw.QueryRowContext(ctx, `SELECT upto, changes_upto FROM fts_state WHERE id = 1`).Scan(&upto, &changesUpto); err != nil {
			return err
		}
		// Changes first, then the new messages: a message changed after
		// this point logs another change, applied by the next pass.
		changed, lastChange, err := f.changes(ctx, changesUpto, upto)
		if err != nil {
			return err
		}
		redo, err := f.bodies(ctx, `SELECT seq, app_id, body FROM messages WHERE seq IN (`+placeholders(len(changed))+`)`, anySlice(changed)...)
		if err != nil {
			return err
		}
		fresh, err := f.bodies(ctx, `SELECT seq, app_id, body FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`, upto, ftsBatch)
		if err != nil {
			return err
		}
		if len(fresh) == 0 && lastChange == changesUpto {
			return nil
		}
		newUpto := upto
		if len(fresh) > 0 {
			newUpto = fresh[len(fresh)-1].seq
		}
		applied, err := f.apply(ctx, changed, redo, fresh, marks{upto, changesUpto}, marks{newUpto, lastChange})
		if err != nil {
			return err
		}
		if !applied {
			continue // another process indexed meanwhile: read again
		}
		if lastChange > changesUpto {
			// Applied: the log can forget them (a crash before this only
			// leaves rows the mark already passed).
			if err := f.db.tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM fts_changes WHERE id <= ?`, lastChange)
				return err
			}); err != nil {
				return err
			}
		}
	}
}

// changes reads the change log after mark: the indexed messages (seq <=
// upto) whose body changed or that are gone, and the last id read.
func (f *ftsIndexer) changes(ctx context.Context, mark, upto int64) ([]int64, int64, error) {
	rows, err := f.db.r.QueryContext(ctx, `SELECT id, seq FROM fts_changes WHERE id > ? ORDER BY id LIMIT ?`, mark, ftsChanges)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	last := mark
	seen := map[int64]bool{}
	var out []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&last, &seq); err != nil {
			return nil, 0, err
		}
		if seq <= upto && !seen[seq] {
			seen[seq] = true
			out = append(out, seq)
		}
	}
	return out, last, rows.Err()
}

func (f *ftsIndexer) bodies(ctx context.Context, query string, args ...any) ([]indexed, error) {
	if len(args) == 0 {
		return nil, nil
	}
	rows, err := f.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []indexed
	for rows.Next() {
		var m indexed
		if err := rows.Scan(&m.seq, &m.app, &m.body); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// apply writes one pass into the index: the changed messages are taken
// out and those still there put back with their current body, the fresh
// ones added, and both marks moved, in one transaction.
// marks are how far the index got: messages up to upto, changes up to
// changes.
type marks struct{ upto, changes int64 }

// apply writes one pass if the index is still at from: another process on
// the same data directory (a command-line tool beside the server) may have
// indexed since the pass read its marks, and indexing a message twice
// would find it twice. false: nothing written, read the marks again.
func (f *ftsIndexer) apply(ctx context.Context, changed []int64, redo, fresh []indexed, from, to marks) (bool, error) {
	tx, err := f.db.fw.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var now marks
	if err := tx.QueryRowContext(ctx, `SELECT upto, changes_upto FROM fts_state WHERE id = 1`).Scan(&now.upto, &now.changes); err != nil {
		return false, err
	}
	if now != from {
		return false, nil
	}
	for _, seq := range changed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages_fts WHERE rowid = ?`, seq); err != nil {
			return false, err
		}
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO messages_fts (rowid, app, body) VALUES (?, ?, ?)`)
	if err != nil {
		return false, err
	}
	defer ins.Close()
	for _, batch := range [][]indexed{redo, fresh} {
		for _, m := range batch {
			if _, err := ins.ExecContext(ctx, m.seq, appToken(m.app), m.body); err != nil {
				return false, err
			}
		}
	}
	perApp := map[int64]int64{0: int64(len(fresh))}
	for _, m := range fresh {
		perApp[m.app]++
	}
	for app, n := range perApp {
		if _, err := tx.ExecContext(ctx, `INSERT INTO fts_apps (app, n) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET n = n + excluded.n`, app, n); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fts_state SET upto = ?, changes_upto = ? WHERE id = 1`, to.upto, to.changes); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

func (f *ftsIndexer) close() {
	f.once.Do(func() { close(f.stop) })
	<-f.done
}
