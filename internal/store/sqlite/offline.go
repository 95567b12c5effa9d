package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

var _ chat.OfflineStore = (*DB)(nil)

// PushOffline keeps an encoded message for a user unless max are kept for
// them already: then nothing is written and kept is false (the caller
// counts and logs it). The oldest are never dropped to make room: they
// are the ones the user has waited longest for.
func (db *DB) PushOffline(ctx context.Context, appID, userID int64, stanza []byte, at time.Time, max int) (kept bool, err error) {
	err = db.tx(ctx, func(tx *sql.Tx) error {
		// The max-th row exists: the user has max already (offline_user
		// walks at most max entries).
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM offline WHERE user_id = ? ORDER BY id LIMIT 1 OFFSET ?`,
			userID, max-1).Scan(&one); err {
		case nil:
			return nil
		case sql.ErrNoRows:
		default:
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO offline (app_id, user_id, stanza, created_at) VALUES (?, ?, ?, ?)`,
			appID, userID, stanza, micros(at)); err != nil {
			return err
		}
		kept = true
		return nil
	})
	return kept, err
}

// PeekOffline returns up to limit of a user's kept messages with ids above
// after, oldest first, and leaves them kept.
func (db *DB) PeekOffline(ctx context.Context, appID, userID, after int64, limit int) ([]chat.Kept, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, stanza, created_at FROM offline
		WHERE user_id = ? AND id > ? AND app_id = ? ORDER BY id LIMIT ?`, userID, after, appID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Kept
	for rows.Next() {
		var m chat.Kept
		var at int64
		if err := rows.Scan(&m.ID, &m.Stanza, &at); err != nil {
			return nil, err
		}
		m.At = fromMicros(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteOffline removes a user's kept messages up to and including id
// (they were delivered).
func (db *DB) DeleteOffline(ctx context.Context, appID, userID, upTo int64) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM offline WHERE user_id = ? AND id <= ? AND app_id = ?`, userID, upTo, appID)
		return err
	})
}

// ExpireOffline removes a user's kept messages kept before before and
// reports how many.
func (db *DB) ExpireOffline(ctx context.Context, appID, userID int64, before time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM offline WHERE user_id = ? AND app_id = ? AND created_at < ?`, userID, appID, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// OfflineHeld counts the messages kept for offline delivery, over every
// user (for /metrics, at scrape time: a scan of the offline_user index,
// on a reader).
func (db *DB) OfflineHeld(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM offline`).Scan(&n)
	return n, err
}
