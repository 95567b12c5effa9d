package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

type pushFixture struct {
	db    *sqlite.DB
	dir   string
	app   int64
	other int64 // a second app
}

func newPushFixture(t *testing.T) *pushFixture {
	t.Helper()
	dir := t.TempDir()
	f := &pushFixture{db: open(t, dir), dir: dir}
	for i, id := range []*int64{&f.app, &f.other} {
		a := &auth.App{Name: fmt.Sprintf("app%d", i), AuthKey: fmt.Sprintf("key%d", i), AuthSecret: "s", CreatedAt: base}
		if err := f.db.CreateApp(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		*id = a.ID
	}
	return f
}

func (f *pushFixture) user(t *testing.T, app int64, login string, ext int64, tags ...string) int64 {
	t.Helper()
	u := &auth.User{AppID: app, Login: login, ExternalUserID: ext, Tags: tags, PasswordHash: "x", CreatedAt: base, UpdatedAt: base}
	if err := f.db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (f *pushFixture) sub(t *testing.T, app, user int64, ch push.Channel, udid, env string) *push.Subscription {
	t.Helper()
	s := &push.Subscription{AppID: app, UserID: user, Channel: ch, Platform: "android", UDID: udid, Environment: env,
		Token: "tok-" + udid, UpdatedAt: base}
	if err := f.db.PutSubscription(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *pushFixture) outboxCount(t *testing.T, where string) int {
	t.Helper()
	var n int
	if err := raw(t, f.dir).QueryRowContext(t.Context(), `SELECT count(*) FROM push_outbox WHERE `+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPushSubscriptionUpsert(t *testing.T) {
	f := newPushFixture(t)
	ctx := t.Context()
	u := f.user(t, f.app, "u", 0)
	s1 := f.sub(t, f.app, u, push.GCM, "dev1", push.Development)
	again := &push.Subscription{AppID: f.app, UserID: u, Channel: push.GCM, Platform: "android", UDID: "dev1",
		Environment: push.Production, Token: "new", UpdatedAt: base.Add(time.Hour)}
	if err := f.db.PutSubscription(ctx, again); err != nil {
		t.Fatal(err)
	}
	if again.ID != s1.ID || !again.CreatedAt.Equal(base) || !again.UpdatedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("second put: id %d (want %d), created %v, updated %v", again.ID, s1.ID, again.CreatedAt, again.UpdatedAt)
	}
	f.sub(t, f.app, u, push.Web, "dev1", push.Development) // another channel: another row
	subs, err := f.db.Subscriptions(ctx, f.app, u)
	if err != nil || len(subs) != 2 || subs[0].Token != "new" || subs[0].Environment != push.Production || subs[1].Channel != push.Web {
		t.Fatalf("Subscriptions = %+v, %v", subs, err)
	}
	if _, err := f.db.Subscription(ctx, f.other, s1.ID); !errors.Is(err, push.ErrNotFound) {
		t.Fatalf("another app's Subscription: %v, want ErrNotFound", err)
	}
	if err := f.db.DeleteSubscription(ctx, f.other, s1.ID); !errors.Is(err, push.ErrNotFound) {
		t.Fatalf("another app's delete: %v", err)
	}
	if err := f.db.DeleteSubscription(ctx, f.app, s1.ID); err != nil {
		t.Fatal(err)
	}
	if subs, _ := f.db.Subscriptions(ctx, f.app, u); len(subs) != 1 {
		t.Fatalf("after delete: %+v", subs)
	}
}

func TestPushCreateEventSelects(t *testing.T) {
	f := newPushFixture(t)
	ctx := t.Context()
	a := f.user(t, f.app, "a", 0, "red", "blue")
	b := f.user(t, f.app, "b", 77, "Red")
	c := f.user(t, f.app, "c", 0, "reddish", "blue")
	d := f.user(t, f.app, "d", 0, "blue", "vip")
	x := f.user(t, f.other, "x", 77, "red") // another app, same external id and tag
	for _, u := range []int64{a, b, c, d} {
		f.sub(t, f.app, u, push.GCM, "g", push.Development)
		f.sub(t, f.app, u, push.APNs, "i", push.Development)
		f.sub(t, f.app, u, push.Web, "w", push.Production)
	}
	f.sub(t, f.other, x, push.GCM, "g", push.Development)

	cases := []struct {
		name string
		sel  push.Selector
		want []int64
	}{
		{"ids", push.Selector{IDs: []int64{a, x, 999999}}, []int64{a}},
		{"external", push.Selector{ExternalIDs: []int64{77}}, []int64{b}},
		{"any whole case-sensitive", push.Selector{TagsAny: []string{"red"}}, []int64{a}},
		{"all", push.Selector{TagsAll: []string{"blue", "vip"}}, []int64{d}},
		{"union less exclude", push.Selector{IDs: []int64{b}, TagsAny: []string{"blue"}, TagsExclude: []string{"vip"}}, []int64{a, b, c}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := f.db.EventRecipients(ctx, f.app, tc.sel, 100)
			if err != nil || n != len(tc.want) {
				t.Fatalf("EventRecipients = %d, %v; want %d", n, err, len(tc.want))
			}
			e := &push.Event{AppID: f.app, UserID: a, Environment: push.Development, Message: "e30=", CreatedAt: base}
			queued, err := f.db.CreateEvent(ctx, e, tc.sel, []push.Channel{push.GCM, push.Web})
			if err != nil || e.ID == 0 {
				t.Fatalf("CreateEvent: %v (id %d)", err, e.ID)
			}
			// development only, gcm only (apns not listed, web is production)
			if queued != len(tc.want) {
				t.Fatalf("queued %d, want %d", queued, len(tc.want))
			}
			rows, err := raw(t, f.dir).QueryContext(ctx, `SELECT s.user_id, o.channel, o.kind, o.next_at FROM push_outbox o
				JOIN push_subscriptions s ON s.id = o.subscription_id WHERE o.event_id = ? ORDER BY s.user_id`, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []int64
			for rows.Next() {
				var u, kind, next int64
				var ch string
				if err := rows.Scan(&u, &ch, &kind, &next); err != nil {
					t.Fatal(err)
				}
				if ch != "gcm" || kind != 2 || next != base.UnixMilli() {
					t.Errorf("row of user %d: channel %s kind %d next_at %d", u, ch, kind, next)
				}
				got = append(got, u)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("recipients %v, want %v", got, tc.want)
			}
		})
	}
	if n, _ := f.db.EventRecipients(ctx, f.app, push.Selector{TagsAny: []string{"blue"}}, 1); n != 2 {
		t.Fatalf("EventRecipients stops at limit+1: got %d", n)
	}
}

func TestPushClaimFinishStats(t *testing.T) {
	f := newPushFixture(t)
	ctx := t.Context()
	u := f.user(t, f.app, "u", 0)
	s1 := f.sub(t, f.app, u, push.GCM, "1", push.Development)
	s2 := f.sub(t, f.app, u, push.GCM, "2", push.Development)
	e := &push.Event{AppID: f.app, UserID: u, Environment: push.Development, Message: "e30=", CreatedAt: base}
	if n, err := f.db.CreateEvent(ctx, e, push.Selector{IDs: []int64{u}}, []push.Channel{push.GCM}); err != nil || n != 2 {
		t.Fatalf("CreateEvent: %d, %v", n, err)
	}
	if items, err := f.db.ClaimDue(ctx, push.GCM, base.Add(-time.Second), time.Minute, 10); err != nil || len(items) != 0 {
		t.Fatalf("claim before due: %v, %v", items, err)
	}
	now := base.Add(time.Second)
	items, err := f.db.ClaimDue(ctx, push.GCM, now, time.Minute, 1)
	if err != nil || len(items) != 1 {
		t.Fatalf("ClaimDue(1) = %v, %v", items, err)
	}
	it := items[0]
	if it.Kind != push.KindEvent || it.Sub.ID != s1.ID || it.Sub.Token != "tok-1" || it.Event.ID != e.ID ||
		it.Event.Message != "e30=" || it.Event.AppID != f.app || !it.CreatedAt.Equal(base) {
		t.Fatalf("item = %+v", it)
	}
	// The leased one is not claimed again; the other is.
	items2, err := f.db.ClaimDue(ctx, push.GCM, now, time.Minute, 10)
	if err != nil || len(items2) != 1 || items2[0].Sub.ID != s2.ID {
		t.Fatalf("second claim = %+v, %v", items2, err)
	}
	st, err := f.db.OutboxStats(ctx, now)
	if err != nil || len(st) != len(push.Channels) {
		t.Fatalf("stats %v %v", st, err)
	}
	var gcm push.ChannelStats
	for _, cs := range st {
		if cs.Channel == push.GCM {
			gcm = cs
		}
	}
	if gcm.Queued != 2 || gcm.Leased != 2 || gcm.Due != 0 || !gcm.OldestQueued.Equal(base) {
		t.Fatalf("gcm stats while leased: %+v", gcm)
	}
	// One sent; the other's subscription is gone (deleted with its outcome);
	// it is retried once, then dead.
	err = f.db.Finish(ctx, []push.Outcome{
		{ID: it.ID, State: push.Sent, Tries: 1, At: now},
		{ID: items2[0].ID, State: push.Queued, Tries: 1, NextAt: now.Add(time.Minute), Err: "503"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := f.db.ClaimDue(ctx, push.GCM, now.Add(30*time.Second), time.Minute, 10); len(items) != 0 {
		t.Fatalf("retry claimed before next_at: %+v", items)
	}
	items3, err := f.db.ClaimDue(ctx, push.GCM, now.Add(time.Minute), time.Minute, 10)
	if err != nil || len(items3) != 1 || items3[0].Tries != 1 {
		t.Fatalf("retry claim: %+v %v", items3, err)
	}
	if err := f.db.Finish(ctx, []push.Outcome{{ID: items3[0].ID, State: push.Dead, Tries: 2, At: now.Add(time.Minute), Err: "gone",
		DeleteSubscription: s2.ID, AppID: f.app}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Subscription(ctx, f.app, s2.ID); !errors.Is(err, push.ErrNotFound) {
		t.Fatalf("subscription not deleted: %v", err)
	}
	st, _ = f.db.OutboxStats(ctx, now.Add(time.Hour))
	for _, cs := range st {
		if cs.Channel == push.GCM && (cs.Queued != 0 || cs.Sent != 1 || cs.Dead != 1 || cs.Retried != 1 || !cs.OldestQueued.IsZero()) {
			t.Fatalf("final gcm stats %+v", cs)
		}
	}
	// A queued push whose subscription is gone is claimed with Sub.ID 0.
	s3 := f.sub(t, f.app, u, push.GCM, "3", push.Development)
	e2 := &push.Event{AppID: f.app, UserID: u, Environment: push.Development, Message: "e30=", CreatedAt: now}
	if _, err := f.db.CreateEvent(ctx, e2, push.Selector{IDs: []int64{u}}, []push.Channel{push.GCM}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeleteSubscription(ctx, f.app, s3.ID); err != nil {
		t.Fatal(err)
	}
	items4, _ := f.db.ClaimDue(ctx, push.GCM, now.Add(time.Hour), time.Minute, 10)
	if len(items4) != 2 { // s1's and s3's
		t.Fatalf("claim after delete: %+v", items4)
	}
	gone := 0
	for _, it := range items4 {
		if it.Sub.ID == 0 {
			gone++
		}
	}
	if gone != 1 {
		t.Fatalf("want one item without subscription: %+v", items4)
	}
	// Purge drops finished rows done before the cut, never queued ones.
	n, err := f.db.PurgeOutbox(ctx, now.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PurgeOutbox = %d, %v", n, err)
	}
	if q := f.outboxCount(t, "state = 0"); q != 2 {
		t.Fatalf("queued after purge: %d", q)
	}
}

func TestPushAppSettings(t *testing.T) {
	f := newPushFixture(t)
	ctx := t.Context()
	s, err := f.db.AppSettings(ctx, f.app)
	if err != nil || s.AlertsOff || s.Template != "" || s.Secrets != nil {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	want := &push.StoredSettings{AppID: f.app, AlertsOff: true, Template: "{body}", VAPIDPublic: "BPUB", Secrets: []byte{1, 2, 3}}
	if err := f.db.PutAppSettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.AppSettings(ctx, f.app)
	if err != nil || fmt.Sprint(*got) != fmt.Sprint(*want) {
		t.Fatalf("got %+v, want %+v (%v)", got, want, err)
	}
}

type alertQueuer interface {
	QueueAlerts(ctx context.Context, a chat.AlertRow, users []int64) (int, error)
}

func TestPushQueueAlerts(t *testing.T) {
	f := newPushFixture(t)
	ctx := t.Context()
	a := f.user(t, f.app, "a", 0)
	b := f.user(t, f.app, "b", 0)
	c := f.user(t, f.app, "c", 0)
	f.sub(t, f.app, a, push.GCM, "1", push.Development)
	f.sub(t, f.app, a, push.Web, "1", push.Development)
	f.sub(t, f.app, b, push.APNs, "1", push.Development)
	f.sub(t, f.app, c, push.GCM, "1", push.Development)
	dialog := "65f0a0a0a0a0a0a0a0a0a0a0"
	w := raw(t, f.dir)
	if _, err := w.ExecContext(ctx, `INSERT INTO dialogs (id, app_id, type, owner_id, created_at, updated_at) VALUES (?, ?, 2, ?, 0, 0)`,
		dialog, f.app, a); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO members (dialog_id, user_id, member, notifications) VALUES (?, ?, 1, 1), (?, ?, 1, 0)`,
		dialog, a, dialog, b); err != nil {
		t.Fatal(err)
	}
	queue := func(row chat.AlertRow, users []int64) int {
		t.Helper()
		var n int
		err := f.db.Tx(ctx, func(tx chat.Tx) error {
			q, ok := tx.(alertQueuer)
			if !ok {
				t.Fatalf("%T has no QueueAlerts", tx)
			}
			var err error
			n, err = q.QueueAlerts(ctx, row, users)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	row := chat.AlertRow{AppID: f.app, DialogID: dialog, MessageID: "m1", SenderID: c, Body: "hi", At: base}
	// b muted the dialog; c has no member row (not muted).
	if n := queue(row, []int64{a, b, c}); n != 3 {
		t.Fatalf("queued %d, want 3 (a's two, c's one)", n)
	}
	if n := f.outboxCount(t, fmt.Sprintf("kind = 1 AND alert_message = 'm1' AND alert_sender = %d AND alert_body = 'hi' AND next_at = %d", c, base.UnixMilli())); n != 3 {
		t.Fatalf("stored alert rows: %d", n)
	}
	// No dialog: no mute check.
	if n := queue(chat.AlertRow{AppID: f.app, MessageID: "m2", SenderID: a, At: base}, []int64{b}); n != 1 {
		t.Fatalf("1-1 alert queued %d", n)
	}
	// The other app's users are not this app's.
	if n := queue(chat.AlertRow{AppID: f.other, MessageID: "m3", At: base}, []int64{a}); n != 0 {
		t.Fatalf("other app queued %d", n)
	}
	// Alerts off for the app: nothing.
	if err := f.db.PutAppSettings(ctx, &push.StoredSettings{AppID: f.app, AlertsOff: true}); err != nil {
		t.Fatal(err)
	}
	if n := queue(chat.AlertRow{AppID: f.app, MessageID: "m4", At: base}, []int64{a, c}); n != 0 {
		t.Fatalf("alerts off queued %d", n)
	}
	items, err := f.db.ClaimDue(ctx, push.GCM, base, time.Minute, 10)
	if err != nil || len(items) != 2 || items[0].Kind != push.KindAlert || items[0].Alert.DialogID != dialog ||
		items[0].Alert.Body != "hi" || items[0].Alert.SenderID != c {
		t.Fatalf("claimed alerts: %+v, %v", items, err)
	}
}

// A stored message's chat alerts (migration 0013) are queued once, by
// ExpandAlerts, from the message as it is then: one push per subscription
// of each user it names in its app (mutes were applied when it was
// stored), none when the app has alerts off; a message deleted before
// then alerts nobody. The mark survives a reopen.
func TestPushExpandAlerts(t *testing.T) {
	f := newPushFixture(t)
	ctx := t.Context()
	a := f.user(t, f.app, "a", 0)
	b := f.user(t, f.app, "b", 0)
	c := f.user(t, f.app, "c", 0)
	d := f.user(t, f.other, "d", 0)
	f.sub(t, f.app, a, push.GCM, "1", push.Development)
	f.sub(t, f.app, a, push.Web, "1", push.Development)
	f.sub(t, f.app, b, push.APNs, "1", push.Development)
	f.sub(t, f.app, c, push.GCM, "1", push.Development)
	f.sub(t, f.other, d, push.GCM, "1", push.Development)
	dialog, otherDialog := "65f0a0a0a0a0a0a0a0a0a0a0", "65f0a0a0a0a0a0a0a0a0a0a1"
	w := raw(t, f.dir)
	if _, err := w.ExecContext(ctx, `INSERT INTO dialogs (id, app_id, type, owner_id, created_at, updated_at)
		VALUES (?, ?, 2, ?, 0, 0), (?, ?, 2, ?, 0, 0)`, dialog, f.app, a, otherDialog, f.other, d); err != nil {
		t.Fatal(err)
	}
	seq := 0
	store := func(app int64, dlg, body string, alert ...int64) string {
		t.Helper()
		seq++
		m := &chat.Message{ID: fmt.Sprintf("65f0b0b0b0b0b0b0b0b0b%03d", seq), AppID: app, DialogID: dlg, SenderID: c, Body: body,
			DateSent: base.Unix(), CreatedAt: base.Add(time.Duration(seq) * time.Second), UpdatedAt: base, Alert: alert}
		if err := f.db.Tx(ctx, func(tx chat.Tx) error {
			_, _, err := tx.InsertMessages(ctx, []*chat.Message{m})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	expand := func(limit, wantMsgs, wantQueued int) {
		t.Helper()
		msgs, queued, err := f.db.ExpandAlerts(ctx, base.Add(time.Hour), limit)
		if err != nil || msgs != wantMsgs || queued != wantQueued {
			t.Fatalf("ExpandAlerts(%d) = %d messages, %d pushes, %v; want %d, %d", limit, msgs, queued, err, wantMsgs, wantQueued)
		}
	}
	pending := func(want int) {
		t.Helper()
		if n, err := f.db.PendingAlerts(ctx); err != nil || n != want {
			t.Fatalf("PendingAlerts = %d, %v; want %d", n, err, want)
		}
	}
	expand(10, 0, 0) // nothing stored
	m1 := store(f.app, dialog, "hi", a, b)
	store(f.app, dialog, "nobody away")
	m3 := store(f.app, dialog, "", c)
	store(f.other, otherDialog, "other app", a) // a is not a user of the other app
	pending(3)
	expand(1, 1, 3) // m1: a's two subscriptions, b's one
	pending(2)
	expand(10, 2, 1) // m3: c's one; the other app's message: none
	pending(0)
	expand(10, 0, 0) // each once

	// Queued from the message as it is then: edited, or deleted.
	m5 := store(f.app, dialog, "first", c)
	if err := f.db.Tx(ctx, func(tx chat.Tx) error { return tx.UpdateMessageBody(ctx, m5, "edited", base) }); err != nil {
		t.Fatal(err)
	}
	m6 := store(f.app, dialog, "deleted", c)
	if _, err := w.ExecContext(ctx, `DELETE FROM messages WHERE id = ?`, m6); err != nil {
		t.Fatal(err)
	}
	pending(1)
	expand(10, 1, 1)

	// Alerts off for the app: the message is taken, nothing queued.
	if err := f.db.PutAppSettings(ctx, &push.StoredSettings{AppID: f.app, AlertsOff: true}); err != nil {
		t.Fatal(err)
	}
	store(f.app, dialog, "off", a)
	expand(10, 1, 0)
	if err := f.db.PutAppSettings(ctx, &push.StoredSettings{AppID: f.app}); err != nil {
		t.Fatal(err)
	}

	// The mark is stored: after a reopen nothing is queued again.
	f.db.Close()
	f.db = open(t, f.dir)
	expand(10, 0, 0)

	items, err := f.db.ClaimDue(ctx, push.GCM, base.Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		if it.Kind != push.KindAlert || it.Alert.DialogID != dialog || it.Alert.SenderID != c || it.AppID != f.app {
			t.Errorf("claimed %+v", it)
		}
		got = append(got, fmt.Sprintf("%s %s %d %d", it.Alert.MessageID, it.Alert.Body, it.Sub.UserID, it.CreatedAt.Unix()))
	}
	want := []string{
		fmt.Sprintf("%s hi %d %d", m1, a, base.Unix()+1),
		fmt.Sprintf("%s  %d %d", m3, c, base.Unix()+3),
		fmt.Sprintf("%s edited %d %d", m5, c, base.Unix()+5),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claimed gcm alerts:\n%q\nwant\n%q", got, want)
	}
	if n := f.outboxCount(t, "kind = 1"); n != 5 { // and a's web push and b's apns push of m1
		t.Fatalf("%d alert rows, want 5", n)
	}

	// Once expanded, a long list (a big group's) is dropped from its
	// message; a short one stays.
	long := []int64{a}
	for i := range 20 {
		long = append(long, 100000+int64(i))
	}
	m7 := store(f.app, dialog, "to many", long...)
	expand(10, 1, 2)
	var kept, dropped sql.NullString
	if err := w.QueryRowContext(ctx, `SELECT alert_to FROM messages WHERE id = ?`, m1).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRowContext(ctx, `SELECT alert_to FROM messages WHERE id = ?`, m7).Scan(&dropped); err != nil {
		t.Fatal(err)
	}
	if kept.String != fmt.Sprintf("[%d,%d]", a, b) || dropped.Valid {
		t.Fatalf("alert lists after expansion: m1 %v, m7 %v", kept, dropped)
	}
}
