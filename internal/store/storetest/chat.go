package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// ChatStore is a backend holding both auth's rows (apps and users, which
// chat's rows name) and chat's.
type ChatStore interface {
	auth.Store
	chat.Store
}

// RunChat runs the chat.Store conformance suite: the rules of message
// storage the domain builds on. open must return a fresh, empty store for
// each call and arrange its closing with t.Cleanup.
func RunChat(t *testing.T, open func(t *testing.T) ChatStore) {
	t.Helper()
	t.Run("InsertMessagesStopsAtATakenID", func(t *testing.T) { testInsertStops(t, newChatFixture(t, open(t))) })
	t.Run("MessageTiesBreakByArrival", func(t *testing.T) { testTiesByArrival(t, newChatFixture(t, open(t))) })
}

// chatFixture is an app with two users who are both members of two group
// dialogs.
type chatFixture struct {
	s       ChatStore
	appID   int64
	users   [2]int64
	dialogs [2]string
}

func newChatFixture(t *testing.T, s ChatStore) *chatFixture {
	t.Helper()
	ctx := t.Context()
	app := newApp(t, s, "chat")
	f := &chatFixture{s: s, appID: app.ID}
	for i := range f.users {
		u := &auth.User{AppID: app.ID, Login: fmt.Sprintf("member%d", i), PasswordHash: hash, CreatedAt: base, UpdatedAt: base}
		f.users[i] = newUser(t, s, u).ID
	}
	err := s.Tx(ctx, func(tx chat.Tx) error {
		for i := range f.dialogs {
			d := &chat.Dialog{ID: fmt.Sprintf("d%023x", i+1), AppID: app.ID, Type: chat.Group, Name: "group",
				OwnerID: f.users[0], CreatedAt: base, UpdatedAt: base}
			if err := tx.InsertDialog(ctx, d); err != nil {
				return err
			}
			for _, u := range f.users {
				if err := tx.PutMember(ctx, &chat.Member{DialogID: d.ID, UserID: u, IsMember: true, Notifications: true}); err != nil {
					return err
				}
			}
			f.dialogs[i] = d.ID
		}
		return nil
	})
	if err != nil {
		t.Fatalf("chat fixture: %v", err)
	}
	return f
}

// message is a message of the fixture's app, sent and created at base plus
// offset seconds.
func (f *chatFixture) message(id string, dialog, sender int, body string, offset int) *chat.Message {
	at := base.Add(time.Duration(offset) * time.Second)
	return &chat.Message{ID: id, AppID: f.appID, DialogID: f.dialogs[dialog], DialogType: chat.Group, SenderID: f.users[sender],
		Body: body, DateSent: at.Unix(), CreatedAt: at, UpdatedAt: at}
}

// insert runs InsertMessages in a transaction of its own.
func (f *chatFixture) insert(t *testing.T, msgs ...*chat.Message) (int, *chat.Message) {
	t.Helper()
	var n int
	var holder *chat.Message
	err := f.s.Tx(t.Context(), func(tx chat.Tx) error {
		var err error
		n, holder, err = tx.InsertMessages(t.Context(), msgs)
		return err
	})
	if err != nil {
		t.Fatalf("InsertMessages: %v", err)
	}
	return n, holder
}

// testInsertStops: InsertMessages stores a list in order up to the first
// message whose id is taken, by a stored message or by an earlier one of
// the list, and names the holder: which dialog and sender it belongs to
// is what tells the domain a retransmission from a clash (REALTIME.md
// §6.2), so the holder of another dialog and sender must be reported, not
// taken for the message.
func testInsertStops(t *testing.T, f *chatFixture) {
	first := f.message("aaaaaaaaaaaaaaaaaaaaaaa1", 0, 0, "first", 0)
	if n, holder := f.insert(t, first); n != 1 || holder != nil || first.Seq == 0 {
		t.Fatalf("first insert: n=%d holder=%v seq=%d", n, holder, first.Seq)
	}
	batch := []*chat.Message{
		f.message("aaaaaaaaaaaaaaaaaaaaaaa2", 1, 1, "second", 1),
		f.message("aaaaaaaaaaaaaaaaaaaaaaa1", 1, 1, "takes a stored id", 1), // another dialog and sender
		f.message("aaaaaaaaaaaaaaaaaaaaaaa3", 1, 1, "third", 1),
	}
	n, holder := f.insert(t, batch...)
	if n != 1 || batch[0].Seq <= first.Seq || batch[1].Seq != 0 || batch[2].Seq != 0 {
		t.Fatalf("n=%d, seqs %d %d %d after %d; want only the first stored", n, batch[0].Seq, batch[1].Seq, batch[2].Seq, first.Seq)
	}
	if holder == nil || holder.ID != first.ID || holder.DialogID != first.DialogID || holder.SenderID != first.SenderID ||
		holder.Body != "first" || holder.Seq != first.Seq || holder.AppID != f.appID {
		t.Fatalf("holder %+v; want the first message", holder)
	}
	// The rest goes on after the decided message; a clash within the list.
	rest := []*chat.Message{batch[2], f.message("aaaaaaaaaaaaaaaaaaaaaaa3", 0, 0, "same id as the one before", 2)}
	n, holder = f.insert(t, rest...)
	if n != 1 || rest[0].Seq <= batch[0].Seq || rest[1].Seq != 0 {
		t.Fatalf("n=%d, seqs %d %d", n, rest[0].Seq, rest[1].Seq)
	}
	if holder == nil || holder.ID != rest[0].ID || holder.Body != "third" || holder.DialogID != f.dialogs[1] || holder.SenderID != f.users[1] {
		t.Fatalf("holder %+v; want the third message", holder)
	}
	got, err := f.s.MessagesByID(t.Context(), f.appID, []string{first.ID, rest[0].ID})
	if err != nil {
		t.Fatalf("MessagesByID: %v", err)
	}
	bodies := map[string]string{}
	for _, m := range got {
		bodies[m.ID] = m.Body
	}
	if bodies[first.ID] != "first" || bodies[rest[0].ID] != "third" {
		t.Errorf("stored bodies %v; the holders must keep theirs", bodies)
	}
}

// testTiesByArrival: messages of the same second list in the order they
// arrived (seq), in both directions and for every sort field that can
// tie, never by their ids, which clients choose: two senders' messages of
// one second must not change places between reloads. The dialog's newest
// message is the later arrival too.
func testTiesByArrival(t *testing.T, f *chatFixture) {
	ctx := t.Context()
	// m1 and m2 share date_sent, created_at and updated_at; m2 arrives
	// later with the smaller id.
	m0 := f.message("cccccccccccccccccccccccc", 0, 0, "before", -1)
	m1 := f.message("ffffffffffffffffffffffff", 0, 0, "first of the second", 0)
	m2 := f.message("aaaaaaaaaaaaaaaaaaaaaaaa", 0, 1, "second of the second", 0)
	m3 := f.message("bbbbbbbbbbbbbbbbbbbbbbbb", 0, 1, "after", 1)
	for _, m := range []*chat.Message{m0, m1, m2} { // one transaction each: arrival
		if n, _ := f.insert(t, m); n != 1 {
			t.Fatalf("message %s not stored", m.Body)
		}
	}
	newest := func(want *chat.Message) {
		t.Helper()
		var got *chat.Message
		err := f.s.Tx(ctx, func(tx chat.Tx) error {
			var err error
			got, err = tx.Newest(ctx, f.dialogs[0])
			return err
		})
		if err != nil {
			t.Fatalf("Newest: %v", err)
		}
		if got.ID != want.ID {
			t.Errorf("Newest = %q; want %q", got.Body, want.Body)
		}
	}
	newest(m2)
	if n, _ := f.insert(t, m3); n != 1 {
		t.Fatalf("message %s not stored", m3.Body)
	}
	bodies := func(msgs []*chat.Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, m.Body)
		}
		return out
	}
	asc := bodies([]*chat.Message{m0, m1, m2, m3})
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, sort := range []string{"", "date_sent", "created_at", "updated_at"} {
		for _, dir := range []bool{false, true} {
			want, name := asc, "asc"
			if dir {
				want, name = desc, "desc"
			}
			got, err := f.s.Messages(ctx, f.dialogs[0], f.users[0], 0, chat.Query{Sort: sort, Desc: dir, Limit: 10})
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			if !slices.Equal(bodies(got), want) {
				t.Errorf("sort %q %s: %q; want %q", sort, name, bodies(got), want)
			}
			// A page boundary inside the tie keeps the order too.
			for skip := range want {
				page, err := f.s.Messages(ctx, f.dialogs[0], f.users[0], 0, chat.Query{Sort: sort, Desc: dir, Skip: skip, Limit: 1})
				if err != nil {
					t.Fatalf("Messages: %v", err)
				}
				if len(page) != 1 || page[0].Body != want[skip] {
					t.Errorf("sort %q %s, skip %d: %q; want %q", sort, name, skip, bodies(page), want[skip])
				}
			}
		}
	}
	// With the newest gone, the newest remaining is the later arrival.
	if err := f.s.Tx(ctx, func(tx chat.Tx) error { return tx.DeleteMessage(ctx, m3) }); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	newest(m2)
}
