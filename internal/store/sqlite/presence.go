package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/presence"
)

var _ presence.Store = (*DB)(nil)

// SaveLastSeen writes a batch of last-seen times in one transaction, each
// replacing the user's earlier one.
func (db *DB) SaveLastSeen(ctx context.Context, batch []presence.LastSeen) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO last_seen (app_id, user_id, at) VALUES (?, ?, ?)
			ON CONFLICT (user_id, app_id) DO UPDATE SET at = excluded.at`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, s := range batch {
			if _, err := st.ExecContext(ctx, s.AppID, s.UserID, micros(s.At)); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastSeen reads one user's last-seen time; ok is false when none is kept.
func (db *DB) LastSeen(ctx context.Context, appID, userID int64) (time.Time, bool, error) {
	var at int64
	err := db.r.QueryRowContext(ctx, `SELECT at FROM last_seen WHERE user_id = ? AND app_id = ?`, userID, appID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return fromMicros(at), true, nil
}
