package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parley-chat/parley/internal/privacy"
)

var _ privacy.Store = (*DB)(nil)

// PutPrivacyList creates or replaces a list in one transaction: the
// default check, the list limit, and the items all see the same state, and
// a failure leaves nothing half-written.
func (db *DB) PutPrivacyList(ctx context.Context, appID, userID int64, l privacy.List, maxLists int) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var isDefault bool
		err := tx.QueryRowContext(ctx, `SELECT id, is_default FROM privacy_lists WHERE app_id = ? AND user_id = ? AND name = ?`,
			appID, userID, l.Name).Scan(&id, &isDefault)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM privacy_lists WHERE app_id = ? AND user_id = ?`,
				appID, userID).Scan(&n); err != nil {
				return err
			}
			if n >= maxLists {
				return privacy.ErrTooManyLists
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO privacy_lists (app_id, user_id, name) VALUES (?, ?, ?) RETURNING id`,
				appID, userID, l.Name).Scan(&id); err != nil {
				return err
			}
		case err != nil:
			return err
		case isDefault:
			return privacy.ErrIsDefault
		default:
			if _, err := tx.ExecContext(ctx, `DELETE FROM privacy_items WHERE list_id = ?`, id); err != nil {
				return err
			}
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO privacy_items (list_id, ord, type, value, action, kinds) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, it := range l.Items {
			if _, err := st.ExecContext(ctx, id, int64(it.Order), it.Type, it.Value, it.Action, int64(it.Kinds)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeletePrivacyList removes a list and its items unless it is the default.
func (db *DB) DeletePrivacyList(ctx context.Context, appID, userID int64, name string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var isDefault bool
		err := tx.QueryRowContext(ctx, `SELECT id, is_default FROM privacy_lists WHERE app_id = ? AND user_id = ? AND name = ?`,
			appID, userID, name).Scan(&id, &isDefault)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return privacy.ErrNotFound
		case err != nil:
			return err
		case isDefault:
			return privacy.ErrIsDefault
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM privacy_items WHERE list_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM privacy_lists WHERE id = ?`, id)
		return err
	})
}

// PrivacyList returns one list with its items in ascending order.
func (db *DB) PrivacyList(ctx context.Context, appID, userID int64, name string) (privacy.List, error) {
	return readPrivacyList(ctx, db.r, `SELECT id, name FROM privacy_lists WHERE app_id = ? AND user_id = ? AND name = ?`,
		appID, userID, name)
}

// DefaultPrivacyList returns the user's default list, ok false for none.
func (db *DB) DefaultPrivacyList(ctx context.Context, appID, userID int64) (privacy.List, bool, error) {
	l, err := readPrivacyList(ctx, db.r, `SELECT id, name FROM privacy_lists WHERE app_id = ? AND user_id = ? AND is_default = 1`,
		appID, userID)
	if errors.Is(err, privacy.ErrNotFound) {
		return privacy.List{}, false, nil
	}
	return l, err == nil, err
}

// readPrivacyList reads the list whose id and name q selects, in one read
// transaction so that its row and items agree.
func readPrivacyList(ctx context.Context, r *sql.DB, q string, args ...any) (privacy.List, error) {
	tx, err := r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return privacy.List{}, err
	}
	defer tx.Rollback()
	var id int64
	var l privacy.List
	err = tx.QueryRowContext(ctx, q, args...).Scan(&id, &l.Name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return privacy.List{}, privacy.ErrNotFound
	case err != nil:
		return privacy.List{}, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT ord, type, value, action, kinds FROM privacy_items WHERE list_id = ? ORDER BY ord`, id)
	if err != nil {
		return privacy.List{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var it privacy.Item
		var ord, kinds int64
		if err := rows.Scan(&ord, &it.Type, &it.Value, &it.Action, &kinds); err != nil {
			return privacy.List{}, err
		}
		it.Order, it.Kinds = uint32(ord), privacy.Kind(kinds)
		l.Items = append(l.Items, it)
	}
	return l, rows.Err()
}

// PrivacyNames returns the user's list names in creation order and the
// default's name.
func (db *DB) PrivacyNames(ctx context.Context, appID, userID int64) (privacy.Names, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, is_default FROM privacy_lists WHERE app_id = ? AND user_id = ? ORDER BY id`,
		appID, userID)
	if err != nil {
		return privacy.Names{}, err
	}
	defer rows.Close()
	var n privacy.Names
	for rows.Next() {
		var name string
		var isDefault bool
		if err := rows.Scan(&name, &isDefault); err != nil {
			return privacy.Names{}, err
		}
		if isDefault {
			n.Default = name
		}
		n.Lists = append(n.Lists, name)
	}
	return n, rows.Err()
}

// SetDefaultPrivacyList moves the default mark to name ("" removes it).
func (db *DB) SetDefaultPrivacyList(ctx context.Context, appID, userID int64, name string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if name != "" {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM privacy_lists WHERE app_id = ? AND user_id = ? AND name = ?`,
				appID, userID, name).Scan(&one)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return privacy.ErrNotFound
			case err != nil:
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_lists SET is_default = 0 WHERE app_id = ? AND user_id = ? AND is_default = 1`,
			appID, userID); err != nil {
			return err
		}
		if name == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE privacy_lists SET is_default = 1 WHERE app_id = ? AND user_id = ? AND name = ?`,
			appID, userID, name)
		return err
	})
}
