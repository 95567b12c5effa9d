package chat_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// The benchmarks of post_bench_test.go measure posting with the real
// privacy domain attached, as the server runs it.
func init() {
	benchBlocks = func(tb testing.TB, db *sqlite.DB, s *chat.Service) {
		s.SetBlocks(privacy.NewService(db, "localhost", privacy.Limits{}, nil, nil))
	}
}

// countingStore is the real privacy store, counting the default-list
// reads (what a cache miss of Denies costs).
type countingStore struct {
	privacy.Store
	reads atomic.Int64
}

func (c *countingStore) DefaultPrivacyList(ctx context.Context, appID, userID int64) (privacy.List, bool, error) {
	c.reads.Add(1)
	return c.Store.DefaultPrivacyList(ctx, appID, userID)
}

// countingBlocks is the real privacy domain, counting the questions the
// chat domain asks it.
type countingBlocks struct {
	*privacy.Service
	calls atomic.Int64
}

func (c *countingBlocks) Denies(ctx context.Context, appID, owner, other int64, scope privacy.Scope, kind privacy.Kind) bool {
	c.calls.Add(1)
	return c.Service.Denies(ctx, appID, owner, other, scope, kind)
}

// The hot path (issue 12 item 6): a 1-1 message costs at most two block
// questions, a group message one per recipient but its sender, and once
// the users were seen none of them reads the store.
func TestBlockChecksStayOffTheStore(t *testing.T) {
	s := newStack(t)
	store := &countingStore{Store: s.db}
	blocks := &countingBlocks{Service: privacy.NewService(store, "localhost", privacy.Limits{}, nil, nil)}
	s.chat.SetBlocks(blocks)
	users := s.newUsers(t, 6)
	ctx := context.Background()
	a, b := users[0], users[1]
	ids := []int64{}
	for _, u := range users[1:] {
		ids = append(ids, u.UserID)
	}
	name := "g"
	g, _, err := s.chat.CreateDialog(ctx, a, chat.DialogInput{Type: chat.Group, Name: &name, Occupants: ids})
	if err != nil {
		t.Fatal(err)
	}
	direct := func(body string) {
		t.Helper()
		if _, err := s.chat.AcceptDirect(ctx, a, b.UserID, "", true, chat.MessageInput{Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	group := func(body string) *chat.Accepted {
		t.Helper()
		acc, err := s.chat.AcceptDialog(ctx, a, g.Dialog.ID, true, chat.MessageInput{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	direct("warm up") // the first message of the pair creates their dialog
	group("warm up")
	blocks.calls.Store(0)
	reads := store.reads.Load()
	direct("hello")
	if n := blocks.calls.Load(); n > 2 {
		t.Errorf("a 1-1 message asked %d block questions, want at most 2", n)
	}
	blocks.calls.Store(0)
	if acc := group("hello all"); len(acc.Recipients) != len(users) {
		t.Errorf("recipients %v", acc.Recipients)
	}
	if n := blocks.calls.Load(); n != int64(len(users)-1) {
		t.Errorf("a group message of %d members asked %d block questions, want %d", len(users), n, len(users)-1)
	}
	if n := store.reads.Load() - reads; n != 0 {
		t.Errorf("the block questions read the store %d times", n)
	}
}

// block makes owner's default list deny other, one-way or mutually.
func block(t *testing.T, p *privacy.Service, owner, other chat.Caller, mutual bool) {
	t.Helper()
	ctx := context.Background()
	kinds := privacy.Message | privacy.PresenceIn | privacy.PresenceOut | privacy.IQ
	if mutual {
		kinds = 0
	}
	l := privacy.List{Name: "blocked", Items: []privacy.Item{
		{Type: "jid", Value: fmt.Sprintf("%d-%d@localhost", other.UserID, other.AppID), Action: "deny", Order: 1, Kinds: kinds},
		{Type: "jid", Value: fmt.Sprintf("muc.localhost/%d", other.UserID), Action: "deny", Order: 2, Kinds: kinds},
	}}
	if err := p.SetDefault(ctx, owner.AppID, owner.UserID, ""); err != nil {
		t.Fatal(err)
	}
	if err := p.Put(ctx, owner.AppID, owner.UserID, l); err != nil {
		t.Fatal(err)
	}
	if err := p.SetDefault(ctx, owner.AppID, owner.UserID, "blocked"); err != nil {
		t.Fatal(err)
	}
}

// The domain's answers, without a front end: which error refuses a 1-1
// message, who is left out of a group's recipients, what Reaches and
// SeesPresence say.
func TestBlockRules(t *testing.T) {
	s := newStack(t)
	p := privacy.NewService(s.db, "localhost", privacy.Limits{}, nil, nil)
	s.chat.SetBlocks(p)
	users := s.newUsers(t, 3)
	a, b, c := users[0], users[1], users[2]
	ctx := context.Background()
	block(t, p, a, b, false)

	_, err := s.chat.AcceptDirect(ctx, b, a.UserID, "", true, chat.MessageInput{Body: "hi"})
	if apperr.KindOf(err) != apperr.KindBlocked {
		t.Fatalf("blocked 1-1 message: %v", err)
	}
	// Not content (a bodiless message): dropped, no error, no recipient.
	acc, err := s.chat.AcceptDirect(ctx, b, a.UserID, "", true, chat.MessageInput{Custom: map[string]any{"k": "v"}})
	if err != nil || len(acc.Recipients) != 0 {
		t.Fatalf("blocked bodiless message: %v %v", acc, err)
	}
	if s.chat.DirectTyping(ctx, b, a.UserID, "") {
		t.Fatal("blocked typing routed")
	}
	// REST: refused, and no dialog created.
	if _, err := s.chat.CreateMessage(ctx, b, chat.MessageInput{RecipientID: a.UserID, Body: "hi"}); apperr.KindOf(err) != apperr.KindBlocked {
		t.Fatalf("blocked REST message: %v", err)
	}
	if views, _, err := s.chat.ListDialogs(ctx, b, chat.Query{Limit: 10}); err != nil || len(views) != 0 {
		t.Fatalf("dialogs after refused messages: %v %v", views, err)
	}
	// One-way: a still writes to b.
	if _, err := s.chat.AcceptDirect(ctx, a, b.UserID, "", true, chat.MessageInput{Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if !s.chat.Reaches(ctx, a.AppID, a.UserID, b.UserID, privacy.Direct) || s.chat.Reaches(ctx, a.AppID, b.UserID, a.UserID, privacy.Direct) {
		t.Fatal("Reaches")
	}
	if s.chat.SeesPresence(ctx, a.AppID, a.UserID, b.UserID) || s.chat.SeesPresence(ctx, a.AppID, b.UserID, a.UserID) ||
		!s.chat.SeesPresence(ctx, a.AppID, c.UserID, b.UserID) {
		t.Fatal("SeesPresence")
	}
	// A group: b's message is stored and goes to b and c, not a.
	name := "g"
	g, _, err := s.chat.CreateDialog(ctx, c, chat.DialogInput{Type: chat.Group, Name: &name, Occupants: []int64{a.UserID, b.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err = s.chat.AcceptDialog(ctx, b, g.Dialog.ID, true, chat.MessageInput{Body: "to all"})
	if err != nil || acc.Message == nil {
		t.Fatalf("group message: %v %v", acc, err)
	}
	for _, u := range acc.Recipients {
		if u == a.UserID {
			t.Fatalf("the blocker is a recipient: %v", acc.Recipients)
		}
	}
	if len(acc.Recipients) != 2 {
		t.Fatalf("recipients %v", acc.Recipients)
	}
	if h := history(t, s, g.Dialog.ID); len(h) != 1 {
		t.Fatalf("group history %v", h)
	}

	// Mutual: a's own messages to b are refused with Blocking.
	block(t, p, a, b, true)
	if _, err := s.chat.AcceptDirect(ctx, a, b.UserID, "", true, chat.MessageInput{Body: "hi"}); apperr.KindOf(err) != apperr.KindBlocking {
		t.Fatalf("mutually blocked 1-1 message: %v", err)
	}
	// Declining the default list lifts it at once.
	if err := p.SetDefault(ctx, a.AppID, a.UserID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.chat.AcceptDirect(ctx, b, a.UserID, "", true, chat.MessageInput{Body: "hi"}); err != nil {
		t.Fatalf("after the block was lifted: %v", err)
	}
}
