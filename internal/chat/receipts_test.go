package chat_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// TestMarkersRecordedTogether: markers recorded in one group commit apply
// in their order (a later one sees what an earlier one did), each changed
// receipt lowers the unread counter once, and markers that must be
// ignored change nothing.
func TestMarkersRecordedTogether(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	u := s.newUsers(t, 4)
	a, b, c, outsider := u[0], u[1], u[2], u[3]
	name := "trio"
	g, _, err := s.chat.CreateDialog(ctx, a, chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{b.UserID, c.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.chat.CreateDialog(ctx, a, chat.DialogInput{Type: chat.Private, Occupants: []int64{b.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	// 80 messages from a: more than one ReceiptTargets statement carries.
	var ids []string
	for i := range 80 {
		m, err := s.chat.CreateMessage(ctx, a, chat.MessageInput{DialogID: g.ID, Body: fmt.Sprintf("m%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	unread := func(who chat.Caller) int {
		t.Helper()
		counts, _, err := s.chat.UnreadCount(ctx, who, []string{g.ID})
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.db.Recount(ctx, g.ID, who.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if counts[g.ID] != want {
			t.Fatalf("user %d: counter %d, recount %d", who.UserID, counts[g.ID], want)
		}
		return counts[g.ID]
	}
	if n := unread(b); n != 80 {
		t.Fatalf("b starts with %d unread, want 80", n)
	}

	var ms []chat.Marker
	// b: every message delivered, then the first 70 read, each read twice.
	for _, id := range ids {
		ms = append(ms, chat.Marker{By: b, DialogID: g.ID, MessageID: id})
	}
	for _, id := range ids[:70] {
		ms = append(ms, chat.Marker{By: b, DialogID: g.ID, MessageID: id, Read: true},
			chat.Marker{By: b, DialogID: g.ID, MessageID: id, Read: true})
	}
	// c: read, then a late 'received' for the same message, which must not
	// take the read back.
	ms = append(ms, chat.Marker{By: c, DialogID: g.ID, MessageID: ids[0], Read: true},
		chat.Marker{By: c, DialogID: g.ID, MessageID: ids[0]})
	// Ignored: the sender's own message, a non-member, the wrong dialog, an
	// unknown message, another app.
	ms = append(ms,
		chat.Marker{By: a, DialogID: g.ID, MessageID: ids[1], Read: true},
		chat.Marker{By: outsider, DialogID: g.ID, MessageID: ids[2], Read: true},
		chat.Marker{By: c, DialogID: other.ID, MessageID: ids[3], Read: true},
		chat.Marker{By: c, DialogID: g.ID, MessageID: "65a1f3d9c81a4f0e2b000000", Read: true},
		chat.Marker{By: chat.Caller{AppID: s.appID + 1, UserID: c.UserID}, DialogID: g.ID, MessageID: ids[4], Read: true},
	)
	if err := s.chat.RecordTogether(ctx, ms...); err != nil {
		t.Fatal(err)
	}

	if n := unread(b); n != 10 {
		t.Errorf("b has %d unread after reading 70 of 80, want 10", n)
	}
	if n := unread(c); n != 79 {
		t.Errorf("c has %d unread after reading 1 of 80, want 79", n)
	}
	msgs, err := s.chat.ListMessages(ctx, a, g.ID, chat.Query{Sort: "date_sent", Limit: 100}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*chat.Message{}
	for _, m := range msgs {
		byID[m.ID] = m
	}
	for i, id := range ids {
		m := byID[id]
		if m == nil {
			t.Fatalf("message %s missing from history", id)
		}
		var wantRead []int64 // the sender is added by the REST view, not here
		if i < 70 {
			wantRead = append(wantRead, b.UserID)
		}
		if i == 0 {
			wantRead = append(wantRead, c.UserID)
		}
		wantDelivered := append([]int64{}, wantRead...)
		if i >= 70 {
			wantDelivered = append(wantDelivered, b.UserID)
		}
		slices.Sort(wantRead)
		slices.Sort(wantDelivered)
		gotRead, gotDelivered := slices.Sorted(slices.Values(m.ReadIDs)), slices.Sorted(slices.Values(m.DeliveredIDs))
		if !slices.Equal(gotRead, wantRead) || !slices.Equal(gotDelivered, wantDelivered) {
			t.Errorf("message %d: read %v delivered %v, want read %v delivered %v", i, gotRead, gotDelivered, wantRead, wantDelivered)
		}
	}
}
