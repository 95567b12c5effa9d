package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/parley-chat/parley/internal/datadir"
)

// FileName is the database file inside the data directory.
const FileName = "parley.db"

// DB is the embedded store. Writes go through one connection (SQLite allows
// one writer at a time; queuing them in the pool beats lock retries), reads
// through a pool that WAL lets run beside the writer.
type DB struct {
	w      *sql.DB
	r      *sql.DB
	rStmts *stmtCache
	wStmts *writerStmts
	fts    *ftsIndexer
	fw     *sql.DB // the full-text index's writer (search.db, fts.go)
	sr     *sql.DB // searches: readers with the index attached
	srStmt *stmtCache
	ckptDB *sql.DB
	ckpt   *checkpointer
	// searchScan: a caller who may see at most this many messages is
	// searched by reading them, not the index (chat_messages.go); -1
	// always uses the index.
	searchScan int
	chatReader
}

// Open opens (creating if needed) the store in dataDir and migrates it.
// log receives what the store's background work (checkpoints, full-text
// indexing) has to report; nil discards it.
func Open(ctx context.Context, dataDir string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// A missing, unwritable or wrong data dir is said in words here, not
	// as SQLite's "unable to open database file (14)".
	if err := datadir.Prepare(dataDir); err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, FileName)
	w, err := openSingle(dsn(path, true))
	if err != nil {
		return nil, err
	}
	// The writer must exist and be in WAL mode before readers open.
	if err := retryBusy(ctx, func() error {
		if err := w.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		return migrate(ctx, w)
	}); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	ckptDB, err := openSingle(dsn(path, false))
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	fw, err := openSearchWriter(ctx, dataDir, w)
	if err != nil {
		w.Close()
		r.Close()
		ckptDB.Close()
		return nil, err
	}
	sr := openSearchReaders(dataDir)
	db := &DB{w: w, r: r, rStmts: newStmtCache(r), wStmts: newWriterStmts(w), ckptDB: ckptDB, ckpt: newCheckpointer(ckptDB, log),
		fw: fw, sr: sr, srStmt: newStmtCache(sr), searchScan: defaultSearchScan}
	db.chatReader = chatReader{q: poolQuerier{db: r, cache: db.rStmts}}
	db.fts = newFTSIndexer(db, log)
	return db, nil
}

// openSingle opens a pool of one connection, kept open for good: a
// file's writer, or the checkpointer.
func openSingle(dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// openBusyWait bounds how long Open waits for another process that holds a
// new store's lock.
const openBusyWait = 15 * time.Second

// retryBusy runs fn until it does not fail with SQLITE_BUSY. Turning a new
// file into WAL mode does not wait for another opener's lock (SQLite skips
// the busy handler where waiting could deadlock), so two processes opening
// a new data directory at once must retry here.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(openBusyWait)
	pause := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}

func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}

func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL in WAL mode survives a process crash (SIGKILL) without losing a
	// committed transaction; only an OS crash or power loss can drop the
	// last commits.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// A larger page cache keeps hot pages out of read(2) calls: each
	// connection caches up to 64 MiB. No memory map: a connection that
	// starts reading after another committed drops its page cache and, with
	// a map, unmaps and maps the file again. Under 1-1 chat load those
	// munmap calls alone (TLB shootdowns on every core) were a fifth of the
	// server's CPU; without the map, throughput with history went from
	// 5,500 to 8,400 messages per second.
	q.Add("_pragma", "cache_size(-65536)")
	q.Add("_pragma", "mmap_size(0)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if writer {
		// Checkpoint the WAL every ~64 MiB instead of every 4 MiB: fewer,
		// larger copies back into the database file.
		q.Add("_pragma", "wal_autocheckpoint(16384)")
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// never fails half-way on a lock upgrade.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes both pools.
func (db *DB) Close() error {
	db.fts.close()
	db.ckpt.close()
	db.rStmts.close()
	db.wStmts.close()
	db.srStmt.close()
	errs := []error{db.sr.Close(), db.fw.Close(), db.r.Close(), db.ckptDB.Close(), db.w.Close()}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in a write transaction, committing when it returns nil.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return err
	}
	db.ckpt.poke()
	return nil
}
