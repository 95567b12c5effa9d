package chat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
)

// countersMatch checks every counted member's stored counter against the
// recount, and returns the counters by dialog and user.
func countersMatch(t *testing.T, s *stack, users []chat.Caller, dialogs []string) map[string]map[int64]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]map[int64]int{}
	for _, u := range users {
		counts, _, err := s.chat.UnreadCount(ctx, u, dialogs)
		if err != nil {
			t.Fatalf("unread of %d: %v", u.UserID, err)
		}
		for d, n := range counts {
			want, err := s.db.Recount(ctx, d, u.UserID)
			if err != nil {
				t.Fatalf("recount: %v", err)
			}
			if n != want {
				t.Errorf("user %d, dialog %s: stored unread %d, recount %d", u.UserID, d, n, want)
			}
			if out[d] == nil {
				out[d] = map[int64]int{}
			}
			out[d][u.UserID] = n
		}
	}
	return out
}

// history returns a dialog's stored messages in the order they were
// stored.
func history(t *testing.T, s *stack, dialogID string) []*chat.Message {
	t.Helper()
	msgs, err := s.db.Messages(context.Background(), dialogID, 0, 0, chat.Query{Limit: 10000})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	slices.SortFunc(msgs, func(a, b *chat.Message) int { return int(a.Seq - b.Seq) })
	return msgs
}

// TestBatchBookkeepingMatchesRecount stores one batch that mixes several
// dialogs, several senders per dialog, a member who hid the dialog, ids
// that clash with a stored message or one of the batch (stored under new
// ids), a retransmission (not stored again) and refused posts, and checks
// that every counter equals its recount, that the dialogs' last messages
// are the batch's last accepted ones, and that the failed posts and the
// retransmissions left no trace.
func TestBatchBookkeepingMatchesRecount(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 7)
	name1, name2, name3 := "first", "second", "public"
	g1v, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Group, Name: &name1,
		Occupants: []int64{u[1].UserID, u[2].UserID, u[3].UserID}})
	if err != nil {
		t.Fatalf("create group 1: %v", err)
	}
	g2v, _, err := s.chat.CreateDialog(ctx, u[1], chat.DialogInput{Type: chat.Group, Name: &name2,
		Occupants: []int64{u[2].UserID, u[4].UserID, u[5].UserID}})
	if err != nil {
		t.Fatalf("create group 2: %v", err)
	}
	pv, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Private, Occupants: []int64{u[1].UserID}})
	if err != nil {
		t.Fatalf("create private: %v", err)
	}
	pubv, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Public, Name: &name3})
	if err != nil {
		t.Fatalf("create public: %v", err)
	}
	g1, g2, p, pub := g1v.ID, g2v.ID, pv.ID, pubv.ID
	seer := map[string]chat.Caller{g1: u[0], g2: u[1], p: u[0], pub: u[0]} // a member of each
	if _, err := s.chat.Subscribe(ctx, u[3], pub); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	all := []string{g1, g2, p, pub}

	// Some history first, part of it read, and the private dialog deleted
	// (hidden) by one side.
	var stored *chat.Message
	for i, post := range []struct {
		c chat.Caller
		d string
	}{{u[0], g1}, {u[1], g1}, {u[2], g2}, {u[1], p}, {u[0], p}, {u[0], pub}} {
		m, err := s.chat.CreateMessage(ctx, post.c, chat.MessageInput{DialogID: post.d, Body: fmt.Sprintf("before %d", i)})
		if err != nil {
			t.Fatalf("message before: %v", err)
		}
		stored = m
	}
	if _, err := s.chat.ListMessages(ctx, u[2], g1, chat.Query{Limit: 100}, true, false); err != nil {
		t.Fatalf("read: %v", err)
	}
	if _, err := s.chat.DeleteDialogs(ctx, u[1], []string{p}, false); err != nil {
		t.Fatalf("hide private: %v", err)
	}
	before := map[string]int{}
	for _, d := range all {
		before[d] = len(history(t, s, d))
	}
	countersMatch(t, s, u, all)

	fresh := chat.NewMessageID(time.Now())
	post := func(c chat.Caller, d, body string) chat.Post {
		return chat.Post{Caller: c, In: chat.MessageInput{DialogID: d, Body: body}}
	}
	posts := []chat.Post{
		post(u[0], g1, "b0"),
		post(u[1], g1, "b1"),
		post(u[2], g2, "b2"),
		post(u[3], g1, "b3"),
		post(u[0], g1, "b4"),
		post(u[4], g1, "refused: not a member"), // 404: the group is not visible to u4
		post(u[1], p, "b6"),                     // un-hides p for u1 (the sender)
		post(u[5], g2, "b7"),
		// The id of a stored message of another dialog and sender.
		{Caller: u[2], In: chat.MessageInput{DialogID: g2, Body: "b8", ID: stored.ID}},
		{Caller: u[2], In: chat.MessageInput{DialogID: g2, Body: "b9", ID: fresh}},
		// b9's id from another sender of its dialog.
		{Caller: u[4], In: chat.MessageInput{DialogID: g2, Body: "b10", ID: fresh}},
		post(u[3], pub, "b11"),       // a subscriber posts to a public dialog
		post(u[6], g2, "refused: 2"), // not a member either
		post(u[0], "0123456789abcdef01234567", "unknown dialog"),
		post(u[1], g1, "b14"),
		post(u[0], p, "b15"),
		// b9 again, from its sender in its dialog: a retransmission.
		{Caller: u[2], In: chat.MessageInput{DialogID: g2, Body: "b9", ID: fresh}},
		// The stored message's sender, in another dialog.
		{Caller: u[0], In: chat.MessageInput{DialogID: g1, Body: "b17", ID: stored.ID}},
	}
	msgs, errs, err := s.chat.PostBatch(ctx, posts)
	if err != nil {
		t.Fatalf("PostBatch: %v", err)
	}
	failed := map[int]error{}
	for i, e := range errs {
		switch {
		case errors.Is(e, chat.ErrDuplicate):
			failed[i] = e
			if msgs[i] == nil {
				t.Errorf("post %d: a retransmission without the stored message", i)
			}
		case e != nil:
			failed[i] = e
			if msgs[i] != nil {
				t.Errorf("post %d failed (%v) but has a message", i, e)
			}
		case msgs[i] == nil:
			t.Errorf("post %d: no message and no error", i)
		}
	}
	for _, i := range []int{5, 12, 13} {
		if apperr.KindOf(failed[i]) != apperr.KindNotFound {
			t.Errorf("post %d: error %v, want not found", i, failed[i])
		}
	}
	if !errors.Is(failed[16], chat.ErrDuplicate) || msgs[16] == nil || msgs[16].ID != fresh || msgs[16].Seq != msgs[9].Seq {
		t.Errorf("retransmission: error %v, message %+v; want ErrDuplicate with message b9", failed[16], msgs[16])
	}
	if len(failed) != 4 {
		t.Errorf("%d posts failed, want 4: %v", len(failed), failed)
	}
	// A clashing id was replaced by a fresh one; a free one was kept.
	if msgs[9].ID != fresh {
		t.Errorf("b9 stored as %s, want its own id %s", msgs[9].ID, fresh)
	}
	for _, i := range []int{8, 10, 17} {
		if m := msgs[i]; m == nil || m.ID == posts[i].In.ID || !chat.ValidID(m.ID) {
			t.Errorf("post %d (id %s) stored as %+v; want a fresh id", i, posts[i].In.ID, m)
		}
	}
	// Seqs follow the batch.
	var last int64
	for i, m := range msgs {
		if m == nil || errs[i] != nil {
			continue
		}
		if m.Seq <= last {
			t.Errorf("post %d: seq %d after %d", i, m.Seq, last)
		}
		last = m.Seq
	}

	counters := countersMatch(t, s, u, all)
	// Exactly the accepted messages were stored, the retransmission once,
	// and the stored id kept its body.
	accepted := map[string][]string{}
	for i, m := range msgs {
		if m != nil && errs[i] == nil {
			accepted[posts[i].In.DialogID] = append(accepted[posts[i].In.DialogID], posts[i].In.Body)
		}
	}
	for _, d := range all {
		h := history(t, s, d)
		if got, want := len(h)-before[d], len(accepted[d]); got != want {
			t.Errorf("dialog %s: %d new messages, want %d", d, got, want)
		}
		var bodies []string
		for _, m := range h[before[d]:] {
			bodies = append(bodies, m.Body)
			if m.ID == stored.ID && m.Body != stored.Body {
				t.Errorf("stored message changed body to %q", m.Body)
			}
		}
		if !slices.Equal(bodies, accepted[d]) {
			t.Errorf("dialog %s: new bodies %q, want %q", d, bodies, accepted[d])
		}
		// The dialog's last message is the batch's last accepted one.
		v, err := s.chat.GetDialog(ctx, seer[d], d)
		if err != nil {
			t.Fatalf("get dialog: %v", err)
		}
		if want := accepted[d][len(accepted[d])-1]; v.Last == nil || v.Last.Body != want {
			t.Errorf("dialog %s: last message %+v, want %q", d, v.Last, want)
		}
		if v.LastSeq != h[len(h)-1].Seq {
			t.Errorf("dialog %s: last seq %d, newest stored %d", d, v.LastSeq, h[len(h)-1].Seq)
		}
	}
	// Counters by hand for group 1: b0, b1, b3, b4, b14, b17 from u0, u1,
	// u3, u0, u1, u0.
	for user, want := range map[int64]int{u[2].UserID: 6} {
		if got := counters[g1][user]; got != want {
			t.Errorf("group 1, user %d: unread %d, want %d", user, got, want)
		}
	}
	// The private dialog, hidden by u1, is listed for it again.
	views, _, err := s.chat.ListDialogs(ctx, u[1], chat.Query{Limit: chat.MaxPageSize})
	if err != nil {
		t.Fatalf("list dialogs: %v", err)
	}
	if !slices.ContainsFunc(views, func(v chat.View) bool { return v.ID == p }) {
		t.Errorf("private dialog still hidden for its member after new messages")
	}

	// A batch of only failing posts changes nothing at all.
	dialogsBefore := map[string]*chat.View{}
	for _, d := range all {
		if dialogsBefore[d], err = s.chat.GetDialog(ctx, seer[d], d); err != nil {
			t.Fatalf("get dialog: %v", err)
		}
	}
	_, errs, err = s.chat.PostBatch(ctx, []chat.Post{
		{Caller: u[2], In: chat.MessageInput{DialogID: g2, Body: "again", ID: fresh}},
		post(u[4], g1, "refused"),
		{Caller: u[0], In: chat.MessageInput{DialogID: g1, Body: "again", ID: msgs[0].ID}},
	})
	if err != nil {
		t.Fatalf("PostBatch: %v", err)
	}
	for i, e := range errs {
		if e == nil {
			t.Errorf("failing post %d stored", i)
		}
	}
	after := countersMatch(t, s, u, all)
	for d, byUser := range counters {
		for user, n := range byUser {
			if after[d][user] != n {
				t.Errorf("dialog %s, user %d: unread %d after failed posts, was %d", d, user, after[d][user], n)
			}
		}
	}
	for _, d := range all {
		v, err := s.chat.GetDialog(ctx, seer[d], d)
		if err != nil {
			t.Fatalf("get dialog: %v", err)
		}
		b := dialogsBefore[d]
		if v.LastSeq != b.LastSeq || !v.UpdatedAt.Equal(b.UpdatedAt) || *v.Last != *b.Last {
			t.Errorf("dialog %s changed by failed posts: %+v, was %+v", d, v.Dialog, b.Dialog)
		}
	}
}

// TestForceDeleteSameIDTwice deletes a message for everyone with its id
// given twice: it leaves the counters once, not twice.
func TestForceDeleteSameIDTwice(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 3)
	name := "g"
	gv, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{u[1].UserID, u[2].UserID}})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	var ids []string
	for i := range 3 {
		m, err := s.chat.CreateMessage(ctx, u[0], chat.MessageInput{DialogID: gv.ID, Body: fmt.Sprint(i)})
		if err != nil {
			t.Fatalf("message: %v", err)
		}
		ids = append(ids, m.ID)
	}
	rep, err := s.chat.DeleteMessages(ctx, u[0], []string{ids[1], ids[1]}, true)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if len(rep.Deleted) != 2 || len(rep.NotFound) != 0 || len(rep.WrongPermissions) != 0 {
		t.Errorf("report %+v, want the id deleted twice", rep)
	}
	counters := countersMatch(t, s, u, []string{gv.ID})
	for _, user := range []int64{u[1].UserID, u[2].UserID} {
		if counters[gv.ID][user] != 2 {
			t.Errorf("user %d: unread %d, want 2", user, counters[gv.ID][user])
		}
	}
}

func TestNewMessageIDIncreases(t *testing.T) {
	now := time.Now()
	prev := chat.NewMessageID(now.Add(-time.Second))
	for range 100000 {
		id := chat.NewMessageID(now)
		if !chat.ValidID(id) || id <= prev {
			t.Fatalf("id %q after %q: want a valid, larger id", id, prev)
		}
		if !slices.ContainsFunc([]byte(id), func(c byte) bool { return c >= 'a' && c <= 'f' }) {
			t.Fatalf("id %q has no letter", id)
		}
		prev = id
	}
}

// TestNewMessageIDIsNotTheLastPlusOne: the id after one a user saw must
// not be guessable (a user who can claim the next ids first makes the
// server clash with them): consecutive ids of one second differ by steps
// that vary and are large, not by one.
func TestNewMessageIDIsNotTheLastPlusOne(t *testing.T) {
	now := time.Now()
	low := func(id string) uint64 {
		v, err := strconv.ParseUint(id[8:], 16, 64)
		if err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		return v
	}
	prev := low(chat.NewMessageID(now))
	steps := map[uint64]bool{}
	small := 0
	const n = 1000
	for range n {
		v := low(chat.NewMessageID(now))
		steps[v-prev] = true
		if v-prev < 1<<16 {
			small++
		}
		prev = v
	}
	if len(steps) < n*9/10 || small > n/100 {
		t.Errorf("%d distinct steps in %d ids, %d of them under 65,536: guessable", len(steps), n, small)
	}
}

// TestLastMessageWithSmallerIDSurvivesDeletes: a client may choose ids, so
// the newest message of a second can have the smaller id; deleting an
// older message for everyone leaves it the dialog's last message.
func TestLastMessageWithSmallerIDSurvivesDeletes(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 2)
	name := "g"
	gv, _, err := s.chat.CreateDialog(ctx, u[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{u[1].UserID}})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	old, err := s.chat.CreateMessage(ctx, u[0], chat.MessageInput{DialogID: gv.ID, Body: "older"})
	if err != nil {
		t.Fatalf("message: %v", err)
	}
	sent := time.Now().Unix() + 10
	prefix := fmt.Sprintf("%08x", sent)
	for _, m := range []chat.MessageInput{
		{DialogID: gv.ID, Body: "first of the second", ID: prefix + "ffffffffffffffff", DateSent: sent},
		{DialogID: gv.ID, Body: "second of the second", ID: prefix + "00000000000000aa", DateSent: sent},
	} {
		if _, err := s.chat.CreateMessage(ctx, u[0], m); err != nil {
			t.Fatalf("message: %v", err)
		}
	}
	check := func(when string) {
		t.Helper()
		v, err := s.chat.GetDialog(ctx, u[1], gv.ID)
		if err != nil {
			t.Fatalf("get dialog: %v", err)
		}
		if v.Last == nil || v.Last.ID != prefix+"00000000000000aa" || v.Last.Body != "second of the second" {
			t.Errorf("%s: last message %+v", when, v.Last)
		}
	}
	check("after storing")
	if _, err := s.chat.DeleteMessages(ctx, u[0], []string{old.ID}, true); err != nil {
		t.Fatalf("delete: %v", err)
	}
	check("after deleting an older message")
}
