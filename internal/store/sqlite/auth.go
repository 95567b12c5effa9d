package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

var _ auth.Store = (*DB)(nil)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func nullText(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

// uniqueField maps a UNIQUE constraint failure to the user field it guards.
func uniqueField(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	msg := err.Error()
	if !strings.Contains(msg, "UNIQUE constraint failed") {
		return "", false
	}
	switch {
	case strings.Contains(msg, "users.login"):
		return "login", true
	case strings.Contains(msg, "users.email"):
		return "email", true
	}
	return "", false
}

func (db *DB) CreateApp(ctx context.Context, a *auth.App) error {
	res, err := db.w.ExecContext(ctx,
		`INSERT INTO apps (name, auth_key, auth_secret, dialog_extensions, group_subscribe, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Name, a.AuthKey, a.AuthSecret, strings.Join(a.DialogExtensions, ","), !a.NoGroupSubscribe, micros(a.CreatedAt))
	if err != nil {
		return err
	}
	a.ID, err = res.LastInsertId()
	return err
}

const appColumns = `id, name, auth_key, auth_secret, dialog_extensions, group_subscribe, blob_max_size, blob_content_types, created_at`

func scanApp(row interface{ Scan(...any) error }) (*auth.App, error) {
	var a auth.App
	var ext string
	var created int64
	var groupSubscribe bool
	var blobTypes string
	if err := row.Scan(&a.ID, &a.Name, &a.AuthKey, &a.AuthSecret, &ext, &groupSubscribe, &a.BlobMaxSize, &blobTypes, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, auth.ErrNotFound
		}
		return nil, err
	}
	if ext != "" {
		a.DialogExtensions = strings.Split(ext, ",")
	}
	a.NoGroupSubscribe = !groupSubscribe
	if blobTypes != "" {
		a.BlobContentTypes = strings.Split(blobTypes, ",")
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func (db *DB) SetAppBlobLimits(ctx context.Context, a *auth.App) error {
	res, err := db.w.ExecContext(ctx, `UPDATE apps SET blob_max_size = ?, blob_content_types = ? WHERE id = ?`,
		a.BlobMaxSize, strings.Join(a.BlobContentTypes, ","), a.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

func (db *DB) AppByID(ctx context.Context, id int64) (*auth.App, error) {
	return scanApp(db.r.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = ?`, id))
}

func (db *DB) AppByAuthKey(ctx context.Context, key string) (*auth.App, error) {
	return scanApp(db.r.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE auth_key = ?`, key))
}

func (db *DB) ListApps(ctx context.Context) ([]auth.App, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

const userColumns = `id, app_id, login, email, full_name, phone, website, custom_data, external_user_id,
	external_id, facebook_id, twitter_id, blob_id, avatar, user_tags, timezone, password_hash,
	created_at, updated_at, last_request_at`

func scanUser(row interface{ Scan(...any) error }) (*auth.User, error) {
	var u auth.User
	var login, email, fullName, phone, website, custom, extID, fb, tw, avatar, tags sql.NullString
	var extUser, blob, tz, last sql.NullInt64
	var created, updated int64
	err := row.Scan(&u.ID, &u.AppID, &login, &email, &fullName, &phone, &website, &custom, &extUser,
		&extID, &fb, &tw, &blob, &avatar, &tags, &tz, &u.PasswordHash, &created, &updated, &last)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, auth.ErrNotFound
		}
		return nil, err
	}
	u.Login, u.Email, u.FullName, u.Phone, u.Website = login.String, email.String, fullName.String, phone.String, website.String
	u.CustomData, u.ExternalID, u.FacebookID, u.TwitterID, u.Avatar = custom.String, extID.String, fb.String, tw.String, avatar.String
	u.ExternalUserID, u.BlobID = extUser.Int64, blob.Int64
	if tags.String != "" {
		u.Tags = strings.Split(tags.String, ",")
	}
	if tz.Valid {
		v := int(tz.Int64)
		u.Timezone = &v
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	if last.Valid {
		u.LastRequestAt = fromMicros(last.Int64)
	}
	return &u, nil
}

func userArgs(u *auth.User) []any {
	var tz sql.NullInt64
	if u.Timezone != nil {
		tz = sql.NullInt64{Int64: int64(*u.Timezone), Valid: true}
	}
	return []any{nullText(u.Login), nullText(u.Email), nullText(u.FullName), nullText(u.Phone), nullText(u.Website),
		nullText(u.CustomData), nullInt(u.ExternalUserID), nullText(u.ExternalID), nullText(u.FacebookID),
		nullText(u.TwitterID), nullInt(u.BlobID), nullText(u.Avatar), nullText(strings.Join(u.Tags, ",")), tz,
		u.PasswordHash, micros(u.CreatedAt), micros(u.UpdatedAt), nullMicros(u.LastRequestAt)}
}

func (db *DB) CreateUser(ctx context.Context, u *auth.User) error {
	res, err := db.w.ExecContext(ctx, `INSERT INTO users (app_id, login, email, full_name, phone, website,
		custom_data, external_user_id, external_id, facebook_id, twitter_id, blob_id, avatar, user_tags,
		timezone, password_hash, created_at, updated_at, last_request_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append([]any{u.AppID}, userArgs(u)...)...)
	if f, ok := uniqueField(err); ok {
		return &auth.DuplicateError{Field: f}
	}
	if err != nil {
		return err
	}
	u.ID, err = res.LastInsertId()
	return err
}

func (db *DB) UserByID(ctx context.Context, appID, id int64) (*auth.User, error) {
	return scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE app_id = ? AND id = ?`, appID, id))
}

func (db *DB) UserByField(ctx context.Context, appID int64, field, value string) (*auth.User, error) {
	var col string
	for _, f := range auth.UniqueLookupFields {
		if f == field {
			col = f
		}
	}
	if col == "" {
		return nil, fmt.Errorf("sqlite: user lookup by %q is not supported", field)
	}
	// Non-unique fields (phone, facebook_id, ...) answer with the oldest match.
	return scanUser(db.r.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE app_id = ? AND `+col+` = ? ORDER BY id LIMIT 1`, appID, value))
}

func (db *DB) UpdateUser(ctx context.Context, u *auth.User) error {
	res, err := db.w.ExecContext(ctx, `UPDATE users SET login = ?, email = ?, full_name = ?, phone = ?, website = ?,
		custom_data = ?, external_user_id = ?, external_id = ?, facebook_id = ?, twitter_id = ?, blob_id = ?,
		avatar = ?, user_tags = ?, timezone = ?, password_hash = ?, created_at = ?, updated_at = ?,
		last_request_at = ? WHERE app_id = ? AND id = ?`,
		append(userArgs(u), u.AppID, u.ID)...)
	if f, ok := uniqueField(err); ok {
		return &auth.DuplicateError{Field: f}
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

func (db *DB) DeleteUser(ctx context.Context, appID, id int64) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE app_id = ? AND id = ?`, appID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return auth.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE app_id = ? AND user_id = ?`, appID, id)
		return err
	})
}

func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (app_id, user_id, token_hash, created_at, updated_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, s.AppID, nullInt(s.UserID), s.TokenHash, micros(s.CreatedAt), micros(s.UpdatedAt), micros(s.ExpiresAt))
		if err != nil {
			return err
		}
		if s.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return touchUser(ctx, tx, s)
	})
}

// touchUser records a session's use as its user's last request.
func touchUser(ctx context.Context, tx *sql.Tx, s *auth.Session) error {
	if s.UserID == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET last_request_at = ? WHERE app_id = ? AND id = ?`,
		micros(s.UpdatedAt), s.AppID, s.UserID)
	return err
}

func (db *DB) SessionByTokenHash(ctx context.Context, hash []byte) (*auth.Session, error) {
	var s auth.Session
	var user sql.NullInt64
	var created, updated, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT id, app_id, user_id, token_hash, created_at, updated_at, expires_at
		FROM sessions WHERE token_hash = ?`, hash).Scan(&s.ID, &s.AppID, &user, &s.TokenHash, &created, &updated, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, auth.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.UserID = user.Int64
	s.CreatedAt, s.UpdatedAt, s.ExpiresAt = fromMicros(created), fromMicros(updated), fromMicros(expires)
	return &s, nil
}

func (db *DB) TouchSession(ctx context.Context, s *auth.Session) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET updated_at = ?, expires_at = ? WHERE id = ?`,
			micros(s.UpdatedAt), micros(s.ExpiresAt), s.ID); err != nil {
			return err
		}
		return touchUser(ctx, tx, s)
	})
}

func (db *DB) SetSessionUser(ctx context.Context, s *auth.Session) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET user_id = ?, updated_at = ?, expires_at = ? WHERE id = ?`,
			nullInt(s.UserID), micros(s.UpdatedAt), micros(s.ExpiresAt), s.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return auth.ErrNotFound
		}
		return touchUser(ctx, tx, s)
	})
}

func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

func (db *DB) DeleteUserSessions(ctx context.Context, appID, userID, except int64) ([][]byte, error) {
	var out [][]byte
	err := db.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `DELETE FROM sessions WHERE app_id = ? AND user_id = ? AND id != ? RETURNING token_hash`,
			appID, userID, except)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				return err
			}
			out = append(out, h)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteExpiredSessions removes sessions that expired before now, so the
// table does not grow with abandoned tokens.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
