package chat_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// claimFirst makes the service's next server id the claimed one, then
// real ones: what a user who guessed the next id and posted it first
// would cause.
func claimFirst(s *stack, claimed string) {
	n := 0
	s.chat.SetMessageIDs(func(now time.Time) string {
		if n++; n == 1 {
			return claimed
		}
		return chat.NewMessageID(now)
	})
}

// TestClaimedIDsNeverLoseMessages: a user of another app holds an id (as
// a client may choose its ids). A message of this app that would get the
// same id, made by the server (REST or live) or chosen by its client (a
// clash with another dialog's or sender's message), is stored under a
// fresh id, counted and reported with that id; it is never taken for a
// retransmission, acknowledged and dropped. The same id again from the
// same sender in the same dialog still is one (REALTIME.md §6.2).
func TestClaimedIDsNeverLoseMessages(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 2)
	alice, bob := u[0], u[1]
	other, err := s.auth.CreateApp(ctx, "other", nil)
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	var strangers []chat.Caller
	for i := range 2 {
		login, pw := fmt.Sprintf("stranger%d", i), "password-stranger"
		v, err := s.auth.SignUp(ctx, other.ID, auth.UserInput{Login: &login, Password: &pw})
		if err != nil {
			t.Fatalf("sign up: %v", err)
		}
		strangers = append(strangers, chat.Caller{AppID: other.ID, UserID: v.ID})
	}
	name := "g"
	theirs, _, err := s.chat.CreateDialog(ctx, strangers[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{strangers[1].UserID}})
	if err != nil {
		t.Fatalf("create their group: %v", err)
	}
	ours, _, err := s.chat.CreateDialog(ctx, alice, chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{bob.UserID}})
	if err != nil {
		t.Fatalf("create our group: %v", err)
	}
	// The stranger claims ids, saved messages with ids of its choice.
	claimed := make([]string, 5)
	for i := range claimed {
		claimed[i] = fmt.Sprintf("%08x%016x", time.Now().Unix(), 0xc1a1_0000+i)
		acc, err := s.chat.AcceptDialog(ctx, strangers[0], theirs.ID, true, chat.MessageInput{Body: "mine", ID: claimed[i]})
		if err != nil || acc.Message == nil || acc.ID != claimed[i] {
			t.Fatalf("claim %s: %+v, %v", claimed[i], acc, err)
		}
	}
	var ids []string
	stored := func(how, id string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		for _, c := range claimed {
			if id == c {
				t.Fatalf("%s: stored under the claimed id %s", how, id)
			}
		}
		if !chat.ValidID(id) {
			t.Fatalf("%s: id %q", how, id)
		}
		ids = append(ids, id)
	}
	// A server-made id (REST, then live) that is taken is made again.
	claimFirst(s, claimed[0])
	m, err := s.chat.CreateMessage(ctx, alice, chat.MessageInput{DialogID: ours.ID, Body: "rest"})
	if err != nil {
		t.Fatalf("REST post: %v", err)
	}
	stored("REST post", m.ID, nil)
	claimFirst(s, claimed[1])
	acc, err := s.chat.AcceptDialog(ctx, alice, ours.ID, true, chat.MessageInput{Body: "live, no id"})
	stored("live post without an id", acc.ID, err)
	// A client's id that another tenant's message holds is replaced.
	acc, err = s.chat.AcceptDialog(ctx, alice, ours.ID, true, chat.MessageInput{Body: "live, their id", ID: claimed[2]})
	stored("group post with a taken id", acc.ID, err)
	acc, err = s.chat.AcceptDirect(ctx, alice, bob.UserID, "", true, chat.MessageInput{Body: "1-1, their id", ID: claimed[3]})
	stored("1-1 post with a taken id", acc.ID, err)
	if acc.Message == nil || acc.Message.ID != acc.ID {
		t.Errorf("1-1 post: delivered as %s, stored as %+v", acc.ID, acc.Message)
	}
	private := acc.Dialog.ID

	// Everything is stored and counted under the ids it was reported with.
	hist := history(t, s, ours.ID)
	if len(hist) != 3 || hist[0].ID != ids[0] || hist[1].ID != ids[1] || hist[2].ID != ids[2] {
		t.Fatalf("our group's history %v; want the ids %v", hist, ids[:3])
	}
	if h := history(t, s, private); len(h) != 1 || h[0].ID != ids[3] || h[0].Body != "1-1, their id" {
		t.Fatalf("private history %v", h)
	}
	counts, _, err := s.chat.UnreadCount(ctx, bob, []string{ours.ID, private})
	if err != nil {
		t.Fatalf("unread: %v", err)
	}
	if counts[ours.ID] != 3 || counts[private] != 1 {
		t.Fatalf("bob's unread %v; want 3 and 1", counts)
	}
	for _, h := range history(t, s, theirs.ID) {
		if h.Body != "mine" || h.SenderID != strangers[0].UserID {
			t.Errorf("their message changed: %+v", h)
		}
	}

	// A retransmission (same id, sender and dialog) is delivered again
	// under its id, and stored and counted once; the same id from another
	// sender of the dialog is a new message.
	acc, err = s.chat.AcceptDialog(ctx, alice, ours.ID, true, chat.MessageInput{Body: "live, their id", ID: ids[2]})
	if err != nil || acc.ID != ids[2] || acc.Message == nil || acc.Message.ID != ids[2] {
		t.Fatalf("retransmission: %+v, %v", acc, err)
	}
	acc, err = s.chat.AcceptDialog(ctx, bob, ours.ID, true, chat.MessageInput{Body: "bob's", ID: ids[2]})
	stored("another sender's post with a stored id", acc.ID, err)
	if acc.ID == ids[2] {
		t.Fatalf("bob's message took alice's id")
	}
	if h := history(t, s, ours.ID); len(h) != 4 || h[3].Body != "bob's" {
		t.Fatalf("history after a retransmission %v", h)
	}
	counts, _, err = s.chat.UnreadCount(ctx, bob, []string{ours.ID})
	if err != nil || counts[ours.ID] != 3 {
		t.Fatalf("bob's unread after a retransmission %v, %v; want 3", counts, err)
	}
}

// TestSameSecondListsByArrival: two senders' messages of one second are
// listed in the order they arrived, not by their ids, which the clients
// chose (the later one has the smaller id here): in both directions, and
// the dialog's last message is the later arrival.
func TestSameSecondListsByArrival(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 3)
	name := "g"
	g, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{u[1].UserID, u[2].UserID}})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	sent := time.Now().Unix()
	prefix := fmt.Sprintf("%08x", sent)
	for _, m := range []struct {
		by   chat.Caller
		id   string
		body string
	}{
		{u[0], prefix + "ffffffffffffff01", "first"},
		{u[1], prefix + "0000000000000a02", "second"},
	} {
		if _, err := s.chat.AcceptDialog(ctx, m.by, g.ID, true, chat.MessageInput{Body: m.body, ID: m.id, DateSent: sent}); err != nil {
			t.Fatalf("post %s: %v", m.body, err)
		}
	}
	for _, c := range []struct {
		q    chat.Query
		want [2]string
	}{
		{chat.Query{Limit: 10}, [2]string{"first", "second"}}, // the default: date_sent ascending
		{chat.Query{Sort: "date_sent", Limit: 10}, [2]string{"first", "second"}},
		{chat.Query{Sort: "date_sent", Desc: true, Limit: 10}, [2]string{"second", "first"}},
		{chat.Query{Sort: "date_sent", Desc: true, Limit: 1}, [2]string{"second"}},
		{chat.Query{Sort: "date_sent", Desc: true, Skip: 1, Limit: 1}, [2]string{"first"}},
	} {
		msgs, err := s.chat.ListMessages(ctx, u[2], g.ID, c.q, false, false)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var got [2]string
		for i, m := range msgs {
			got[i] = m.Body
		}
		if got != c.want {
			t.Errorf("%+v: %q; want %q", c.q, got, c.want)
		}
	}
	v, err := s.chat.GetDialog(ctx, u[2], g.ID)
	if err != nil {
		t.Fatalf("get dialog: %v", err)
	}
	if v.Last == nil || v.Last.Body != "second" || v.Last.ID != prefix+"0000000000000a02" {
		t.Errorf("last message %+v; want the second", v.Last)
	}
}

// TestIDsThatKeepClashingFailOneMessage: should the id maker keep making
// taken ids, the message fails alone after a few tries (the loop runs on
// the single writer and must end) and the rest of its batch is stored.
func TestIDsThatKeepClashingFailOneMessage(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 2)
	name := "g"
	g, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{u[1].UserID}})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	taken, err := s.chat.CreateMessage(ctx, u[1], chat.MessageInput{DialogID: g.ID, Body: "holder"})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	s.chat.SetMessageIDs(func(time.Time) string { return taken.ID })
	free := fmt.Sprintf("%08x%016x", time.Now().Unix(), 0xf4ee)
	msgs, errs, err := s.chat.PostBatch(ctx, []chat.Post{
		{Caller: u[0], In: chat.MessageInput{DialogID: g.ID, Body: "no id"}},
		{Caller: u[0], In: chat.MessageInput{DialogID: g.ID, Body: "own id", ID: free}},
	})
	if err != nil {
		t.Fatalf("PostBatch: %v", err)
	}
	if errs[0] == nil || errors.Is(errs[0], chat.ErrDuplicate) || msgs[0] != nil {
		t.Errorf("endless clashes: %v, %+v; want a failure", errs[0], msgs[0])
	}
	if errs[1] != nil || msgs[1] == nil || msgs[1].ID != free {
		t.Errorf("the rest of the batch: %v, %+v", errs[1], msgs[1])
	}
	if h := history(t, s, g.ID); len(h) != 2 || h[0].Body != "holder" || h[1].Body != "own id" {
		t.Errorf("history %v", h)
	}
}
