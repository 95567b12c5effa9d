package chat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// stack is the real domain over the real store, without the HTTP front end.
type stack struct {
	db    *sqlite.DB
	auth  *auth.Service
	chat  *chat.Service
	appID int64
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authSvc := auth.NewService(db, auth.Config{PasswordIterations: 4096}, log, nil)
	chatSvc := chat.NewService(db, authSvc, nil, log, nil)
	t.Cleanup(chatSvc.Close) // runs before the store closes
	app, err := authSvc.CreateApp(ctx, "unread", nil)
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	return &stack{db: db, auth: authSvc, chat: chatSvc, appID: app.ID}
}

func (s *stack) newUsers(t *testing.T, n int) []chat.Caller {
	t.Helper()
	out := make([]chat.Caller, n)
	for i := range out {
		login, pw := fmt.Sprintf("user%d", i), "password-unread"
		u, err := s.auth.SignUp(context.Background(), s.appID, auth.UserInput{Login: &login, Password: &pw})
		if err != nil {
			t.Fatalf("sign up: %v", err)
		}
		out[i] = chat.Caller{AppID: s.appID, UserID: u.ID}
	}
	return out
}

// msgRef is a stored message the workers may address.
type msgRef struct {
	id, dialog string
	sender     int64
}

type registry struct {
	mu   sync.Mutex
	msgs []msgRef
}

func (r *registry) add(m msgRef) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
}

// pick returns up to n random messages.
func (r *registry) pick(rng *rand.Rand, n int) []msgRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) == 0 {
		return nil
	}
	out := make([]msgRef, 0, n)
	for range n {
		out = append(out, r.msgs[rng.IntN(len(r.msgs))])
	}
	return out
}

func idsOf(ms []msgRef) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.id
	}
	return out
}

// TestUnreadCountersMatchRecountUnderConcurrency runs senders, readers,
// deleters and history-clearers at once on one group and one private
// dialog, then checks that every stored unread counter equals its
// definition (REST.md §2.3, REALTIME.md §20.2): the count the store derives
// from the messages, receipts, hidden and cleared marks.
func TestUnreadCountersMatchRecountUnderConcurrency(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	users := s.newUsers(t, 7)
	members, joiner := users[:6], users[6]
	name := "everyone"
	var others []int64
	for _, u := range members[1:] {
		others = append(others, u.UserID)
	}
	gv, _, err := s.chat.CreateDialog(ctx, members[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: others})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	pv, _, err := s.chat.CreateDialog(ctx, members[0], chat.DialogInput{Type: chat.Private, Occupants: []int64{members[1].UserID}})
	if err != nil {
		t.Fatalf("create private: %v", err)
	}
	group, private := gv.ID, pv.ID
	inPrivate := func(u chat.Caller) bool { return u == members[0] || u == members[1] }

	const senders, perSender = 6, 200
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var reg registry
	var sendersLeft atomic.Int32
	sendersLeft.Store(senders)
	var ops atomic.Int64
	// fail records an unexpected error; domain refusals (not found,
	// forbidden) are expected where messages vanish under the workers.
	fail := func(what string, err error) {
		if err == nil {
			return
		}
		switch apperr.KindOf(err) {
		case apperr.KindNotFound, apperr.KindForbidden:
			return
		}
		t.Errorf("%s: %v", what, err)
	}
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			defer sendersLeft.Add(-1)
			u := members[i]
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for n := range perSender {
				d := group
				if inPrivate(u) && rng.IntN(3) == 0 {
					d = private
				}
				m, err := s.chat.CreateMessage(ctx, u, chat.MessageInput{DialogID: d, Body: fmt.Sprintf("m %d %d", i, n)})
				if err != nil {
					t.Errorf("sender %d: %v", i, err)
					return
				}
				reg.add(msgRef{id: m.ID, dialog: d, sender: u.UserID})
				ops.Add(1)
			}
		})
	}
	// Every member also reads, marks, hides, deletes and clears while the
	// senders run.
	for i, u := range members {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(100+i)))
			for sendersLeft.Load() > 0 {
				d := group
				if inPrivate(u) && rng.IntN(3) == 0 {
					d = private
				}
				switch op := rng.IntN(100); {
				case op < 30: // read a page, marking it read
					q := chat.Query{Sort: "date_sent", Desc: rng.IntN(2) == 0, Skip: rng.IntN(20), Limit: 1 + rng.IntN(40)}
					_, err := s.chat.ListMessages(ctx, u, d, q, true, false)
					fail("list", err)
				case op < 42: // chat markers, queued together so that they share group commits
					var waits []func() error
					for _, m := range reg.pick(rng, 1+rng.IntN(8)) {
						waits = append(waits, s.chat.StartReceipt(ctx, u, m.dialog, m.id, rng.IntN(2) == 0))
					}
					for _, w := range waits {
						fail("marker", w())
					}
				case op < 50: // read=1 or delivered=1 on random ids
					pick := reg.pick(rng, 1+rng.IntN(5))
					upd := chat.MessageUpdate{Read: rng.IntN(4) != 0}
					upd.Delivered = !upd.Read
					fail("mark ids", s.chat.UpdateMessages(ctx, u, "", idsOf(pick), upd))
				case op < 55: // mark all read (the seed's PUT /chat/Message.json)
					fail("mark all", s.chat.UpdateMessages(ctx, u, d, nil, chat.MessageUpdate{Read: true}))
				case op < 70: // delete for me
					_, err := s.chat.DeleteMessages(ctx, u, idsOf(reg.pick(rng, 1+rng.IntN(3))), false)
					fail("delete for me", err)
				case op < 82: // the author deletes own messages for everyone
					var own []string
					for _, m := range reg.pick(rng, 10) {
						if m.sender == u.UserID {
							own = append(own, m.id)
						}
					}
					if len(own) > 0 {
						_, err := s.chat.DeleteMessages(ctx, u, own, true)
						fail("force delete", err)
					}
				case op < 86: // force delete of anything (refused for others' messages)
					_, err := s.chat.DeleteMessages(ctx, u, idsOf(reg.pick(rng, 2)), true)
					fail("force delete any", err)
				case op < 90: // clear history for me
					fail("clear history", s.chat.ClearHistory(ctx, u, d, false))
				case op < 92 && d == private: // delete the private dialog for me
					_, err := s.chat.DeleteDialogs(ctx, u, []string{private}, false)
					fail("hide private", err)
				case op < 94: // edit
					for _, m := range reg.pick(rng, 3) {
						if m.sender == u.UserID {
							fail("edit", s.chat.UpdateMessages(ctx, u, m.dialog, []string{m.id}, chat.MessageUpdate{Body: ptr("edited")}))
						}
					}
				default: // unread counts while everything moves
					_, _, err := s.chat.UnreadCount(ctx, u, []string{group, private})
					fail("unread", err)
				}
				ops.Add(1)
			}
		})
	}
	// A user who keeps joining and leaving the group.
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(seed, 999))
		for sendersLeft.Load() > 0 {
			if _, err := s.chat.Subscribe(ctx, joiner, group); err != nil {
				t.Errorf("join: %v", err)
				return
			}
			if rng.IntN(2) == 0 {
				_, err := s.chat.ListMessages(ctx, joiner, group, chat.Query{Limit: 10}, true, false)
				fail("joiner list", err)
			}
			if rng.IntN(3) != 0 {
				fail("leave", s.chat.Unsubscribe(ctx, joiner, group))
			}
			ops.Add(1)
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d operations", ops.Load())

	// Every stored counter equals its definition, through every read path.
	checked := 0
	for _, u := range users {
		views, _, err := s.chat.ListDialogs(ctx, u, chat.Query{Limit: chat.MaxPageSize})
		if err != nil {
			t.Fatalf("list dialogs of %d: %v", u.UserID, err)
		}
		listed := map[string]int{}
		for _, v := range views {
			if v.Unread == nil {
				t.Errorf("user %d: dialog %s of type %d has no unread count", u.UserID, v.ID, v.Type)
				continue
			}
			listed[v.ID] = *v.Unread
		}
		counts, total, err := s.chat.UnreadCount(ctx, u, []string{group, private})
		if err != nil {
			t.Fatalf("unread of %d: %v", u.UserID, err)
		}
		sum := 0
		for _, d := range []string{group, private} {
			n, isMember := counts[d]
			if d == private && !inPrivate(u) || d == group && u == joiner && !isMember {
				if isMember {
					t.Errorf("user %d has a count %d for dialog %s it is not in", u.UserID, n, d)
				}
				continue
			}
			if !isMember {
				t.Errorf("user %d: no count for its dialog %s", u.UserID, d)
				continue
			}
			want, err := s.db.Recount(ctx, d, u.UserID)
			if err != nil {
				t.Fatalf("recount: %v", err)
			}
			if n != want {
				t.Errorf("user %d, dialog %s: stored unread %d, recount %d", u.UserID, d, n, want)
			}
			if l, ok := listed[d]; ok && l != want {
				t.Errorf("user %d, dialog %s: listed unread %d, recount %d", u.UserID, d, l, want)
			}
			if n < 0 {
				t.Errorf("user %d, dialog %s: negative counter %d", u.UserID, d, n)
			}
			sum += n
			checked++
		}
		if total != sum {
			t.Errorf("user %d: total %d, sum of its dialogs %d", u.UserID, total, sum)
		}
	}
	if checked < 8 {
		t.Fatalf("only %d counters checked", checked)
	}
	// And the history agrees with the counter: reading everything without
	// marking shows exactly that many unread messages from others.
	for _, u := range members {
		for _, d := range []string{group, private} {
			if d == private && !inPrivate(u) {
				continue
			}
			var msgs []*chat.Message
			for skip := 0; ; skip += chat.MaxMessagePage {
				page, err := s.chat.ListMessages(ctx, u, d, chat.Query{Skip: skip, Limit: chat.MaxMessagePage}, false, false)
				if err != nil {
					t.Fatalf("history: %v", err)
				}
				msgs = append(msgs, page...)
				if len(page) < chat.MaxMessagePage {
					break
				}
			}
			unreadSeen := 0
			for _, m := range msgs {
				if m.SenderID == u.UserID {
					continue
				}
				read := false
				for _, r := range m.ReadIDs {
					read = read || r == u.UserID
				}
				if !read {
					unreadSeen++
				}
			}
			counts, _, _ := s.chat.UnreadCount(ctx, u, []string{d})
			if counts[d] != unreadSeen {
				t.Errorf("user %d, dialog %s: counter %d, unread messages in its history %d", u.UserID, d, counts[d], unreadSeen)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
