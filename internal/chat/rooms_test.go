package chat_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
)

// Who may join a dialog's room (REALTIME.md §15.1): the members of group
// and private dialogs, anyone of the app for public and broadcast ones;
// unknown dialogs and other apps' are not found; a user the owner removed
// may no longer join.
func TestCanJoin(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	us := s.newUsers(t, 3)
	alice, bob, carol := us[0], us[1], us[2]
	name, yes := "g", true
	create := func(in chat.DialogInput) string {
		t.Helper()
		in.Name = &name
		v, _, err := s.chat.CreateDialog(ctx, alice, in)
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	group := create(chat.DialogInput{Type: chat.Group, Occupants: []int64{bob.UserID}})
	preview := create(chat.DialogInput{Type: chat.Group, Occupants: []int64{bob.UserID}, AllowPreview: &yes})
	private := create(chat.DialogInput{Type: chat.Private, Occupants: []int64{bob.UserID}})
	public := create(chat.DialogInput{Type: chat.Public})
	bc, err := s.chat.CreateBroadcast(ctx, s.appID, alice.UserID, "news", nil)
	if err != nil {
		t.Fatal(err)
	}
	other := chat.Caller{AppID: s.appID + 1, UserID: bob.UserID}
	for _, tc := range []struct {
		name   string
		c      chat.Caller
		id     string
		want   apperr.Kind // KindInternal: allowed
		member bool
	}{
		{"group owner", alice, group, apperr.KindInternal, true},
		{"group member", bob, group, apperr.KindInternal, true},
		{"group non-member", carol, group, apperr.KindForbidden, false},
		{"preview group non-member", carol, preview, apperr.KindForbidden, false},
		{"private participant", bob, private, apperr.KindInternal, true},
		{"private outsider", carol, private, apperr.KindForbidden, false},
		{"public non-subscriber", carol, public, apperr.KindInternal, false},
		{"broadcast anyone", carol, bc.ID, apperr.KindInternal, false},
		{"unknown dialog", bob, "65a1f0c2e4b0a1b2c3d4e5f6", apperr.KindNotFound, false},
		{"malformed id", bob, "x", apperr.KindNotFound, false},
		{"another app", other, group, apperr.KindNotFound, false},
	} {
		r, err := s.chat.CanJoin(ctx, tc.c, tc.id)
		if tc.want == apperr.KindInternal {
			if err != nil || r.Dialog.ID != tc.id || r.Member != tc.member {
				t.Errorf("%s: %+v, %v; want allowed, member %v", tc.name, r, err, tc.member)
			}
			continue
		}
		if err == nil || apperr.KindOf(err) != tc.want {
			t.Errorf("%s: %+v, %v; want kind %v", tc.name, r, err, tc.want)
		}
	}
	if _, err := s.chat.UpdateDialog(ctx, alice, group, chat.DialogUpdate{PullOccupants: []int64{bob.UserID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.chat.CanJoin(ctx, bob, group); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("a removed occupant's join: %v; want forbidden", err)
	}
}
