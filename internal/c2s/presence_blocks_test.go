package c2s_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/servertest"
)

// denyAll makes owner's default list block each of others (the SDK's
// block: an item without children covers everything, REALTIME.md §18.3),
// through the privacy domain.
func denyAll(t *testing.T, env *servertest.Env, owner *servertest.User, others ...*servertest.User) {
	t.Helper()
	ctx := context.Background()
	l := privacy.List{Name: "blocked"}
	for i, o := range others {
		l.Items = append(l.Items, privacy.Item{Type: "jid", Value: userJID(env, o), Action: "deny", Order: uint32(i + 1)})
	}
	if err := env.Server.Privacy.Put(ctx, env.App.ID, owner.ID, l); err != nil {
		t.Fatal(err)
	}
	if err := env.Server.Privacy.SetDefault(ctx, env.App.ID, owner.ID, "blocked"); err != nil {
		t.Fatal(err)
	}
}

// A block hides presence (REALTIME.md §18.9): last activity is refused
// with service-unavailable; a blocked watcher's subscription is accepted
// and never pushed, and a subscription made before the block stops being
// pushed; the blocker is left out of the blocked user's online list and
// count. Others see everything as before.
func TestBlocksHidePresence(t *testing.T) {
	env := servertest.Start(t)
	x, asker, earlier, friend := env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t)
	xJID := userJID(env, x)
	xc, _ := login(t, env, x, x.Password)
	q, _ := login(t, env, asker, asker.Password)
	e, eJID := login(t, env, earlier, earlier.Password)
	f, fJID := login(t, env, friend, friend.Password)

	// Subscribed before the block: both get the current value.
	e.subscribe(xJID, true)
	e.wantPush(xJID, eJID, 0)
	f.subscribe(xJID, true)
	f.wantPush(xJID, fJID, 0)

	denyAll(t, env, x, asker, earlier)

	wantIQError(t, q.lastActivity(xJID), "la", "service-unavailable", "503")
	wantSeconds(t, f.lastActivity(xJID), xJID, fJID, 0)

	q.subscribe(xJID, true) // accepted: the block is not revealed
	q.nothingQueued("a blocked watcher's subscription")

	online := func(u *servertest.User) (ids []int64, count int) {
		t.Helper()
		body := restJSON(t, env, servertest.Req{Method: "GET", Path: "/users/online.json", Token: u.Token}, http.StatusOK)
		for _, it := range body["users"].([]any) {
			ids = append(ids, int64(it.(map[string]any)["id"].(float64)))
		}
		return ids, onlineCount(t, env, u)
	}
	if ids, n := online(asker); slices.Contains(ids, x.ID) || n != 3 || len(ids) != 3 {
		t.Fatalf("the blocked asker sees %v (count %d); want the 3 others, not %d", ids, n, x.ID)
	}
	if ids, n := online(friend); !slices.Contains(ids, x.ID) || n != 4 {
		t.Fatalf("the friend sees %v (count %d); want all 4", ids, n)
	}
	if _, n := online(x); n != 4 {
		t.Fatalf("the blocker counts %d; want all 4 (its own list hides it from others, not them from it)", n)
	}

	// x goes and comes back: only the friend is told.
	xc.closeStream()
	r := f.skipTo("iq")
	if r.Attr("from") != xJID || r.Attr("to") != fJID.String() {
		t.Fatalf("friend got %s; want the offline push", r.AppendXML(nil))
	}
	login(t, env, x, x.Password)
	f.wantPush(xJID, fJID, 0)
	for _, c := range []*client{q, e} {
		c.nothingQueued("a blocked watcher")
	}
}
