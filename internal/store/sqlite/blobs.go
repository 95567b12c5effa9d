package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/blob"
)

var _ blob.Store = (*DB)(nil)

const blobColumns = `id, app_id, owner_id, uid, name, content_type, public, content_key, uploaded_size, size, completed_at, created_at, updated_at`

func scanBlob(row interface{ Scan(...any) error }) (*blob.Blob, error) {
	var b blob.Blob
	var uploaded, size, completed sql.NullInt64
	var key sql.NullString
	var created, updated int64
	err := row.Scan(&b.ID, &b.AppID, &b.OwnerID, &b.UID, &b.Name, &b.ContentType, &b.Public, &key, &uploaded, &size, &completed, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	b.HasContent, b.ContentKey, b.Uploaded = key.Valid, key.String, uploaded.Int64
	if size.Valid {
		n := size.Int64
		b.Size = &n
	}
	if completed.Valid {
		b.CompletedAt = fromMicros(completed.Int64)
	}
	b.CreatedAt, b.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &b, nil
}

func (db *DB) CreateBlob(ctx context.Context, b *blob.Blob) error {
	res, err := db.w.ExecContext(ctx, `INSERT INTO blobs (app_id, owner_id, uid, name, content_type, public, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.AppID, b.OwnerID, b.UID, b.Name, b.ContentType, b.Public, micros(b.CreatedAt), micros(b.UpdatedAt))
	if err != nil {
		return err
	}
	b.ID, err = res.LastInsertId()
	return err
}

func (db *DB) BlobByID(ctx context.Context, appID, id int64) (*blob.Blob, error) {
	return scanBlob(db.r.QueryRowContext(ctx, `SELECT `+blobColumns+` FROM blobs WHERE app_id = ? AND id = ?`, appID, id))
}

func (db *DB) BlobByUID(ctx context.Context, uid string) (*blob.Blob, error) {
	return scanBlob(db.r.QueryRowContext(ctx, `SELECT `+blobColumns+` FROM blobs WHERE uid = ?`, uid))
}

// affected turns "no row changed" into blob.ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return blob.ErrNotFound
	}
	return nil
}

func (db *DB) SetBlobUploaded(ctx context.Context, id int64, key string, n int64, at time.Time) (string, error) {
	var old sql.NullString
	err := db.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT content_key FROM blobs WHERE id = ? AND completed_at IS NULL`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return blob.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE blobs SET content_key = ?, uploaded_size = ?, updated_at = ? WHERE id = ?`, key, n, micros(at), id)
		return err
	})
	return old.String, err
}

func (db *DB) CompleteBlob(ctx context.Context, id int64, key string, size int64, at time.Time) error {
	return affected(db.w.ExecContext(ctx, `UPDATE blobs SET size = ?, completed_at = ?, updated_at = ?
		WHERE id = ? AND content_key = ? AND completed_at IS NULL`, size, micros(at), micros(at), id, key))
}

func (db *DB) RenameBlob(ctx context.Context, id int64, name string, at time.Time) error {
	return affected(db.w.ExecContext(ctx, `UPDATE blobs SET name = ?, updated_at = ? WHERE id = ?`, name, micros(at), id))
}

func (db *DB) DeleteBlob(ctx context.Context, id int64) error {
	return affected(db.w.ExecContext(ctx, `DELETE FROM blobs WHERE id = ?`, id))
}

func (db *DB) ListBlobs(ctx context.Context, appID, ownerID int64, limit, offset int) ([]blob.Blob, int, error) {
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM blobs WHERE app_id = ? AND owner_id = ?`, appID, ownerID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+blobColumns+` FROM blobs WHERE app_id = ? AND owner_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`,
		appID, ownerID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []blob.Blob{}
	for rows.Next() {
		b, err := scanBlob(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *b)
	}
	return out, total, rows.Err()
}

func (db *DB) BlobContentKeysExist(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := db.r.QueryContext(ctx, `SELECT content_key FROM blobs WHERE content_key IN (?`+strings.Repeat(",?", len(keys)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out[u] = true
	}
	return out, rows.Err()
}
