// Package sqlitedrivers compares three embedded SQLite drivers for Parley
// through database/sql:
//
//   - modernc: modernc.org/sqlite (pure Go, C translated to Go by ccgo)
//   - mattn:   github.com/mattn/go-sqlite3 (cgo, SQLite C amalgamation)
//   - ncruces: github.com/ncruces/go-sqlite3 (pure Go, Wasm build of SQLite
//     translated to Go by wasm2go)
//
// mattn and ncruces both register a database/sql driver named "sqlite3" in
// init, which panics when both are linked into one binary. The ncruces
// registration name is therefore changed at link time, and this file opens
// ncruces through driver.Open (a connector, no registered name needed):
//
//	go test -tags sqlite_fts5 \
//	  -ldflags=-X=github.com/ncruces/go-sqlite3/driver.driverName=ncruces \
//	  -run XXX -bench . -benchmem -count 6 -timeout 30m
//
// See README.md for the full procedure and the results.
package sqlitedrivers

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"           // registers "sqlite3" (cgo)
	ncsqlite3 "github.com/ncruces/go-sqlite3" // core API, for the driver.Open init callback
	ncdriver "github.com/ncruces/go-sqlite3/driver"
	ncfts5 "github.com/ncruces/go-sqlite3/ext/fts5"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// Pragmas every benchmark connection must run with.
const (
	wantJournalMode = "wal"
	wantSynchronous = 1 // NORMAL
	wantBusyTimeout = 5000
	wantForeignKeys = 1
)

// driverCase describes how to open one driver with the required pragmas.
type driverCase struct {
	name string
	// open opens a *sql.DB on the file at path. Every connection of the pool
	// gets journal_mode=WAL, synchronous=NORMAL, busy_timeout=5000,
	// foreign_keys=ON through the driver's own DSN syntax, and write
	// transactions start with BEGIN IMMEDIATE.
	open func(path string) (*sql.DB, error)
}

var drivers = []driverCase{
	{
		name: "modernc",
		open: func(path string) (*sql.DB, error) {
			dsn := "file:" + path +
				"?_pragma=journal_mode(WAL)" +
				"&_pragma=synchronous(NORMAL)" +
				"&_pragma=busy_timeout(5000)" +
				"&_pragma=foreign_keys(1)" +
				"&_txlock=immediate"
			return sql.Open("sqlite", dsn)
		},
	},
	{
		name: "mattn",
		open: func(path string) (*sql.DB, error) {
			dsn := "file:" + path +
				"?_journal_mode=WAL" +
				"&_synchronous=NORMAL" +
				"&_busy_timeout=5000" +
				"&_foreign_keys=1" +
				"&_txlock=immediate"
			return sql.Open("sqlite3", dsn)
		},
	},
	{
		name: "ncruces",
		open: func(path string) (*sql.DB, error) {
			dsn := "file:" + path +
				"?_pragma=journal_mode(WAL)" +
				"&_pragma=synchronous(NORMAL)" +
				"&_pragma=busy_timeout(5000)" +
				"&_pragma=foreign_keys(1)" +
				"&_txlock=immediate"
			// In v0.37.0 FTS5 is an extension that must be registered on each
			// connection (github.com/ncruces/go-sqlite3/ext/fts5). It is
			// registered here too so that the benchmarked configuration is the
			// one Parley would ship (FTS5 available on every driver).
			return ncdriver.Open(dsn, ncfts5.Register)
		},
	},
}

const schema = `CREATE TABLE IF NOT EXISTS users (
	id            INTEGER PRIMARY KEY,
	app_id        INTEGER NOT NULL,
	login         TEXT,
	email         TEXT,
	full_name     TEXT,
	password_hash TEXT,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	UNIQUE(app_id, login),
	UNIQUE(app_id, email)
)`

const insertSQL = `INSERT INTO users
	(app_id, login, email, full_name, password_hash, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

const selectSQL = `SELECT id, app_id, login, email, full_name, password_hash,
	created_at, updated_at FROM users WHERE id = ?`

// A bcrypt-shaped 60 byte hash, the size Parley stores.
const passwordHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

const baseTime = int64(1_780_000_000_000) // unix millis

// insertUser executes the prepared INSERT for the i-th synthetic user.
// Users are spread over 4 apps; login and email are unique per app.
func insertUser(stmt *sql.Stmt, i int) error {
	ts := baseTime + int64(i)
	_, err := stmt.Exec(
		int64(i%4+1),
		fmt.Sprintf("user%09d", i),
		fmt.Sprintf("user%09d@example.com", i),
		fmt.Sprintf("User Number %d", i),
		passwordHash,
		ts, ts,
	)
	return err
}

type userRow struct {
	id, appID                            int64
	login, email, fullName, passwordHash string
	createdAt, updatedAt                 int64
}

func scanUser(row *sql.Row, u *userRow) error {
	return row.Scan(&u.id, &u.appID, &u.login, &u.email, &u.fullName,
		&u.passwordHash, &u.createdAt, &u.updatedAt)
}

// checkPragmas fails tb unless the connection runs with the wanted pragmas.
func checkPragmas(tb testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) {
	tb.Helper()
	ctx := context.Background()
	var jm string
	var sync, bt, fk int
	if err := q.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm); err != nil {
		tb.Fatalf("PRAGMA journal_mode: %v", err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		tb.Fatalf("PRAGMA synchronous: %v", err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&bt); err != nil {
		tb.Fatalf("PRAGMA busy_timeout: %v", err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		tb.Fatalf("PRAGMA foreign_keys: %v", err)
	}
	if strings.ToLower(jm) != wantJournalMode || sync != wantSynchronous ||
		bt != wantBusyTimeout || fk != wantForeignKeys {
		tb.Fatalf("pragmas: journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d; want %s %d %d %d",
			jm, sync, bt, fk, wantJournalMode, wantSynchronous, wantBusyTimeout, wantForeignKeys)
	}
}

// openWriter opens the single-connection writer pool on a new file in
// tb.TempDir(), checks the pragmas and creates the schema.
func openWriter(tb testing.TB, d driverCase) (*sql.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "parley.db")
	db, err := d.open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", d.name, err)
	}
	tb.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	checkPragmas(tb, db)
	if _, err := db.Exec(schema); err != nil {
		tb.Fatalf("schema: %v", err)
	}
	return db, path
}

// populate inserts n users with ids 1..n, 1000 rows per transaction.
func populate(tb testing.TB, db *sql.DB, n int) {
	tb.Helper()
	stmt, err := db.Prepare(insertSQL)
	if err != nil {
		tb.Fatal(err)
	}
	defer stmt.Close()
	for start := 0; start < n; start += 1000 {
		tx, err := db.Begin()
		if err != nil {
			tb.Fatal(err)
		}
		txStmt := tx.Stmt(stmt)
		for i := start; i < start+1000 && i < n; i++ {
			if err := insertUser(txStmt, i); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	// Leave the WAL empty so every driver starts reading from the same state.
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		tb.Fatal(err)
	}
}

func countUsers(tb testing.TB, db *sql.DB) int {
	tb.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func forEachDriver(b *testing.B, fn func(b *testing.B, d driverCase)) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) { fn(b, d) })
	}
}

// BenchmarkInsertAutocommit: one INSERT per op through a prepared statement,
// each in its own implicit transaction (autocommit).
func BenchmarkInsertAutocommit(b *testing.B) {
	forEachDriver(b, func(b *testing.B, d driverCase) {
		b.ReportAllocs()
		db, _ := openWriter(b, d)
		stmt, err := db.Prepare(insertSQL)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		i := 0
		for b.Loop() {
			if err := insertUser(stmt, i); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if got := countUsers(b, db); got != b.N {
			b.Fatalf("rows = %d, want %d", got, b.N)
		}
	})
}

// BenchmarkInsertBatch100: 100 INSERTs per explicit transaction. One op is
// one row, so ns/op is the per-row cost; rows/s is reported as well.
func BenchmarkInsertBatch100(b *testing.B) {
	const batch = 100
	forEachDriver(b, func(b *testing.B, d driverCase) {
		b.ReportAllocs()
		db, _ := openWriter(b, d)
		stmt, err := db.Prepare(insertSQL)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		var tx *sql.Tx
		var txStmt *sql.Stmt
		i := 0
		for b.Loop() {
			if i%batch == 0 {
				if tx, err = db.Begin(); err != nil {
					b.Fatal(err)
				}
				txStmt = tx.Stmt(stmt)
			}
			if err := insertUser(txStmt, i); err != nil {
				b.Fatal(err)
			}
			i++
			if i%batch == 0 {
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				tx = nil
			}
		}
		if tx != nil { // commit the final partial batch (not timed)
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		if got := countUsers(b, db); got != b.N {
			b.Fatalf("rows = %d, want %d", got, b.N)
		}
	})
}

const readRows = 100_000

// BenchmarkPointRead: SELECT one user by random primary key from a table of
// 100,000 rows through a prepared statement, scanning all 8 columns.
func BenchmarkPointRead(b *testing.B) {
	forEachDriver(b, func(b *testing.B, d driverCase) {
		b.ReportAllocs()
		db, _ := openWriter(b, d)
		populate(b, db, readRows)
		stmt, err := db.Prepare(selectSQL)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		var u userRow
		for b.Loop() {
			id := rng.Int64N(readRows) + 1
			if err := scanUser(stmt.QueryRow(id), &u); err != nil {
				b.Fatal(err)
			}
			if u.id != id {
				b.Fatalf("got id %d, want %d", u.id, id)
			}
		}
	})
}

// BenchmarkPointReadParallel: same query from 4 goroutines (b.SetParallelism
// on this 2-core machine) sharing a separate read pool of 4 connections.
func BenchmarkPointReadParallel(b *testing.B) {
	const poolSize = 4
	forEachDriver(b, func(b *testing.B, d driverCase) {
		b.ReportAllocs()
		w, path := openWriter(b, d)
		populate(b, w, readRows)

		r, err := d.open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		r.SetMaxOpenConns(poolSize)
		r.SetMaxIdleConns(poolSize)
		r.SetConnMaxLifetime(0)
		r.SetConnMaxIdleTime(0)
		// Open all 4 connections now and check each one's pragmas.
		ctx := context.Background()
		conns := make([]*sql.Conn, poolSize)
		for i := range conns {
			if conns[i], err = r.Conn(ctx); err != nil {
				b.Fatal(err)
			}
			checkPragmas(b, conns[i])
		}
		for _, c := range conns {
			c.Close()
		}
		stmt, err := r.Prepare(selectSQL)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()

		var seed atomic.Uint64
		// GOMAXPROCS is 2 here; parallelism 2 gives 2*2 = 4 goroutines,
		// one per pooled connection.
		b.SetParallelism(poolSize / 2)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 7))
			var u userRow
			for pb.Next() {
				id := rng.Int64N(readRows) + 1
				if err := scanUser(stmt.QueryRow(id), &u); err != nil {
					b.Error(err)
					return
				}
				if u.id != id {
					b.Errorf("got id %d, want %d", u.id, id)
					return
				}
			}
		})
	})
}

// TestPragmas checks that each driver's DSN yields the wanted pragmas.
func TestPragmas(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			db, _ := openWriter(t, d)
			var version string
			if err := db.QueryRow("SELECT sqlite_version()").Scan(&version); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: SQLite %s", d.name, version)
		})
	}
}

// ftsRoundTrip creates an FTS5 table, inserts a row and finds it with MATCH.
func ftsRoundTrip(db *sql.DB) error {
	if _, err := db.Exec(`CREATE VIRTUAL TABLE t USING fts5(body)`); err != nil {
		return err
	}
	if _, err := db.Exec(`INSERT INTO t(body) VALUES ('hello parley chat server'), ('unrelated text')`); err != nil {
		return err
	}
	var body string
	if err := db.QueryRow(`SELECT body FROM t WHERE t MATCH 'parley'`).Scan(&body); err != nil {
		return err
	}
	if body != "hello parley chat server" {
		return fmt.Errorf("MATCH returned %q", body)
	}
	return nil
}

// TestFTS5 checks that FTS5 works with each driver as configured for the
// benchmarks. For mattn it needs the build tag sqlite_fts5 (or fts5); the
// test records what happens without it.
func TestFTS5(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			db, _ := openWriter(t, d)
			err := ftsRoundTrip(db)
			if d.name == "mattn" && !mattnFTS5Tag {
				if err == nil {
					t.Fatal("mattn: FTS5 works without -tags sqlite_fts5; update README")
				}
				t.Skipf("mattn built without -tags sqlite_fts5: FTS5 unavailable: %v", err)
			}
			if err != nil {
				t.Fatalf("FTS5: %v", err)
			}
		})
	}
}

// TestFTS5NcrucesWithoutExtension records that ncruces v0.37.0 has no FTS5
// unless ext/fts5 is registered on the connection.
func TestFTS5NcrucesWithoutExtension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain.db")
	db, err := ncdriver.Open("file:"+path, func(*ncsqlite3.Conn) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = ftsRoundTrip(db)
	if err == nil {
		t.Fatal("ncruces: FTS5 works without ext/fts5; update README")
	}
	t.Logf("ncruces without ext/fts5 (expected failure): %v", err)
}
