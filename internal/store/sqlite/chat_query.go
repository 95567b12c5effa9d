package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// querier is what both the read pool and a write transaction offer, so the
// chat queries run unchanged on either.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// chatReader implements chat.Reader over a querier.
type chatReader struct{ q querier }

// chatTx implements chat.Tx inside one write transaction.
type chatTx struct {
	chatReader
	wrote *bool // set when the transaction stored a message (to index)
}

var (
	_ chat.Store = (*DB)(nil)
	_ chat.Tx    = chatTx{}
)

// Tx runs fn in one write transaction (BEGIN IMMEDIATE on the writer).
func (db *DB) Tx(ctx context.Context, fn func(chat.Tx) error) error {
	wrote := false
	err := db.tx(ctx, func(t *sql.Tx) error {
		return fn(chatTx{chatReader: chatReader{newTxQuerier(t, db.wStmts)}, wrote: &wrote})
	})
	db.wStmts.prepareQueued(ctx)
	if err == nil && wrote {
		db.fts.poke()
	}
	return err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// condValue converts a typed filter value to its stored form.
func condValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UnixMicro()
	}
	return v
}

// column describes how a filter field is read in SQL: an expression, or a
// function building the whole condition for list-valued fields.
type column struct {
	expr string
	kind chat.Kind
	// build, when set, renders the condition itself (array and joined
	// fields); it gets the operator and values.
	build func(op string, vals []any) (string, []any, error)
}

// condSQL renders one filter condition. Field names never reach the SQL:
// only the expressions of the column table do.
func condSQL(c chat.Cond, col column) (string, []any, error) {
	if len(c.Values) == 0 {
		return "", nil, fmt.Errorf("sqlite: filter %s without values", c.Field)
	}
	if col.build != nil {
		return col.build(c.Op, c.Values)
	}
	vals := make([]any, len(c.Values))
	for i, v := range c.Values {
		vals[i] = condValue(v)
	}
	e := col.expr
	switch c.Op {
	case "eq":
		return e + " = ?", vals[:1], nil
	case "ne":
		return "(" + e + " IS NULL OR " + e + " != ?)", vals[:1], nil
	case "lt", "lte", "gt", "gte":
		op := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[c.Op]
		return e + " " + op + " ?", vals[:1], nil
	case "in":
		return e + " IN (" + placeholders(len(vals)) + ")", vals, nil
	case "nin":
		return "(" + e + " IS NULL OR " + e + " NOT IN (" + placeholders(len(vals)) + "))", vals, nil
	case "ctn":
		return "instr(" + e + ", ?) > 0", vals[:1], nil
	}
	return "", nil, fmt.Errorf("sqlite: operator %q not supported on %s", c.Op, c.Field)
}

// whereSQL ANDs the conditions of q.
func whereSQL(conds []chat.Cond, cols func(field string) (column, bool)) (string, []any, error) {
	var parts []string
	var args []any
	for _, c := range conds {
		col, ok := cols(c.Field)
		if !ok {
			return "", nil, fmt.Errorf("sqlite: unknown filter field %q", c.Field)
		}
		s, a, err := condSQL(c, col)
		if err != nil {
			return "", nil, err
		}
		parts = append(parts, s)
		args = append(args, a...)
	}
	if len(parts) == 0 {
		return "", nil, nil
	}
	return " AND " + strings.Join(parts, " AND "), args, nil
}
