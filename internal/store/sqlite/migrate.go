package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migration is one embedded file NNNN_name.sql, applied in one transaction.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %s: name must be NNNN_name.sql", base)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlite: migrations %s and %s have the same number", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies every embedded migration the store has not applied, in
// order of number. Numbers are reserved per branch of work and may leave
// gaps until the branches meet, so what was applied is a set (the rows of
// schema_migrations), not a high mark: a store that got 7 before 5 and 6
// existed still gets them. A store that applied a migration this binary
// does not know (written by a newer Parley) is refused rather than
// silently misread.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	// Each step re-reads what is applied inside its (immediate)
	// transaction, so two processes opening a new store at once apply each
	// migration once.
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: read schema version: %w", err)
		}
		for v := range applied {
			if !known[v] {
				tx.Rollback()
				return fmt.Errorf("sqlite: store has schema migration %d, which this binary does not know (the store is newer); upgrade parley", v)
			}
		}
		var next *migration
		for i := range ms {
			if !applied[ms[i].version] {
				next = &ms[i]
				break
			}
		}
		if next == nil {
			return tx.Rollback()
		}
		m := *next
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%s','now'))`, m.version, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: record migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: commit migration %s: %w", m.name, err)
		}
	}
}

func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

// SchemaVersion returns the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
