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

// writerStmts keeps statements prepared on the writer connection from one
// transaction to the next. Preparing inside each transaction cost a sixth
// of storing a batch of messages: the hot queries are long, and a query
// whose WHERE compares a column the index does not cover with a bound 0 or
// 1 (app_id of the first app) is prepared twice, because SQLite re-plans
// it when the first value is bound. A statement cannot be prepared on the
// writer pool while a transaction holds its only connection, so a query
// first seen inside a transaction is prepared for that transaction alone
// and queued; the writer prepares the queue once the transaction is over.
type writerStmts struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func newWriterStmts(db *sql.DB) *writerStmts {
	return &writerStmts{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the shared statement of q, or nil after queueing q.
func (w *writerStmts) lookup(q string) *sql.Stmt {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st, ok := w.m[q]; ok {
		return st
	}
	if w.m != nil && len(w.m)+len(w.pending) < maxCachedStmts {
		w.pending[q] = true
	}
	return nil
}

// prepareQueued prepares the queued queries. It must run outside any
// transaction of the writer, and without holding w.mu while it waits for
// the connection: a transaction holding it may be looking a query up.
func (w *writerStmts) prepareQueued(ctx context.Context) {
	w.mu.Lock()
	var qs []string
	for q := range w.pending {
		qs = append(qs, q)
	}
	clear(w.pending)
	w.mu.Unlock()
	for _, q := range qs {
		// A failure leaves the query uncached: it is queued again the next
		// time a transaction runs it, and a real error shows there.
		st, err := w.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		w.mu.Lock()
		if _, dup := w.m[q]; dup || w.m == nil {
			st.Close()
		} else {
			w.m[q] = st
		}
		w.mu.Unlock()
	}
}

func (w *writerStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.m {
		st.Close()
	}
	w.m, w.pending = nil, map[string]bool{}
}

// txQuerier runs queries inside a write transaction through the writer's
// shared statements, or statements prepared for this transaction alone
// while a query's shared one does not exist yet.
type txQuerier struct {
	tx     *sql.Tx
	shared *writerStmts
	stmts  map[string]*sql.Stmt
}

func newTxQuerier(tx *sql.Tx, shared *writerStmts) txQuerier {
	return txQuerier{tx: tx, shared: shared, stmts: map[string]*sql.Stmt{}}
}

func (t txQuerier) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	if len(t.stmts) >= maxTxStmts {
		return nil, nil
	}
	var st *sql.Stmt
	if shared := t.shared.lookup(q); shared != nil {
		// Bound to the transaction's connection, on which it is already
		// prepared: no new preparation.
		st = t.tx.StmtContext(ctx, shared)
	} else {
		var err error
		if st, err = t.tx.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
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
