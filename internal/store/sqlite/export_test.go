package sqlite

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/data"
)

// DataPlan returns SQLite's plan for a listing of records, one line per
// step.
func (db *DB) DataPlan(ctx context.Context, classID int64, q data.Query, v *data.Viewer) ([]string, error) {
	query, args := recordsSQL(classID, q, v, data.Read)
	rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// SetSearchProbe lets a test take both of SearchMessages' paths; it
// returns the function that puts the default back.
func SetSearchProbe(n int) (restore func()) {
	old := searchProbe
	searchProbe = n
	return func() { searchProbe = old }
}

// SetSearchScan sets how many visible messages a caller may have for a
// search to read them rather than the index; -1: always the index.
func (db *DB) SetSearchScan(n int) { db.searchScan = n }

// SearchScanPlan returns SQLite's plan for the scan path of a search (the
// caller's messages read), one line per step.
func (db *DB) SearchScanPlan(ctx context.Context, appID, userID int64, s chat.Search) ([]string, error) {
	v := searchVisibility(appID, userID, s)
	rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+scanSearchSQL+v.sql()+` ORDER BY m.seq DESC LIMIT ?`,
		append(append([]any{s.Text}, v.args()...), s.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// IndexWalk returns the rows the index search of text by a caller of app
// walks (its forward probe, unbounded), restricted to the app or not.
func (db *DB) IndexWalk(ctx context.Context, appID int64, text string, ownApp bool) ([]int64, error) {
	if err := db.fts.flush(ctx); err != nil {
		return nil, err
	}
	r := chatReader{q: poolQuerier{db: db.sr, cache: db.srStmt}}
	return r.ids(ctx, indexProbeSQL, searchMatch(appID, text, ownApp), -1)
}

// SearchesOwnApp reports whether an index search by a caller of app walks
// its own app's matches only.
func (db *DB) SearchesOwnApp(ctx context.Context, appID int64) (bool, error) {
	if err := db.fts.flush(ctx); err != nil {
		return false, err
	}
	return chatReader{q: poolQuerier{db: db.sr, cache: db.srStmt}}.ownAppWalk(ctx, appID)
}

// DefaultSearchScan is the store's threshold for reading a caller's
// messages rather than the index.
const DefaultSearchScan = defaultSearchScan

// AppToken is appToken.
func AppToken(app int64) string { return appToken(app) }

// SearchConsistent exposes searchConsistent: may the copy of search.db at
// search be restored beside the copy of parley.db at main?
func SearchConsistent(ctx context.Context, main, search string) (ok, retry bool, err error) {
	ok, _, retry, err = searchConsistent(ctx, main, search)
	return ok, retry, err
}
