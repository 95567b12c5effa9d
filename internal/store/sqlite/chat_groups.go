package sqlite

import (
	"context"
	"time"
)

// The group rules of issue 10 (migration 0007): removal marks and the
// count of dialogs a user has joined.

func (r chatReader) Removed(ctx context.Context, dialogID string, userID int64) (bool, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM group_removals WHERE dialog_id = ? AND user_id = ?`,
		dialogID, userID).Scan(&n)
	return n > 0, err
}

// JoinedCounts counts, for each user, the group dialogs they occupy and
// the public dialogs they subscribe to, starting from the users' member
// rows (members_user) so that it costs what those users have joined.
func (r chatReader) JoinedCounts(ctx context.Context, appID int64, users []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(users))
	for start := 0; start < len(users); start += 500 {
		chunk := users[start:min(start+500, len(users))]
		rows, err := r.q.QueryContext(ctx, `SELECT m.user_id, COUNT(*) FROM members m CROSS JOIN dialogs d
			WHERE m.user_id IN (`+placeholders(len(chunk))+`) AND m.member = 1
			AND d.id = m.dialog_id AND d.app_id = ? AND d.type IN (2, 4)
			GROUP BY m.user_id`, append(anySlice(chunk), appID)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var user int64
			var n int
			if err := rows.Scan(&user, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[user] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t chatTx) SetRemoved(ctx context.Context, dialogID string, userID int64, removed bool, at time.Time) error {
	if !removed {
		_, err := t.q.ExecContext(ctx, `DELETE FROM group_removals WHERE dialog_id = ? AND user_id = ?`, dialogID, userID)
		return err
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO group_removals (dialog_id, user_id, at) VALUES (?, ?, ?)
		ON CONFLICT (dialog_id, user_id) DO UPDATE SET at = excluded.at`, dialogID, userID, micros(at))
	return err
}
