package chat_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// otherNode is a second domain service over the same store: what another
// node of a cluster (or another process) changes behind the first one's
// pair cache.
func otherNode(t *testing.T, s *stack) *chat.Service {
	t.Helper()
	other := chat.NewService(s.db, s.auth, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	t.Cleanup(other.Close)
	return other
}

func direct(t *testing.T, s *chat.Service, from chat.Caller, to int64, dialogID string, save bool, body string) (*chat.Accepted, error) {
	t.Helper()
	return s.AcceptDirect(context.Background(), from, to, dialogID, save, chat.MessageInput{Body: body})
}

// TestDirectMessagesFollowPairChanges: the pair's dialog and the
// addressee's existence are cached, yet every change made through the
// service is seen by the next message, and changes made elsewhere are
// caught where a stale answer would matter.
func TestDirectMessagesFollowPairChanges(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 3)
	a, b := u[0], u[1]

	// No dialog yet: a routed-only message carries none, and the answer
	// ("no dialog") is now cached.
	acc, err := direct(t, s.chat, a, b.UserID, "", false, "hi")
	if err != nil || acc.Dialog != nil {
		t.Fatalf("first unsaved message: dialog %v, err %v; want no dialog", acc.Dialog, err)
	}
	// A saved message creates the dialog; the next unsaved one names it.
	acc, err = direct(t, s.chat, a, b.UserID, "", true, "saved")
	if err != nil || acc.Dialog == nil || acc.Message == nil {
		t.Fatalf("first saved message: %+v, %v", acc, err)
	}
	first := acc.Dialog.ID
	acc, err = direct(t, s.chat, b, a.UserID, "", false, "back")
	if err != nil || acc.Dialog == nil || acc.Dialog.ID != first {
		t.Fatalf("reply after creation: %+v, %v; want dialog %s", acc, err, first)
	}

	// Deleted for everyone through this service: forgotten at once.
	if _, err := s.chat.DeleteDialogs(ctx, a, []string{first}, true); err != nil {
		t.Fatalf("delete for everyone: %v", err)
	}
	acc, err = direct(t, s.chat, a, b.UserID, "", false, "after delete")
	if err != nil || acc.Dialog != nil {
		t.Fatalf("after delete: dialog %v, err %v; want none", acc.Dialog, err)
	}
	if _, err := direct(t, s.chat, a, b.UserID, first, true, "to the deleted dialog"); apperr.KindOf(err) != apperr.KindForbidden {
		t.Fatalf("message naming the deleted dialog: %v, want forbidden", err)
	}

	// Created on another node after this one cached "no dialog": a message
	// naming the new dialog is looked up again and accepted.
	other := otherNode(t, s)
	acc, err = direct(t, other, b, a.UserID, "", true, "from the other node")
	if err != nil || acc.Dialog == nil {
		t.Fatalf("other node's saved message: %+v, %v", acc, err)
	}
	second := acc.Dialog.ID
	acc, err = direct(t, s.chat, a, b.UserID, second, true, "naming it")
	if err != nil || acc.Message == nil || acc.Message.DialogID != second {
		t.Fatalf("message naming the other node's dialog: %+v, %v", acc, err)
	}

	// Deleted on the other node while this one caches it: the saved
	// message is not lost, it goes to the pair's new dialog.
	if _, err := other.DeleteDialogs(ctx, b, []string{second}, true); err != nil {
		t.Fatalf("other node's delete: %v", err)
	}
	acc, err = direct(t, s.chat, a, b.UserID, "", true, "after the other node's delete")
	if err != nil || acc.Message == nil || acc.Dialog == nil || acc.Dialog.ID == second {
		t.Fatalf("saved message after a delete elsewhere: %+v, %v; want a new dialog", acc, err)
	}
	third := acc.Dialog.ID
	got := history(t, s, third)
	if len(got) != 1 || got[0].Body != "after the other node's delete" {
		t.Fatalf("new dialog's history: %+v", got)
	}

	// A deleted addressee is refused as soon as the service is told.
	c := u[2]
	if _, err := direct(t, s.chat, a, c.UserID, "", false, "hello c"); err != nil {
		t.Fatalf("message to c: %v", err)
	}
	if err := s.auth.DeleteUser(ctx, &auth.Session{AppID: s.appID, UserID: c.UserID}, c.UserID); err != nil {
		t.Fatalf("delete c: %v", err)
	}
	s.chat.ForgetUser(s.appID, c.UserID)
	for _, save := range []bool{false, true} {
		if _, err := direct(t, s.chat, a, c.UserID, "", save, "to a deleted user"); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("message to a deleted user (save %v): %v, want not found", save, err)
		}
	}
	// Nobody of another app, and not oneself.
	if _, err := direct(t, s.chat, a, a.UserID, "", false, "me"); apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("message to oneself: %v", err)
	}
}
