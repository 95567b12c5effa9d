package chat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// RemoveUser drops what was kept offline for the user, hands a public
// dialog it owned on to its admin, deletes a private dialog once both
// participants are gone, and leaves the others' counters exact.
func TestRemoveUserDropsOfflineCopiesAndHandsOnPublicDialogs(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	us := s.newUsers(t, 3)
	alice, bob, carol := us[0], us[1], us[2]
	name := "pub"
	pub, _, err := s.chat.CreateDialog(ctx, alice, chat.DialogInput{Type: chat.Public, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.chat.SetAdmins(ctx, alice, pub.ID, []int64{carol.UserID}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.chat.Subscribe(ctx, bob, pub.ID); err != nil {
		t.Fatal(err)
	}
	priv, _, err := s.chat.CreateDialog(ctx, alice, chat.DialogInput{Type: chat.Private, Occupants: []int64{bob.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.chat.CreateMessage(ctx, bob, chat.MessageInput{DialogID: priv.ID, Body: "for alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.PushOffline(ctx, s.appID, alice.UserID, []byte("<message/>"), time.Now(), 10); err != nil {
		t.Fatal(err)
	}

	if err := s.chat.RemoveUser(ctx, s.appID, alice.UserID); err != nil {
		t.Fatalf("RemoveUser: %v", err)
	}
	kept, err := s.db.PeekOffline(ctx, s.appID, alice.UserID, 0, 10)
	if err != nil || len(kept) != 0 {
		t.Errorf("offline copies of the removed user: %d, %v; want none", len(kept), err)
	}
	d, err := s.db.Dialog(ctx, s.appID, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.OwnerID != carol.UserID || len(d.Admins) != 0 || d.Subscribers != 1 {
		t.Errorf("public dialog after removing its owner: owner %d, admins %v, subscribers %d; want carol, none, 1 (bob)",
			d.OwnerID, d.Admins, d.Subscribers)
	}
	p, err := s.db.Dialog(ctx, s.appID, priv.ID)
	if err != nil || !slices.Equal(p.Occupants, []int64{bob.UserID}) {
		t.Fatalf("private dialog after removing alice: %+v, %v; want bob as the only occupant", p, err)
	}
	countersMatch(t, s, []chat.Caller{bob, carol}, []string{pub.ID, priv.ID})
	// Once bob is gone too, nobody can see the private dialog: it goes.
	if err := s.chat.RemoveUser(ctx, s.appID, bob.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Dialog(ctx, s.appID, priv.ID); err != chat.ErrNotFound {
		t.Errorf("private dialog without participants: %v; want it deleted", err)
	}
}
