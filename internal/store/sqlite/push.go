package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/push"
)

var _ push.Store = (*DB)(nil)

// Times in the push tables are Unix milliseconds (migration 0012).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// jsonList encodes a list for json_each: one bound parameter whatever its
// length, so a 10,000-id selection neither hits SQLite's variable limit
// nor fills the statement cache with one text per length.
func jsonList[T any](xs []T) string {
	if len(xs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(xs) // ints and strings always encode
	return string(b)
}

const subColumns = `id, app_id, user_id, channel, platform, udid, environment, token, bundle, web_auth, web_p256dh, created_at, updated_at`

func scanSub(row scanner) (*push.Subscription, error) {
	var s push.Subscription
	var ch string
	var created, updated int64
	err := row.Scan(&s.ID, &s.AppID, &s.UserID, &ch, &s.Platform, &s.UDID, &s.Environment, &s.Token, &s.Bundle,
		&s.WebAuth, &s.WebP256dh, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, push.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.Channel, s.CreatedAt, s.UpdatedAt = push.Channel(ch), fromMillis(created), fromMillis(updated)
	return &s, nil
}

func (db *DB) PutSubscription(ctx context.Context, s *push.Subscription) error {
	at := s.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	var created, updated int64
	err := db.w.QueryRowContext(ctx, `INSERT INTO push_subscriptions (app_id, user_id, channel, platform, udid, environment,
		token, bundle, web_auth, web_p256dh, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id, user_id, udid, channel) DO UPDATE SET platform = excluded.platform,
		environment = excluded.environment, token = excluded.token, bundle = excluded.bundle,
		web_auth = excluded.web_auth, web_p256dh = excluded.web_p256dh, updated_at = excluded.updated_at
		RETURNING id, created_at, updated_at`,
		s.AppID, s.UserID, string(s.Channel), s.Platform, s.UDID, s.Environment, s.Token, s.Bundle, s.WebAuth, s.WebP256dh,
		millis(at), millis(at)).Scan(&s.ID, &created, &updated)
	if err != nil {
		return err
	}
	s.CreatedAt, s.UpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

func (db *DB) Subscriptions(ctx context.Context, appID, userID int64) ([]push.Subscription, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+subColumns+` FROM push_subscriptions WHERE app_id = ? AND user_id = ? ORDER BY id`,
		appID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []push.Subscription{}
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

func (db *DB) Subscription(ctx context.Context, appID, id int64) (*push.Subscription, error) {
	return scanSub(db.r.QueryRowContext(ctx, `SELECT `+subColumns+` FROM push_subscriptions WHERE app_id = ? AND id = ?`, appID, id))
}

func (db *DB) DeleteSubscription(ctx context.Context, appID, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE app_id = ? AND id = ?`, appID, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return push.ErrNotFound
	}
	return nil
}

// tagMatch is true when the users row u has the tag bound to it: tags are
// kept comma-joined, so a whole, case-sensitive match is the tag between
// commas of the padded list (LIKE would fold case and read % and _).
const tagMatch = `instr(',' || coalesce(u.user_tags, '') || ',', ',' || t.value || ',') > 0`

// selectorCond is the WHERE condition on users u (of one app, the first
// argument) that sel selects: the union of ids, external ids and tag
// matches, less the excluded tags.
func selectorCond(appID int64, sel push.Selector) (string, []any) {
	var or []string
	args := []any{appID}
	if len(sel.IDs) > 0 {
		or = append(or, `u.id IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(sel.IDs))
	}
	if len(sel.ExternalIDs) > 0 {
		or = append(or, `u.external_user_id IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(sel.ExternalIDs))
	}
	if len(sel.TagsAny) > 0 {
		or = append(or, `EXISTS (SELECT 1 FROM json_each(?) t WHERE `+tagMatch+`)`)
		args = append(args, jsonList(sel.TagsAny))
	}
	if len(sel.TagsAll) > 0 {
		or = append(or, `NOT EXISTS (SELECT 1 FROM json_each(?) t WHERE NOT (`+tagMatch+`))`)
		args = append(args, jsonList(sel.TagsAll))
	}
	if len(or) == 0 {
		or = []string{"0"}
	}
	cond := `u.app_id = ? AND (` + strings.Join(or, " OR ") + `)`
	if len(sel.TagsExclude) > 0 {
		cond += ` AND NOT EXISTS (SELECT 1 FROM json_each(?) t WHERE ` + tagMatch + `)`
		args = append(args, jsonList(sel.TagsExclude))
	}
	return cond, args
}

func (db *DB) EventRecipients(ctx context.Context, appID int64, sel push.Selector, limit int) (int, error) {
	cond, args := selectorCond(appID, sel)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users u WHERE `+cond+` LIMIT ?)`,
		append(args, limit+1)...).Scan(&n)
	return n, err
}

func (db *DB) CreateEvent(ctx context.Context, e *push.Event, sel push.Selector, channels []push.Channel) (int, error) {
	var queued int
	err := db.tx(ctx, func(tx *sql.Tx) error {
		at := millis(e.CreatedAt)
		if err := tx.QueryRowContext(ctx, `INSERT INTO push_events (app_id, user_id, push_type, environment, message, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, e.AppID, e.UserID, string(e.PushType), e.Environment, e.Message, at).Scan(&e.ID); err != nil {
			return err
		}
		cond, selArgs := selectorCond(e.AppID, sel)
		args := append([]any{e.ID, at, at, e.AppID, e.Environment, jsonList(channels)}, selArgs...)
		res, err := tx.ExecContext(ctx, `INSERT INTO push_outbox (app_id, subscription_id, channel, kind, event_id, next_at, created_at)
			SELECT s.app_id, s.id, s.channel, 2, ?, ?, ?
			FROM push_subscriptions s JOIN users u ON u.id = s.user_id
			WHERE s.app_id = ? AND s.environment = ? AND s.channel IN (SELECT value FROM json_each(?)) AND `+cond+`
			ORDER BY s.id`, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		queued = int(n)
		return err
	})
	if err != nil {
		e.ID = 0
	}
	return queued, err
}

func (db *DB) AppSettings(ctx context.Context, appID int64) (*push.StoredSettings, error) {
	s := &push.StoredSettings{AppID: appID}
	var alerts bool
	err := db.r.QueryRowContext(ctx, `SELECT alerts, template, vapid_public, secrets FROM push_apps WHERE app_id = ?`, appID).
		Scan(&alerts, &s.Template, &s.VAPIDPublic, &s.Secrets)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	s.AlertsOff = !alerts
	return s, nil
}

func (db *DB) PutAppSettings(ctx context.Context, s *push.StoredSettings) error {
	var secrets any
	if s.Secrets != nil {
		secrets = s.Secrets
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO push_apps (app_id, alerts, template, vapid_public, secrets) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET alerts = excluded.alerts, template = excluded.template,
		vapid_public = excluded.vapid_public, secrets = excluded.secrets`,
		s.AppID, !s.AlertsOff, s.Template, s.VAPIDPublic, secrets)
	return err
}

func (db *DB) ClaimDue(ctx context.Context, ch push.Channel, now time.Time, lease time.Duration, limit int) ([]push.Item, error) {
	var items []push.Item
	err := db.tx(ctx, func(tx *sql.Tx) error {
		items = items[:0]
		at := millis(now)
		rows, err := tx.QueryContext(ctx, `UPDATE push_outbox SET lease_until = ? WHERE id IN (
			SELECT id FROM push_outbox WHERE state = 0 AND channel = ? AND next_at <= ? AND lease_until <= ?
			ORDER BY next_at, id LIMIT ?) RETURNING id`, millis(now.Add(lease)), string(ch), at, at, limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT o.id, o.app_id, o.kind, o.tries, o.created_at,
			coalesce(o.alert_dialog, ''), coalesce(o.alert_message, ''), coalesce(o.alert_sender, 0), coalesce(o.alert_body, ''),
			coalesce(s.id, 0), coalesce(s.user_id, 0), coalesce(s.channel, ''), coalesce(s.platform, ''), coalesce(s.udid, ''),
			coalesce(s.environment, ''), coalesce(s.token, ''), coalesce(s.bundle, ''), coalesce(s.web_auth, ''),
			coalesce(s.web_p256dh, ''), coalesce(s.created_at, 0), coalesce(s.updated_at, 0),
			coalesce(e.id, 0), coalesce(e.user_id, 0), coalesce(e.push_type, ''), coalesce(e.environment, ''),
			coalesce(e.message, ''), coalesce(e.created_at, 0)
			FROM push_outbox o
			LEFT JOIN push_subscriptions s ON s.id = o.subscription_id
			LEFT JOIN push_events e ON e.id = o.event_id
			WHERE o.id IN (SELECT value FROM json_each(?)) ORDER BY o.next_at, o.id`, jsonList(ids))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it push.Item
			var kind int
			var created, sCreated, sUpdated, eCreated int64
			var sCh, pushType string
			if err := rows.Scan(&it.ID, &it.AppID, &kind, &it.Tries, &created,
				&it.Alert.DialogID, &it.Alert.MessageID, &it.Alert.SenderID, &it.Alert.Body,
				&it.Sub.ID, &it.Sub.UserID, &sCh, &it.Sub.Platform, &it.Sub.UDID, &it.Sub.Environment, &it.Sub.Token,
				&it.Sub.Bundle, &it.Sub.WebAuth, &it.Sub.WebP256dh, &sCreated, &sUpdated,
				&it.Event.ID, &it.Event.UserID, &pushType, &it.Event.Environment, &it.Event.Message, &eCreated); err != nil {
				return err
			}
			it.Kind, it.CreatedAt = push.Kind(kind), fromMillis(created)
			if it.Sub.ID != 0 {
				it.Sub.AppID, it.Sub.Channel = it.AppID, push.Channel(sCh)
				it.Sub.CreatedAt, it.Sub.UpdatedAt = fromMillis(sCreated), fromMillis(sUpdated)
			}
			if it.Event.ID != 0 {
				it.Event.AppID, it.Event.PushType, it.Event.CreatedAt = it.AppID, push.Channel(pushType), fromMillis(eCreated)
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func (db *DB) Finish(ctx context.Context, outcomes []push.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		upd, err := tx.PrepareContext(ctx, `UPDATE push_outbox SET state = ?, tries = ?, next_at = coalesce(?, next_at),
			done_at = ?, last_error = ?, lease_until = 0 WHERE id = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, o := range outcomes {
			var next, done, lastErr any
			if o.State == push.Queued {
				next = millis(o.NextAt)
			} else {
				done = millis(o.At)
			}
			if o.Err != "" {
				lastErr = o.Err
			}
			if _, err := upd.ExecContext(ctx, int(o.State), o.Tries, next, done, lastErr, o.ID); err != nil {
				return err
			}
			if o.DeleteSubscription != 0 {
				if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = ?`, o.DeleteSubscription); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// keptAlertList is the longest alert list (JSON) a message keeps once its
// alerts are queued: about 8 user ids.
const keptAlertList = 64

func (db *DB) ExpandAlerts(ctx context.Context, now time.Time, limit int) (int, int, error) {
	// The dispatcher asks every Poll: without a message past the mark,
	// answer from a reader and leave the writer alone.
	var mark, top int64
	if err := db.r.QueryRowContext(ctx, `SELECT (SELECT seq FROM push_alert_mark),
		coalesce((SELECT max(seq) FROM messages), 0)`).Scan(&mark, &top); err != nil {
		return 0, 0, err
	}
	if top <= mark {
		return 0, 0, nil
	}
	var msgs, queued int
	err := db.tx(ctx, func(tx *sql.Tx) error {
		msgs, queued = 0, 0
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM push_alert_mark`).Scan(&mark); err != nil {
			return err
		}
		// The range to expand ends at the limit-th alerting message past
		// the mark, or, with fewer, at the newest message: the mark then
		// moves past messages that alert no one too, so they are read once.
		var hi int64
		rows, err := tx.QueryContext(ctx, `SELECT seq FROM messages WHERE seq > ? AND alert_to IS NOT NULL
			ORDER BY seq LIMIT ?`, mark, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := rows.Scan(&hi); err != nil {
				rows.Close()
				return err
			}
			msgs++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if msgs < limit {
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), ?) FROM messages`, mark).Scan(&hi); err != nil {
				return err
			}
		}
		if hi <= mark {
			return nil
		}
		if msgs > 0 {
			// CROSS JOIN keeps the planner's order: the messages in the
			// range, then each one's users, then their subscriptions by
			// index (so the rows follow the messages without a sort).
			// Left free, it scanned every subscription per message: 1 ms
			// an alert, against 3 µs (BenchmarkExpandAlerts).
			res, err := tx.ExecContext(ctx, `INSERT INTO push_outbox (app_id, subscription_id, channel, kind,
				alert_dialog, alert_message, alert_sender, alert_body, next_at, created_at)
				SELECT s.app_id, s.id, s.channel, 1, m.dialog_id, m.id, m.sender_id, m.body, ?1, m.created_at / 1000
				FROM messages m CROSS JOIN json_each(m.alert_to) u
				CROSS JOIN push_subscriptions s ON s.app_id = m.app_id AND s.user_id = u.value
				WHERE m.seq > ?2 AND m.seq <= ?3 AND m.alert_to IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM push_apps p WHERE p.app_id = m.app_id AND p.alerts = 0)`, millis(now), mark, hi)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			queued = int(n)
			// A group message's list can name up to 999 users, kilobytes
			// its row would carry for good: drop the long ones, now
			// expanded. A 1-1 message's "[id]" stays (not rewriting the row
			// is cheaper than the bytes).
			if _, err := tx.ExecContext(ctx, `UPDATE messages SET alert_to = NULL
				WHERE seq > ? AND seq <= ? AND length(alert_to) > ?`, mark, hi, keptAlertList); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE push_alert_mark SET seq = ?`, hi)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return msgs, queued, nil
}

func (db *DB) PendingAlerts(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM messages
		WHERE seq > (SELECT seq FROM push_alert_mark) AND alert_to IS NOT NULL`).Scan(&n)
	return n, err
}

func (db *DB) OutboxStats(ctx context.Context, now time.Time) ([]push.ChannelStats, error) {
	at := millis(now)
	rows, err := db.r.QueryContext(ctx, `SELECT channel,
		coalesce(sum(state = 0), 0), coalesce(sum(state = 0 AND next_at <= ? AND lease_until <= ?), 0),
		coalesce(sum(state = 0 AND lease_until > ?), 0), coalesce(sum(state = 1), 0), coalesce(sum(state = 2), 0),
		coalesce(sum(tries > 1), 0), coalesce(min(CASE WHEN state = 0 THEN created_at END), 0)
		FROM push_outbox GROUP BY channel`, at, at, at)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[push.Channel]push.ChannelStats{}
	for rows.Next() {
		var cs push.ChannelStats
		var ch string
		var oldest int64
		if err := rows.Scan(&ch, &cs.Queued, &cs.Due, &cs.Leased, &cs.Sent, &cs.Dead, &cs.Retried, &oldest); err != nil {
			return nil, err
		}
		cs.Channel, cs.OldestQueued = push.Channel(ch), fromMillis(oldest)
		got[cs.Channel] = cs
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Every channel, in a fixed order, also those with no push yet.
	out := make([]push.ChannelStats, 0, len(push.Channels))
	for _, ch := range push.Channels {
		cs := got[ch]
		cs.Channel = ch
		out = append(out, cs)
	}
	return out, nil
}

func (db *DB) PurgeOutbox(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_outbox WHERE state <> 0 AND done_at < ?`, millis(before))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// An event is kept while a push of it is; then it is history
		// nothing reads.
		_, err = tx.ExecContext(ctx, `DELETE FROM push_events WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM push_outbox o WHERE o.event_id = push_events.id)`, millis(before))
		return err
	})
	return int(n), err
}

// QueueAlerts queues a chat alert (kind 1) of a message that is not
// stored for every subscription of each of users in a.AppID, in the chat
// write transaction of the commit that takes it (REALTIME.md §20.4); a
// stored message's alerts are expanded from its row (ExpandAlerts). A user who turned the dialog's
// notifications off gets none, nor does anyone when the app turned chat
// alerts off. One statement: a group message to many members costs one
// step, not one per recipient.
func (t chatTx) QueueAlerts(ctx context.Context, a chat.AlertRow, users []int64) (int, error) {
	if len(users) == 0 {
		return 0, nil
	}
	at := millis(a.At)
	res, err := t.q.ExecContext(ctx, `INSERT INTO push_outbox (app_id, subscription_id, channel, kind,
		alert_dialog, alert_message, alert_sender, alert_body, next_at, created_at)
		SELECT s.app_id, s.id, s.channel, 1, ?1, ?2, ?3, ?4, ?5, ?5
		FROM push_subscriptions s
		WHERE s.app_id = ?6 AND s.user_id IN (SELECT value FROM json_each(?7))
		AND NOT EXISTS (SELECT 1 FROM push_apps p WHERE p.app_id = ?6 AND p.alerts = 0)
		AND (?1 = '' OR NOT EXISTS (SELECT 1 FROM members m WHERE m.dialog_id = ?1 AND m.user_id = s.user_id AND m.notifications = 0))
		ORDER BY s.id`,
		a.DialogID, a.MessageID, a.SenderID, a.Body, at, a.AppID, jsonList(users))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
