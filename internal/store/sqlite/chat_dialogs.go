package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

const dialogCols = `d.id, d.app_id, d.type, d.name, d.description, d.photo, d.owner_id, d.allow_preview, d.pair_key,
	d.subscribers, d.last_message, d.last_message_id, d.last_message_user_id, d.last_message_date_sent,
	d.last_seq, d.created_at, d.updated_at`

const memberCols = `mm.dialog_id, mm.user_id, mm.member, mm.member_since, mm.admin_since, mm.hidden,
	mm.cleared_seq, mm.unread, mm.notifications`

type scanner interface{ Scan(...any) error }

func scanDialog(row scanner, extra ...any) (*chat.Dialog, error) {
	var d chat.Dialog
	var name, desc, photo, lastBody, lastID, pair sql.NullString
	var lastUser, lastDate sql.NullInt64
	var created, updated int64
	dest := append([]any{&d.ID, &d.AppID, &d.Type, &name, &desc, &photo, &d.OwnerID, &d.AllowPreview, &pair,
		&d.Subscribers, &lastBody, &lastID, &lastUser, &lastDate, &d.LastSeq, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, chat.ErrNotFound
		}
		return nil, err
	}
	d.Name, d.Description, d.Photo, d.Pair = name.String, desc.String, photo.String, pair.String
	if lastID.Valid {
		d.Last = &chat.LastMessage{ID: lastID.String, Body: lastBody.String, UserID: lastUser.Int64, DateSent: lastDate.Int64}
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// memberScan holds the nullable columns of a LEFT JOINed member row.
type memberScan struct {
	dialogID                                         sql.NullString
	user, member, since, admin, hidden, cleared, unr sql.NullInt64
	notif                                            sql.NullInt64
}

func (m *memberScan) dest() []any {
	return []any{&m.dialogID, &m.user, &m.member, &m.since, &m.admin, &m.hidden, &m.cleared, &m.unr, &m.notif}
}

func (m *memberScan) member_() *chat.Member {
	if !m.dialogID.Valid {
		return nil
	}
	return &chat.Member{DialogID: m.dialogID.String, UserID: m.user.Int64, IsMember: m.member.Int64 == 1,
		MemberSince: m.since.Int64, AdminSince: m.admin.Int64, Hidden: m.hidden.Int64 == 1,
		ClearedSeq: m.cleared.Int64, Unread: int(m.unr.Int64), Notifications: m.notif.Int64 == 1}
}

func (r chatReader) Dialog(ctx context.Context, appID int64, id string) (*chat.Dialog, error) {
	d, err := scanDialog(r.q.QueryRowContext(ctx, `SELECT `+dialogCols+` FROM dialogs d WHERE d.id = ? AND d.app_id = ?`, id, appID))
	if err != nil {
		return nil, err
	}
	if err := r.loadRelations(ctx, []*chat.Dialog{d}); err != nil {
		return nil, err
	}
	return d, nil
}

func (r chatReader) DialogHead(ctx context.Context, appID int64, id string, userID int64) (*chat.Dialog, *chat.Member, error) {
	var m memberScan
	d, err := scanDialog(r.q.QueryRowContext(ctx, `SELECT `+dialogCols+`, `+memberCols+` FROM dialogs d
		LEFT JOIN members mm ON mm.dialog_id = d.id AND mm.user_id = ? WHERE d.id = ? AND d.app_id = ?`, userID, id, appID), m.dest()...)
	if err != nil {
		return nil, nil, err
	}
	return d, m.member_(), nil
}

// postingChunk is the most keys one PostingHeads query carries; its
// statements take a multiple of 8 keys (the last repeated to fill), so a
// few texts, each prepared once, serve every batch.
const postingChunk = 64

var postingSQL = func() map[int]string {
	out := map[int]string{}
	for n := 8; n <= postingChunk; n += 8 {
		out[n] = `SELECT d.id, d.app_id, d.type, d.owner_id, d.pair_key, v.column2, mm.member
		FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",") + `) v
		CROSS JOIN dialogs d ON d.id = v.column1
		LEFT JOIN members mm ON mm.dialog_id = v.column1 AND mm.user_id = v.column2`
	}
	return out
}()

func (r chatReader) PostingHeads(ctx context.Context, keys []chat.MemberKey) (map[string]*chat.Dialog, map[chat.MemberKey]bool, error) {
	heads := map[string]*chat.Dialog{}
	members := map[chat.MemberKey]bool{}
	uniq := uniqueKeys(keys)
	err := inChunks(uniq, postingChunk, func(k chat.MemberKey) (any, any) { return k.DialogID, k.UserID },
		func(n int, args []any) error { return r.postingChunk(ctx, postingSQL[n], args, heads, members) })
	if err != nil {
		return nil, nil, err
	}
	return heads, members, nil
}

// uniqueKeys is keys without repeats, in order of first appearance.
func uniqueKeys(keys []chat.MemberKey) []chat.MemberKey {
	seen := make(map[chat.MemberKey]bool, len(keys))
	uniq := make([]chat.MemberKey, 0, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	return uniq
}

// inChunks runs a statement over keys of two columns, at most max keys at
// a time. Each chunk is padded to a multiple of 8 keys by repeating its
// last one (the statements' answers are keyed, so a repeat adds nothing),
// so that a few statement texts, each prepared once, serve every batch;
// fn gets the padded count and the keys' columns in order.
func inChunks[K any](keys []K, max int, cols func(K) (any, any), fn func(n int, args []any) error) error {
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), max)]
		keys = keys[len(chunk):]
		n := (len(chunk) + 7) / 8 * 8
		args := make([]any, 0, 2*n)
		for i := range n {
			a, b := cols(chunk[min(i, len(chunk)-1)])
			args = append(args, a, b)
		}
		if err := fn(n, args); err != nil {
			return err
		}
	}
	return nil
}

func (r chatReader) postingChunk(ctx context.Context, query string, args []any, heads map[string]*chat.Dialog, members map[chat.MemberKey]bool) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d chat.Dialog
		var pair sql.NullString
		var user int64
		var member sql.NullInt64
		if err := rows.Scan(&d.ID, &d.AppID, &d.Type, &d.OwnerID, &pair, &user, &member); err != nil {
			return err
		}
		d.Pair = pair.String
		if _, ok := heads[d.ID]; !ok {
			heads[d.ID] = &d
		}
		if member.Int64 == 1 {
			members[chat.MemberKey{DialogID: d.ID, UserID: user}] = true
		}
	}
	return rows.Err()
}

var mutedSQL = func() map[int]string {
	out := map[int]string{}
	for n := 8; n <= postingChunk; n += 8 {
		out[n] = `SELECT v.column1, v.column2
		FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",") + `) v
		CROSS JOIN members mm ON mm.dialog_id = v.column1 AND mm.user_id = v.column2
		WHERE mm.notifications = 0`
	}
	return out
}()

func (r chatReader) Muted(ctx context.Context, keys []chat.MemberKey) (map[chat.MemberKey]bool, error) {
	muted := map[chat.MemberKey]bool{}
	uniq := uniqueKeys(keys)
	err := inChunks(uniq, postingChunk, func(k chat.MemberKey) (any, any) { return k.DialogID, k.UserID },
		func(n int, args []any) error {
			rows, err := r.q.QueryContext(ctx, mutedSQL[n], args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k chat.MemberKey
				if err := rows.Scan(&k.DialogID, &k.UserID); err != nil {
					return err
				}
				muted[k] = true
			}
			return rows.Err()
		})
	if err != nil {
		return nil, err
	}
	return muted, nil
}

func (r chatReader) PrivateDialog(ctx context.Context, appID int64, pair string) (*chat.Dialog, error) {
	var id string
	err := r.q.QueryRowContext(ctx, `SELECT id FROM dialogs WHERE app_id = ? AND pair_key = ?`, appID, pair).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return r.Dialog(ctx, appID, id)
}

func (r chatReader) PrivateDialogHead(ctx context.Context, appID int64, pair string) (*chat.Dialog, error) {
	return scanDialog(r.q.QueryRowContext(ctx, `SELECT `+dialogCols+` FROM dialogs d WHERE d.app_id = ? AND d.pair_key = ?`, appID, pair))
}

// loadRelations fills occupants, admins, pins and extensions of ds with
// four queries whatever their number.
func (r chatReader) loadRelations(ctx context.Context, ds []*chat.Dialog) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[string]*chat.Dialog, len(ds))
	var all, counted []any
	for _, d := range ds {
		byID[d.ID] = d
		d.Occupants, d.Admins, d.Pinned, d.Extensions = []int64{}, []int64{}, []string{}, map[string]string{}
		all = append(all, d.ID)
		if d.Type == chat.Group || d.Type == chat.Private {
			counted = append(counted, d.ID)
		}
	}
	type ranked struct {
		user, since int64
	}
	occ := map[string][]ranked{}
	adm := map[string][]ranked{}
	collect := func(query string, args []any) error {
		rows, err := r.q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var did string
			var user, member, since int64
			var admin sql.NullInt64
			if err := rows.Scan(&did, &user, &member, &since, &admin); err != nil {
				return err
			}
			if member == 1 {
				occ[did] = append(occ[did], ranked{user, since})
			}
			if admin.Valid {
				adm[did] = append(adm[did], ranked{user, admin.Int64})
			}
		}
		return rows.Err()
	}
	// Occupants only for groups and private dialogs: a public dialog's
	// subscribers can be many and are not part of the model.
	if len(counted) > 0 {
		if err := collect(`SELECT dialog_id, user_id, member, member_since, admin_since FROM members
			WHERE dialog_id IN (`+placeholders(len(counted))+`) AND (member = 1 OR admin_since IS NOT NULL)`, counted); err != nil {
			return err
		}
	}
	var others []any
	for _, d := range ds {
		if d.Type == chat.Public || d.Type == chat.Broadcast {
			others = append(others, d.ID)
		}
	}
	if len(others) > 0 {
		if err := collect(`SELECT dialog_id, user_id, 0, member_since, admin_since FROM members
			WHERE dialog_id IN (`+placeholders(len(others))+`) AND admin_since IS NOT NULL`, others); err != nil {
			return err
		}
	}
	order := func(xs []ranked) []int64 {
		sort.Slice(xs, func(i, j int) bool {
			if xs[i].since != xs[j].since {
				return xs[i].since < xs[j].since
			}
			return xs[i].user < xs[j].user
		})
		out := make([]int64, len(xs))
		for i, x := range xs {
			out[i] = x.user
		}
		return out
	}
	for id, xs := range occ {
		byID[id].Occupants = order(xs)
	}
	for id, xs := range adm {
		byID[id].Admins = order(xs)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT dialog_id, message_id FROM dialog_pins WHERE dialog_id IN (`+
		placeholders(len(all))+`) ORDER BY dialog_id, position`, all...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var did, mid string
		if err := rows.Scan(&did, &mid); err != nil {
			rows.Close()
			return err
		}
		byID[did].Pinned = append(byID[did].Pinned, mid)
	}
	rows.Close()
	rows, err = r.q.QueryContext(ctx, `SELECT dialog_id, name, value FROM dialog_extensions WHERE dialog_id IN (`+
		placeholders(len(all))+`)`, all...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var did, name, value string
		if err := rows.Scan(&did, &name, &value); err != nil {
			return err
		}
		byID[did].Extensions[name] = value
	}
	return rows.Err()
}

func (r chatReader) Member(ctx context.Context, dialogID string, userID int64) (*chat.Member, error) {
	var ms memberScan
	err := r.q.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members mm WHERE mm.dialog_id = ? AND mm.user_id = ?`,
		dialogID, userID).Scan(ms.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return ms.member_(), nil
}

func (r chatReader) Members(ctx context.Context, dialogID string, skip, limit int) ([]int64, error) {
	return r.ids(ctx, `SELECT user_id FROM members WHERE dialog_id = ? AND member = 1
		ORDER BY member_since, user_id LIMIT ? OFFSET ?`, dialogID, limit, skip)
}

// ids runs a query of one integer column.
func (r chatReader) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (r chatReader) MissingUsers(ctx context.Context, appID int64, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	present, err := r.ids(ctx, `SELECT id FROM users WHERE app_id = ? AND id IN (`+placeholders(len(ids))+`)`,
		append([]any{appID}, anySlice(ids)...)...)
	if err != nil {
		return nil, err
	}
	found := make(map[int64]bool, len(present))
	for _, id := range present {
		found[id] = true
	}
	var missing []int64
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// Queries that start from one user's member rows say CROSS JOIN: SQLite
// keeps that join order, so it walks the user's rows (members_user) instead
// of every dialog of the app, whatever statistics it has.
//
// listedSQL selects the dialogs a user lists (REST.md §5.1) with the user's
// member row: groups and private dialogs it is in and has not hidden,
// public dialogs it subscribes to, broadcasts it has not hidden. Args:
// user, app, user, app.
const listedSQL = `
	SELECT ` + dialogCols + `, ` + memberCols + ` FROM members mm CROSS JOIN dialogs d ON d.id = mm.dialog_id
	WHERE mm.user_id = ? AND mm.member = 1 AND d.app_id = ? AND (d.type = 4 OR mm.hidden = 0)
	UNION ALL
	SELECT ` + dialogCols + `, ` + memberCols + ` FROM dialogs d LEFT JOIN members mm ON mm.dialog_id = d.id AND mm.user_id = ?
	WHERE d.app_id = ? AND d.type = 1 AND COALESCE(mm.hidden, 0) = 0`

// dialogColumn maps a filter field of chat.DialogFields to SQL over the
// listed set (alias x).
func dialogColumn(field string) (column, bool) {
	switch field {
	case "_id":
		return column{expr: "x.id"}, true
	case "type":
		return column{expr: "x.type"}, true
	case "name":
		return column{expr: "x.name"}, true
	case "last_message_date_sent":
		return column{expr: "x.last_message_date_sent"}, true
	case "created_at":
		return column{expr: "x.created_at"}, true
	case "updated_at":
		return column{expr: "x.updated_at"}, true
	case "user_id":
		return column{expr: "x.owner_id"}, true
	case "occupants_ids":
		return column{build: occupantsCond}, true
	}
	if name, ok := strings.CutPrefix(field, "extensions."); ok && name != "" {
		return column{expr: "(SELECT e.value FROM dialog_extensions e WHERE e.dialog_id = x.id AND e.name = " + quote(name) + ")"}, true
	}
	return column{}, false
}

// quote renders a string literal; used only for extension names, which the
// REST layer restricts to letters, digits and underscores.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// occupantsCond: occupants_ids=v means "contains v"; [all] every value,
// [in] any, [nin] none, [ne] does not contain.
func occupantsCond(op string, vals []any) (string, []any, error) {
	has := `EXISTS (SELECT 1 FROM members o WHERE o.dialog_id = x.id AND o.member = 1 AND x.type IN (2, 3) AND o.user_id `
	switch op {
	case "eq":
		return has + "= ?)", vals[:1], nil
	case "ne":
		return "NOT " + has + "= ?)", vals[:1], nil
	case "in":
		return has + "IN (" + placeholders(len(vals)) + "))", vals, nil
	case "nin":
		return "NOT " + has + "IN (" + placeholders(len(vals)) + "))", vals, nil
	case "all":
		parts := make([]string, len(vals))
		for i := range vals {
			parts[i] = has + "= ?)"
		}
		return "(" + strings.Join(parts, " AND ") + ")", vals, nil
	}
	return "", nil, fmt.Errorf("sqlite: operator %q not supported on occupants_ids", op)
}

func (r chatReader) ListDialogs(ctx context.Context, appID, userID int64, q chat.Query) ([]*chat.Dialog, []*chat.Member, int, error) {
	where, args, err := whereSQL(q.Conds, dialogColumn)
	if err != nil {
		return nil, nil, 0, err
	}
	base := `FROM (` + listedSQL + `) x WHERE 1 = 1` + where
	baseArgs := append([]any{userID, appID, userID, appID}, args...)
	var total int
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) `+base, baseArgs...).Scan(&total); err != nil {
		return nil, nil, 0, err
	}
	if q.Limit == 0 {
		return []*chat.Dialog{}, []*chat.Member{}, total, nil
	}
	order := map[string]string{
		"last_message_date_sent": "COALESCE(x.last_message_date_sent, x.created_at / 1000000)",
		"created_at":             "x.created_at", "updated_at": "x.updated_at",
		"_id": "x.id", "name": "x.name", "type": "x.type",
	}[q.Sort]
	if order == "" {
		order, q.Desc = "COALESCE(x.last_message_date_sent, x.created_at / 1000000)", true
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	rows, err := r.q.QueryContext(ctx, `SELECT * `+base+` ORDER BY `+order+dir+`, x.id`+dir+` LIMIT ? OFFSET ?`,
		append(baseArgs, q.Limit, q.Skip)...)
	if err != nil {
		return nil, nil, 0, err
	}
	defer rows.Close()
	var ds []*chat.Dialog
	var ms []*chat.Member
	for rows.Next() {
		var m memberScan
		d, err := scanDialog(rows, m.dest()...)
		if err != nil {
			return nil, nil, 0, err
		}
		ds = append(ds, d)
		ms = append(ms, m.member_())
	}
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	return ds, ms, total, r.loadRelations(ctx, ds)
}

func (r chatReader) SearchDialogs(ctx context.Context, appID, userID int64, text string, limit int) ([]*chat.Dialog, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT * FROM (`+listedSQL+`) x WHERE instr(x.name, ?) > 0
		ORDER BY x.updated_at DESC, x.id DESC LIMIT ?`, userID, appID, userID, appID, text, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []*chat.Dialog
	for rows.Next() {
		var m memberScan
		d, err := scanDialog(rows, m.dest()...)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ds, r.loadRelations(ctx, ds)
}

func (r chatReader) SearchUsers(ctx context.Context, appID, userID int64, text string, limit int) ([]int64, error) {
	return r.ids(ctx, `SELECT DISTINCT u.id FROM members mine
		CROSS JOIN members o ON o.dialog_id = mine.dialog_id
		CROSS JOIN users u ON u.id = o.user_id
		WHERE mine.user_id = ? AND mine.member = 1 AND o.member = 1 AND o.user_id != mine.user_id AND u.app_id = ?
		AND (instr(u.login, ?) > 0 OR instr(u.full_name, ?) > 0)
		ORDER BY u.id LIMIT ?`, userID, appID, text, text, limit)
}

func (t chatTx) InsertDialog(ctx context.Context, d *chat.Dialog) error {
	var pair sql.NullString
	if d.Type == chat.Private && len(d.Occupants) == 2 {
		pair = sql.NullString{String: chat.PairKey(d.Occupants[0], d.Occupants[1]), Valid: true}
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO dialogs (id, app_id, type, name, description, photo, owner_id,
		allow_preview, pair_key, subscribers, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.AppID, d.Type, nullText(d.Name), nullText(d.Description), nullText(d.Photo), d.OwnerID,
		d.AllowPreview, pair, d.Subscribers, micros(d.CreatedAt), micros(d.UpdatedAt))
	return err
}

func (t chatTx) UpdateDialog(ctx context.Context, d *chat.Dialog) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE dialogs SET name = ?, description = ?, photo = ?, owner_id = ?,
		allow_preview = ?, subscribers = ?, updated_at = ? WHERE id = ?`,
		nullText(d.Name), nullText(d.Description), nullText(d.Photo), d.OwnerID, d.AllowPreview, d.Subscribers,
		micros(d.UpdatedAt), d.ID); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM dialog_extensions WHERE dialog_id = ?`, d.ID); err != nil {
		return err
	}
	for k, v := range d.Extensions {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO dialog_extensions (dialog_id, name, value) VALUES (?, ?, ?)`, d.ID, k, v); err != nil {
			return err
		}
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM dialog_pins WHERE dialog_id = ?`, d.ID); err != nil {
		return err
	}
	for i, id := range d.Pinned {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO dialog_pins (dialog_id, message_id, position) VALUES (?, ?, ?)`, d.ID, id, i); err != nil {
			return err
		}
	}
	return nil
}

func (t chatTx) DeleteDialog(ctx context.Context, id string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM dialogs WHERE id = ?`, id)
	return err
}

func (t chatTx) PutMember(ctx context.Context, m *chat.Member) error {
	var admin sql.NullInt64
	if m.AdminSince != 0 {
		admin = sql.NullInt64{Int64: m.AdminSince, Valid: true}
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO members (dialog_id, user_id, member, member_since, admin_since, hidden,
		cleared_seq, unread, notifications) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dialog_id, user_id) DO UPDATE SET member = excluded.member, member_since = excluded.member_since,
		admin_since = excluded.admin_since, hidden = excluded.hidden, cleared_seq = excluded.cleared_seq,
		notifications = excluded.notifications`,
		m.DialogID, m.UserID, m.IsMember, m.MemberSince, admin, m.Hidden, m.ClearedSeq, m.Unread, m.Notifications)
	return err
}

func (t chatTx) DeleteMember(ctx context.Context, dialogID string, userID int64) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM members WHERE dialog_id = ? AND user_id = ?`, dialogID, userID)
	return err
}

func (t chatTx) MemberDialogs(ctx context.Context, appID, userID int64) ([]string, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT m.dialog_id FROM members m CROSS JOIN dialogs d ON d.id = m.dialog_id
		WHERE m.user_id = ? AND d.app_id = ? ORDER BY m.dialog_id`, userID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (t chatTx) DeleteOffline(ctx context.Context, appID, userID int64) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM offline WHERE app_id = ? AND user_id = ?`, appID, userID)
	return err
}

func (t chatTx) AddUnread(ctx context.Context, dialogID string, userID int64, delta int) error {
	if delta == 0 {
		return nil
	}
	_, err := t.q.ExecContext(ctx, `UPDATE members SET unread = unread + ? WHERE dialog_id = ? AND user_id = ?`, delta, dialogID, userID)
	return err
}

func (t chatTx) SetLast(ctx context.Context, dialogID string, last *chat.LastMessage, lastSeq int64, updatedAt time.Time) error {
	var body, id sql.NullString
	var user, date sql.NullInt64
	if last != nil {
		body = sql.NullString{String: last.Body, Valid: true}
		id = sql.NullString{String: last.ID, Valid: true}
		user = sql.NullInt64{Int64: last.UserID, Valid: true}
		date = sql.NullInt64{Int64: last.DateSent, Valid: true}
	}
	_, err := t.q.ExecContext(ctx, `UPDATE dialogs SET last_message = ?, last_message_id = ?, last_message_user_id = ?,
		last_message_date_sent = ?, last_seq = ?, updated_at = ? WHERE id = ?`,
		body, id, user, date, lastSeq, micros(updatedAt), dialogID)
	return err
}
