package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache; queries with a variable number
// of placeholders (IN lists) could otherwise grow it without end.
const maxCachedStmts = 2000

// stmtCache keeps one prepared statement per query text. Preparing costs
// about as much as running a short statement, so the hot paths (storing a
// message, reading a history page) prepare once per connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns the prepared statement for q, or nil when the cache is full.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	if len(c.m) >= maxCachedStmts {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// poolQuerier runs queries on a pool through cached statements.
type poolQuerier struct {
	db    *sql.DB
	cache *stmtCache
}

func (p poolQuerier) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := p.cache.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.db.ExecContext(ctx, q, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p poolQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := p.cache.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (p poolQuerier) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := p.cache.get(ctx, q)
	if err != nil || st == nil {
		return p.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// maxTxStmts bounds the statements one transaction keeps prepared.
const maxTxStmts = 256

// txQuerier runs queries inside a write transaction, preparing each query
// text once per transaction: a batch of messages reuses its statements.
// (Statements cannot be prepared on the writer pool from inside a
// transaction: the pool's one connection is the transaction's.)
type txQuerier struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newTxQuerier(tx *sql.Tx) txQuerier { return txQuerier{tx: tx, stmts: map[string]*sql.Stmt{}} }

func (t txQuerier) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	if len(t.stmts) >= maxTxStmts {
		return nil, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = st
	return st, nil
}

func (t txQuerier) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return t.tx.ExecContext(ctx, q, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (t txQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return t.tx.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (t txQuerier) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil || st == nil {
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
