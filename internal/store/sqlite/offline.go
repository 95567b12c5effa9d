package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

var _ chat.OfflineStore = (*DB)(nil)

// PushOffline keeps an encoded message for a user, dropping the oldest
// beyond max per user.
func (db *DB) PushOffline(ctx context.Context, appID, userID int64, stanza []byte, at time.Time, max int) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO offline (app_id, user_id, stanza, created_at) VALUES (?, ?, ?, ?)`,
			appID, userID, stanza, micros(at)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM offline WHERE user_id = ? AND id <= (
			SELECT id FROM offline WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, userID, userID, max)
		return err
	})
}

// PopOffline removes and returns a user's kept messages, oldest first, and
// drops those older than maxAge.
func (db *DB) PopOffline(ctx context.Context, appID, userID int64, maxAge time.Duration, now time.Time) ([]chat.Kept, error) {
	var out []chat.Kept
	err := db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT stanza, created_at FROM offline WHERE user_id = ? AND app_id = ? AND created_at > ? ORDER BY id`,
			userID, appID, micros(now.Add(-maxAge)))
		if err != nil {
			return err
		}
		for rows.Next() {
			var m chat.Kept
			var at int64
			if err := rows.Scan(&m.Stanza, &at); err != nil {
				rows.Close()
				return err
			}
			m.At = fromMicros(at)
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM offline WHERE user_id = ? AND app_id = ?`, userID, appID)
		return err
	})
	return out, err
}
