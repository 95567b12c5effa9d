package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// chatFixture is an app with groups whose members are known.
type chatFixture struct {
	db      *sqlite.DB
	appID   int64
	users   []int64
	dialogs []string // dialogs[i] has members users[0..i%len(users)]
}

func newChatFixture(t *testing.T, nDialogs, nUsers int) *chatFixture {
	t.Helper()
	ctx := t.Context()
	db := open(t, t.TempDir())
	app := &auth.App{Name: "batch", AuthKey: "k", AuthSecret: "s", CreatedAt: base}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	f := &chatFixture{db: db, appID: app.ID}
	for i := range nUsers {
		u := &auth.User{AppID: app.ID, Login: fmt.Sprintf("user%d", i), PasswordHash: "h", CreatedAt: base, UpdatedAt: base}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		f.users = append(f.users, u.ID)
	}
	err := db.Tx(ctx, func(tx chat.Tx) error {
		for i := range nDialogs {
			d := &chat.Dialog{ID: fmt.Sprintf("d%023x", i), AppID: app.ID, Type: chat.Group, Name: "g", OwnerID: f.users[0],
				CreatedAt: base, UpdatedAt: base}
			if err := tx.InsertDialog(ctx, d); err != nil {
				return err
			}
			for _, u := range f.users[:1+i%nUsers] {
				if err := tx.PutMember(ctx, &chat.Member{DialogID: d.ID, UserID: u, IsMember: true, Notifications: true}); err != nil {
					return err
				}
			}
			f.dialogs = append(f.dialogs, d.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return f
}

// TestPostingHeads asks for more keys than one statement carries, with
// repeats, unknown dialogs and non-members among them.
func TestPostingHeads(t *testing.T) {
	f := newChatFixture(t, 90, 3)
	var keys []chat.MemberKey
	for i, d := range f.dialogs {
		for _, u := range f.users {
			keys = append(keys, chat.MemberKey{DialogID: d, UserID: u})
		}
		if i%7 == 0 {
			keys = append(keys, chat.MemberKey{DialogID: d, UserID: f.users[0]}) // a repeat
		}
	}
	keys = append(keys, chat.MemberKey{DialogID: "ffffffffffffffffffffffff", UserID: f.users[0]})
	var heads map[string]*chat.Dialog
	var members map[chat.MemberKey]bool
	err := f.db.Tx(t.Context(), func(tx chat.Tx) error {
		var err error
		heads, members, err = tx.PostingHeads(context.Background(), keys)
		return err
	})
	if err != nil {
		t.Fatalf("PostingHeads: %v", err)
	}
	if len(heads) != len(f.dialogs) {
		t.Errorf("%d heads, want %d", len(heads), len(f.dialogs))
	}
	for i, id := range f.dialogs {
		d := heads[id]
		if d == nil {
			t.Errorf("dialog %s missing", id)
			continue
		}
		if d.ID != id || d.AppID != f.appID || d.Type != chat.Group || d.OwnerID != f.users[0] {
			t.Errorf("head %+v", d)
		}
		for j, u := range f.users {
			if want := j <= i%len(f.users); members[chat.MemberKey{DialogID: id, UserID: u}] != want {
				t.Errorf("dialog %d, user %d: member %v, want %v", i, j, !want, want)
			}
		}
	}
	if heads["ffffffffffffffffffffffff"] != nil {
		t.Errorf("unknown dialog has a head")
	}
}

// TestMuted asks for more keys than one statement carries, with repeats,
// members who muted their dialog, members who did not, non-members and
// an unknown dialog.
func TestMuted(t *testing.T) {
	f := newChatFixture(t, 90, 3)
	ctx := t.Context()
	want := map[chat.MemberKey]bool{}
	err := f.db.Tx(ctx, func(tx chat.Tx) error {
		for i, d := range f.dialogs {
			if i%3 != 0 {
				continue
			}
			k := chat.MemberKey{DialogID: d, UserID: f.users[0]}
			want[k] = true
			if err := tx.PutMember(ctx, &chat.Member{DialogID: d, UserID: k.UserID, IsMember: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []chat.MemberKey
	for _, d := range f.dialogs {
		for _, u := range f.users {
			keys = append(keys, chat.MemberKey{DialogID: d, UserID: u}, chat.MemberKey{DialogID: d, UserID: u})
		}
	}
	keys = append(keys, chat.MemberKey{DialogID: "ffffffffffffffffffffffff", UserID: f.users[0]})
	var muted map[chat.MemberKey]bool
	if err := f.db.Tx(ctx, func(tx chat.Tx) error {
		var err error
		muted, err = tx.Muted(ctx, keys)
		return err
	}); err != nil {
		t.Fatalf("Muted: %v", err)
	}
	if fmt.Sprint(muted) != fmt.Sprint(want) || len(want) != 30 {
		t.Fatalf("muted %v\nwant %v", muted, want)
	}
}
