package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/chat"
)

const messageCols = `m.seq, m.id, m.app_id, m.dialog_id, m.sender_id, m.recipient_id, m.body, m.date_sent,
	m.attachments, m.custom, m.created_at, m.updated_at, (SELECT type FROM dialogs WHERE id = m.dialog_id)`

func scanMessage(row scanner) (*chat.Message, error) {
	var m chat.Message
	var atts, custom sql.NullString
	var created, updated int64
	if err := row.Scan(&m.Seq, &m.ID, &m.AppID, &m.DialogID, &m.SenderID, &m.RecipientID, &m.Body, &m.DateSent,
		&atts, &custom, &created, &updated, &m.DialogType); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, chat.ErrNotFound
		}
		return nil, err
	}
	if atts.Valid {
		if err := json.Unmarshal([]byte(atts.String), &m.Attachments); err != nil {
			return nil, err
		}
	}
	if custom.Valid {
		if err := json.Unmarshal([]byte(custom.String), &m.Custom); err != nil {
			return nil, err
		}
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

func (r chatReader) messages(ctx context.Context, query string, args ...any) ([]*chat.Message, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*chat.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// messageColumn maps chat.MessageFields to SQL over messages m.
func messageColumn(field string) (column, bool) {
	switch field {
	case "_id":
		return column{expr: "m.id"}, true
	case "message":
		return column{expr: "m.body"}, true
	case "date_sent", "sender_id", "recipient_id", "created_at", "updated_at":
		return column{expr: "m." + field}, true
	case "attachments.type":
		return column{build: attachmentTypeCond}, true
	}
	return column{}, false
}

// attachmentTypeCond matches messages with any attachment of the type.
func attachmentTypeCond(op string, vals []any) (string, []any, error) {
	has := `EXISTS (SELECT 1 FROM json_each(m.attachments) j WHERE json_extract(j.value, '$.type') `
	switch op {
	case "eq":
		return has + "= ?)", vals[:1], nil
	case "ne":
		return "NOT " + has + "= ?)", vals[:1], nil
	case "in":
		return has + "IN (" + placeholders(len(vals)) + "))", vals, nil
	case "nin":
		return "NOT " + has + "IN (" + placeholders(len(vals)) + "))", vals, nil
	case "ctn":
		return has + "IS NOT NULL AND instr(json_extract(j.value, '$.type'), ?) > 0)", vals[:1], nil
	}
	return "", nil, errors.New("sqlite: operator " + op + " not supported on attachments.type")
}

// notHidden is the condition "not deleted for user ?" over messages m.
const notHidden = `NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ? AND h.message_id = m.id)`

func (r chatReader) Messages(ctx context.Context, dialogID string, userID, clearedSeq int64, q chat.Query) ([]*chat.Message, error) {
	where, args, err := whereSQL(q.Conds, messageColumn)
	if err != nil {
		return nil, err
	}
	order := map[string]string{"date_sent": "m.date_sent", "_id": "m.id", "created_at": "m.created_at", "updated_at": "m.updated_at"}[q.Sort]
	if order == "" {
		order = "m.date_sent"
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	// Ties break by arrival (seq), in the sort's direction: ids are the
	// clients' and say nothing about order, so by id two messages sent in
	// one second could change places between reloads. With the dialog's
	// index on (dialog_id, date_sent, id), SQLite sorts only within each
	// run of equal date_sent, and stops at the page's end.
	tie := ", m.seq" + dir
	if order == "m.id" {
		tie = ""
	}
	query := `SELECT ` + messageCols + ` FROM messages m WHERE m.dialog_id = ? AND +m.seq > ? AND ` + notHidden + where +
		` ORDER BY ` + order + dir + tie + ` LIMIT ? OFFSET ?`
	return r.messages(ctx, query, append(append([]any{dialogID, clearedSeq, userID}, args...), q.Limit, q.Skip)...)
}

func (r chatReader) MessagesByID(ctx context.Context, appID int64, ids []string) ([]*chat.Message, error) {
	if len(ids) == 0 {
		return []*chat.Message{}, nil
	}
	return r.messages(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.app_id = ? AND m.id IN (`+placeholders(len(ids))+`)`,
		append([]any{appID}, anySlice(ids)...)...)
}

func (r chatReader) LoadReceipts(ctx context.Context, msgs []*chat.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	byID := make(map[string]*chat.Message, len(msgs))
	ids := make([]any, 0, len(msgs))
	for _, m := range msgs {
		m.ReadIDs, m.DeliveredIDs, m.Reactions = []int64{}, []int64{}, nil
		if _, dup := byID[m.ID]; !dup {
			ids = append(ids, m.ID)
		}
		byID[m.ID] = m
	}
	rows, err := r.q.QueryContext(ctx, `SELECT message_id, user_id, read FROM receipts WHERE message_id IN (`+
		placeholders(len(ids))+`) ORDER BY at, user_id`, ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var mid string
		var user int64
		var read bool
		if err := rows.Scan(&mid, &user, &read); err != nil {
			rows.Close()
			return err
		}
		m := byID[mid]
		m.DeliveredIDs = append(m.DeliveredIDs, user)
		if read {
			m.ReadIDs = append(m.ReadIDs, user)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = r.q.QueryContext(ctx, `SELECT message_id, reaction, user_id FROM reactions WHERE message_id IN (`+
		placeholders(len(ids))+`) ORDER BY at, user_id`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var mid, reaction string
		var user int64
		if err := rows.Scan(&mid, &reaction, &user); err != nil {
			return err
		}
		m := byID[mid]
		if m.Reactions == nil {
			m.Reactions = map[string][]int64{}
		}
		m.Reactions[reaction] = append(m.Reactions[reaction], user)
	}
	return rows.Err()
}

func (r chatReader) ReceiptState(ctx context.Context, ids []string, except int64) (map[string]chat.Receipt, error) {
	out := map[string]chat.Receipt{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := r.q.QueryContext(ctx, `SELECT message_id, MAX(read) FROM receipts WHERE message_id IN (`+
		placeholders(len(ids))+`) AND user_id != ? GROUP BY message_id`, append(anySlice(ids), except)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var read bool
		if err := rows.Scan(&id, &read); err != nil {
			return nil, err
		}
		out[id] = chat.Receipt{MessageID: id, Read: read}
	}
	return out, rows.Err()
}

func (r chatReader) UnreadCounts(ctx context.Context, appID, userID int64, dialogIDs []string) (map[string]int, int, error) {
	var total int
	if err := r.q.QueryRowContext(ctx, `SELECT COALESCE(SUM(mm.unread), 0) FROM members mm CROSS JOIN dialogs d ON d.id = mm.dialog_id
		WHERE mm.user_id = ? AND mm.member = 1 AND d.app_id = ? AND d.type IN (2, 3)`, userID, appID).Scan(&total); err != nil {
		return nil, 0, err
	}
	out := map[string]int{}
	if len(dialogIDs) == 0 {
		return out, total, nil
	}
	rows, err := r.q.QueryContext(ctx, `SELECT mm.dialog_id, mm.unread FROM members mm CROSS JOIN dialogs d ON d.id = mm.dialog_id
		WHERE mm.user_id = ? AND mm.member = 1 AND d.app_id = ? AND d.type IN (2, 3) AND d.id IN (`+placeholders(len(dialogIDs))+`)`,
		append([]any{userID, appID}, anySlice(dialogIDs)...)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, 0, err
		}
		out[id] = n
	}
	return out, total, rows.Err()
}

// unreadFor is the definition of "unread for user ?": not sent by it, after
// its cleared mark, not read by it, not hidden for it. Args: user, dialog,
// user, user, user.
const unreadFor = `m.sender_id != ?
	AND +m.seq > COALESCE((SELECT cleared_seq FROM members c WHERE c.dialog_id = ? AND c.user_id = ?), 0)
	AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.message_id = m.id AND r.user_id = ? AND r.read = 1)
	AND ` + notHidden

func (r chatReader) Recount(ctx context.Context, dialogID string, userID int64) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages m WHERE m.dialog_id = ? AND `+unreadFor,
		dialogID, userID, dialogID, userID, userID, userID).Scan(&n)
	return n, err
}

func (db *DB) SearchMessages(ctx context.Context, appID, userID int64, s chat.Search) ([]*chat.Message, error) {
	v := searchVisibility(appID, userID, s)
	// The walk starts from what the caller can see. The index is shared
	// by every app: a text common in another tenant's messages made a
	// search walk all its matches (108,000: 140-200 ms) for a caller who
	// may see none of them. When the caller's dialogs hold few messages,
	// reading those (instr(), the same case-sensitive substring test the
	// trigram phrase makes) costs what the caller's data costs, and needs
	// no index at all.
	n, err := db.chatReader.countSearchable(ctx, v, db.searchScan)
	if err != nil {
		return nil, err
	}
	if db.searchScan >= 0 && n <= db.searchScan {
		return db.chatReader.scanSearch(ctx, s, v)
	}
	// Read your writes: index what is pending before searching.
	if err := db.fts.flush(ctx); err != nil {
		return nil, err
	}
	return chatReader{q: poolQuerier{db: db.sr, cache: db.srStmt}}.SearchMessages(ctx, appID, userID, s)
}

// defaultSearchScan is how many messages a caller may see for a search to
// read them all rather than walk the index (DB.searchScan). Reading costs
// about 2 µs a message (BenchmarkSearchAcrossTenants/many-read: 20,000 in
// 43 ms), so at most 4 ms, a third of a common word's walk of a
// 200,000-message app; counting up to it on the dialog index costs a tenth
// of that, paid by every search of a caller above it.
const defaultSearchScan = 2000

// searchScope is who may see a match, as SQL over messages m: the
// caller's listed dialogs (and the ones the search names), after the
// caller's cleared mark, not hidden for it, in the date window. dialogs
// is the part that an index of messages can start from.
type searchScope struct {
	dialogs     string // m.dialog_id and m.date_sent conditions
	dialogsArgs []any
	rest        string // the per-message conditions
	restArgs    []any
}

func searchVisibility(appID, userID int64, s chat.Search) searchScope {
	// The listed dialogs become an IN set (SQLite builds a temporary
	// index for it), probed once per match or walked one by one.
	v := searchScope{
		dialogs:     ` AND m.dialog_id IN (SELECT id FROM (` + listedSQL + `))`,
		dialogsArgs: []any{userID, appID, userID, appID},
		rest: ` AND m.app_id = ?
		AND +m.seq > COALESCE((SELECT c.cleared_seq FROM members c WHERE c.dialog_id = m.dialog_id AND c.user_id = ?), 0)
		AND ` + notHidden,
		restArgs: []any{appID, userID, userID},
	}
	if len(s.DialogIDs) > 0 {
		v.dialogs += ` AND m.dialog_id IN (` + placeholders(len(s.DialogIDs)) + `)`
		v.dialogsArgs = append(v.dialogsArgs, anySlice(s.DialogIDs)...)
	}
	if s.From > 0 {
		v.dialogs += ` AND m.date_sent >= ?`
		v.dialogsArgs = append(v.dialogsArgs, s.From)
	}
	if s.To > 0 {
		v.dialogs += ` AND m.date_sent <= ?`
		v.dialogsArgs = append(v.dialogsArgs, s.To)
	}
	return v
}

func (v searchScope) sql() string { return v.dialogs + v.rest }
func (v searchScope) args() []any { return append(append([]any{}, v.dialogsArgs...), v.restArgs...) }

// countSearchable counts the messages of the caller's dialogs (in the
// window), up to upto+1 (nothing when upto < 0): on the index of messages by dialog and
// date, without reading a message.
func (r chatReader) countSearchable(ctx context.Context, v searchScope, upto int) (int, error) {
	if upto < 0 {
		return 0, nil
	}
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM messages m INDEXED BY messages_dialog_date WHERE 1`+
		v.dialogs+` LIMIT ?)`, append(v.dialogsArgs, upto+1)...).Scan(&n)
	return n, err
}

// scanSearchSQL reads the caller's messages dialog by dialog (INDEXED BY:
// never the whole table newest first, which the ORDER BY could tempt the
// planner into) and keeps those containing the text.
const scanSearchSQL = `SELECT ` + messageCols + ` FROM messages m INDEXED BY messages_dialog_date WHERE instr(m.body, ?) > 0`

func (r chatReader) scanSearch(ctx context.Context, s chat.Search, v searchScope) ([]*chat.Message, error) {
	return r.messages(ctx, scanSearchSQL+v.sql()+` ORDER BY m.seq DESC LIMIT ?`,
		append(append([]any{s.Text}, v.args()...), s.Limit)...)
}

// searchProbe is how many matches a search first collects walking the
// index forward; fewer means it has them all (see SearchMessages). A text
// with more is common enough that walking it backwards finds a page (100)
// of matches the caller may see soon: even a user in one dialog of 20 does
// within about 2,000.
var searchProbe = 2000

const indexProbeSQL = `SELECT rowid FROM search.messages_fts WHERE messages_fts MATCH ? ORDER BY rowid LIMIT ?`

// appShare: an app holding at most 1/appShare of the index has its
// searches walk its own matches only (see SearchMessages).
const appShare = 4

// ownAppWalk reports whether app holds at most 1/appShare of the index.
func (r chatReader) ownAppWalk(ctx context.Context, appID int64) (bool, error) {
	var app, all int64
	err := r.q.QueryRowContext(ctx, `SELECT COALESCE((SELECT n FROM search.fts_apps WHERE app = ?), 0),
		COALESCE((SELECT n FROM search.fts_apps WHERE app = 0), 0)`, appID).Scan(&app, &all)
	return app*appShare <= all, err
}

// searchMatch is the MATCH expression of a search: text as one FTS5
// phrase of the bodies, among the messages of app when ownApp.
func searchMatch(appID int64, text string, ownApp bool) string {
	m := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
	// Without a column filter when the text cannot be found in the app
	// column anyway (its three characters are one trigram; a longer
	// phrase needs two in a row): FTS5's column filter checks every
	// position's column, which made a rare phrase's walk a fifth slower.
	if utf8.RuneCountInString(text) <= 3 {
		m = `body : ` + m
	}
	if ownApp {
		m += ` AND app : "` + appToken(appID) + `"`
	}
	return m
}

// SearchMessages searches through the full-text index (attached as
// "search"), whatever the caller's data.
func (r chatReader) SearchMessages(ctx context.Context, appID, userID int64, s chat.Search) ([]*chat.Message, error) {
	// The text is one FTS5 phrase: with the trigram tokenizer that is an
	// exact, case-sensitive substring match. (Splitting it into words ANDed
	// together and checking the phrase with instr() was measured slower:
	// common words have long doclists.)
	// Only the caller's app's matches are walked when it holds a small
	// share of the index: another app's matches (however many) are none
	// of the caller's business, nor of its search's cost. The app term
	// costs a walk of its own doclist beside the text's, which for an app
	// holding most of the index made searches a third to a half slower
	// (single-app 200,000-message seed) for nothing to skip.
	ownApp, err := r.ownAppWalk(ctx, appID)
	if err != nil {
		return nil, err
	}
	phrase := searchMatch(appID, s.Text, ownApp)
	v := searchVisibility(appID, userID, s)
	visible, args := v.sql(), v.args()
	// Newest first. FTS5 walks a term's matches backwards a third slower
	// than forwards, and a rare text must be walked to its end whatever
	// the direction (few of its matches are in the caller's dialogs). So
	// the matches are first collected forwards, up to searchProbe: when
	// there are no more, the newest visible ones are picked from them.
	seqs, err := r.ids(ctx, indexProbeSQL, phrase, searchProbe+1)
	if err != nil {
		return nil, err
	}
	if len(seqs) <= searchProbe {
		if len(seqs) == 0 {
			return []*chat.Message{}, nil
		}
		list, err := json.Marshal(seqs)
		if err != nil {
			return nil, err
		}
		query := `SELECT ` + messageCols + ` FROM messages m WHERE m.seq IN (SELECT value FROM json_each(?))` + visible +
			` ORDER BY m.seq DESC LIMIT ?`
		return r.messages(ctx, query, append(append([]any{string(list)}, args...), s.Limit)...)
	}
	// A common text: walked backwards, the scan stops after the first
	// limit matches the caller may see.
	query := `SELECT ` + messageCols + ` FROM search.messages_fts f JOIN messages m ON m.seq = f.rowid
		WHERE f.messages_fts MATCH ?` + visible + ` ORDER BY f.rowid DESC LIMIT ?`
	return r.messages(ctx, query, append(append([]any{phrase}, args...), s.Limit)...)
}

func (r chatReader) Reactions(ctx context.Context, messageID string) (map[string][]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT reaction, user_id FROM reactions WHERE message_id = ? ORDER BY at, user_id`, messageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var reaction string
		var user int64
		if err := rows.Scan(&reaction, &user); err != nil {
			return nil, err
		}
		out[reaction] = append(out[reaction], user)
	}
	return out, rows.Err()
}

func jsonOrNull(v any, empty bool) (sql.NullString, error) {
	if empty {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func (t chatTx) InsertMessages(ctx context.Context, msgs []*chat.Message) (int, *chat.Message, error) {
	// One statement per row: a multi-row INSERT was measured slower, as
	// SQLite must then keep a statement journal (a copy of every page the
	// statement changes) to undo the rows before a failing one, and a row
	// here can fail its foreign key.
	for i, m := range msgs {
		atts, err := jsonOrNull(m.Attachments, len(m.Attachments) == 0)
		if err != nil {
			return i, nil, err
		}
		custom, err := jsonOrNull(m.Custom, len(m.Custom) == 0)
		if err != nil {
			return i, nil, err
		}
		var alert any // NULL: nobody to alert (migration 0013)
		if len(m.Alert) > 0 {
			alert = jsonList(m.Alert)
		}
		// A taken id inserts nothing rather than failing: the holder is
		// then read, which only a clash pays for.
		res, err := t.q.ExecContext(ctx, `INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent,
			attachments, custom, created_at, updated_at, alert_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			m.ID, m.AppID, m.DialogID, m.SenderID, m.RecipientID, m.Body, m.DateSent, atts, custom,
			micros(m.CreatedAt), micros(m.UpdatedAt), alert)
		if err != nil {
			return i, nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return i, nil, err
		}
		if n == 0 {
			holder, err := scanMessage(t.q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.id = ?`, m.ID))
			return i, holder, err
		}
		if m.Seq, err = res.LastInsertId(); err != nil {
			return i, nil, err
		}
		*t.wrote = true
	}
	return len(msgs), nil, nil
}

func (t chatTx) OnNewMessages(ctx context.Context, dialogID string, sender int64, n int, counted bool) error {
	if !counted {
		_, err := t.q.ExecContext(ctx, `UPDATE members SET hidden = 0 WHERE dialog_id = ? AND hidden = 1`, dialogID)
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE members SET unread = unread + (member = 1 AND user_id != ?) * ?, hidden = 0
		WHERE dialog_id = ? AND (hidden = 1 OR (member = 1 AND user_id != ?))`, sender, n, dialogID, sender)
	return err
}

func (t chatTx) Newest(ctx context.Context, dialogID string) (*chat.Message, error) {
	return scanMessage(t.q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.dialog_id = ? ORDER BY m.date_sent DESC, m.seq DESC LIMIT 1`, dialogID))
}

func (t chatTx) UpdateMessageBody(ctx context.Context, id, body string, at time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET body = ?, updated_at = ? WHERE id = ?`, body, micros(at), id)
	return err
}

func (t chatTx) TouchMessage(ctx context.Context, id string, at time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE id = ?`, micros(at), id)
	return err
}

func (t chatTx) DeleteMessage(ctx context.Context, m *chat.Message) error {
	// Every member who had it unread loses one unread.
	if _, err := t.q.ExecContext(ctx, `UPDATE members SET unread = unread - 1
		WHERE dialog_id = ? AND member = 1 AND user_id != ? AND cleared_seq < ? AND unread > 0
		AND user_id NOT IN (SELECT user_id FROM receipts WHERE message_id = ? AND read = 1)
		AND user_id NOT IN (SELECT user_id FROM hidden_messages WHERE message_id = ?)`,
		m.DialogID, m.SenderID, m.Seq, m.ID, m.ID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM messages WHERE id = ?`, m.ID)
	return err
}

func (t chatTx) DeleteDialogMessages(ctx context.Context, dialogID string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM messages WHERE dialog_id = ?`, dialogID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE members SET unread = 0 WHERE dialog_id = ?`, dialogID)
	return err
}

// receiptChunk is the most keys one ReceiptTargets query carries (see
// inChunks).
const receiptChunk = 64

var receiptSQL = func() map[int]string {
	out := map[int]string{}
	for n := 8; n <= receiptChunk; n += 8 {
		// The keys drive the join (CROSS JOIN keeps them outermost): each is
		// one probe of the message id's index, then of the dialog, the
		// member row, the hidden mark and the receipt by their keys.
		out[n] = `SELECT v.column1, v.column2, m.seq, m.dialog_id, m.sender_id, d.app_id, d.type,
			mm.member, mm.cleared_seq,
			EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = v.column2 AND h.message_id = m.id),
			r.read
		FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",") + `) v
		CROSS JOIN messages m ON m.id = v.column1
		JOIN dialogs d ON d.id = m.dialog_id
		LEFT JOIN members mm ON mm.dialog_id = m.dialog_id AND mm.user_id = v.column2
		LEFT JOIN receipts r ON r.message_id = m.id AND r.user_id = v.column2`
	}
	return out
}()

func (t chatTx) ReceiptTargets(ctx context.Context, keys []chat.ReceiptKey) (map[chat.ReceiptKey]chat.ReceiptTarget, error) {
	out := make(map[chat.ReceiptKey]chat.ReceiptTarget, len(keys))
	err := inChunks(keys, receiptChunk, func(k chat.ReceiptKey) (any, any) { return k.MessageID, k.UserID },
		func(n int, args []any) error { return t.receiptChunk(ctx, receiptSQL[n], args, out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t chatTx) receiptChunk(ctx context.Context, query string, args []any, out map[chat.ReceiptKey]chat.ReceiptTarget) error {
	rows, err := t.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k chat.ReceiptKey
		var r chat.ReceiptTarget
		var member, cleared, read sql.NullInt64
		if err := rows.Scan(&k.MessageID, &k.UserID, &r.Seq, &r.DialogID, &r.SenderID, &r.AppID, &r.DialogType,
			&member, &cleared, &r.Hidden, &read); err != nil {
			return err
		}
		r.IsMember = member.Int64 == 1
		r.ClearedSeq = cleared.Int64
		r.State = -1
		if read.Valid {
			r.State = int(read.Int64)
		}
		out[k] = r
	}
	return rows.Err()
}

func (t chatTx) SetReceipt(ctx context.Context, r chat.ReceiptTarget, k chat.ReceiptKey, read bool, at time.Time) error {
	want := 0
	if read {
		want = 1
	}
	if _, err := t.q.ExecContext(ctx, `INSERT INTO receipts (message_id, user_id, read, at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id, user_id) DO UPDATE SET read = excluded.read, at = excluded.at`,
		k.MessageID, k.UserID, want, micros(at)); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE seq = ?`, micros(at), r.Seq)
	return err
}

func (t chatTx) Mark(ctx context.Context, dialogID string, userID int64, ids []string, read bool, clearedSeq int64, at time.Time) (int, error) {
	want := 0
	if read {
		want = 1
	}
	// The messages whose receipt changes, and whether each counts as unread
	// for the user (visible to it).
	query := `SELECT m.id, (+m.seq > ? AND ` + notHidden + `) FROM messages m
		LEFT JOIN receipts r ON r.message_id = m.id AND r.user_id = ?
		WHERE m.dialog_id = ? AND m.sender_id != ? AND (r.message_id IS NULL OR r.read < ?)`
	args := []any{clearedSeq, userID, userID, dialogID, userID, want}
	if ids != nil {
		if len(ids) == 0 {
			return 0, nil
		}
		query += ` AND m.id IN (` + placeholders(len(ids)) + `)`
		args = append(args, anySlice(ids)...)
	}
	rows, err := t.q.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	var changed []string
	dropped := 0
	for rows.Next() {
		var id string
		var visible bool
		if err := rows.Scan(&id, &visible); err != nil {
			rows.Close()
			return 0, err
		}
		changed = append(changed, id)
		if read && visible {
			dropped++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range changed {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO receipts (message_id, user_id, read, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (message_id, user_id) DO UPDATE SET read = excluded.read, at = excluded.at`,
			id, userID, want, micros(at)); err != nil {
			return 0, err
		}
		if _, err := t.q.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE id = ?`, micros(at), id); err != nil {
			return 0, err
		}
	}
	return dropped, nil
}

func (t chatTx) Hide(ctx context.Context, dialogID string, userID int64, ids []string, clearedSeq int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int
	if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages m WHERE m.dialog_id = ? AND m.id IN (`+
		placeholders(len(ids))+`) AND m.sender_id != ? AND +m.seq > ? AND `+notHidden+`
		AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.message_id = m.id AND r.user_id = ? AND r.read = 1)`,
		append(append([]any{dialogID}, anySlice(ids)...), userID, clearedSeq, userID, userID)...).Scan(&n); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO hidden_messages (user_id, message_id) VALUES (?, ?)
			ON CONFLICT (user_id, message_id) DO NOTHING`, userID, id); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (t chatTx) SetReaction(ctx context.Context, messageID string, userID int64, reaction string, add bool, at time.Time) error {
	if add {
		_, err := t.q.ExecContext(ctx, `INSERT INTO reactions (message_id, user_id, reaction, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (message_id, user_id, reaction) DO NOTHING`, messageID, userID, reaction, micros(at))
		return err
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND reaction = ?`, messageID, userID, reaction)
	return err
}
