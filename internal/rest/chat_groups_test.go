package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// The group rules of issue 10: who may come back into a group, how many
// dialogs a user may be put in, and how fast dialogs may be created.

func subscribe(t *testing.T, env *servertest.Env, u *servertest.User, id string) *servertest.Response {
	t.Helper()
	return env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + id + "/subscribe.json", Token: u.Token})
}

func pushOccupants(t *testing.T, env *servertest.Env, by *servertest.User, id string, op string, us ...*servertest.User) *servertest.Response {
	t.Helper()
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Token: by.Token,
		Body: map[string]any{op: map[string]any{"occupants_ids": ids}}})
}

// A user the owner removed with pull_all cannot subscribe back and read
// what was said since; an admin adding them back lifts the bar. A user who
// left by themselves may come back.
func TestOwnerRemovedUserCannotSubscribeBack(t *testing.T) {
	env := servertest.Start(t)
	owner, admin, bob, carol := env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, owner, "club", admin, bob, carol)
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Token: owner.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{admin.ID}}}}), http.StatusOK)
	send(t, env, owner, g, "before")
	wantStatus(t, pushOccupants(t, env, owner, g, "pull_all", bob), http.StatusOK)
	send(t, env, owner, g, "after bob left")

	// Refused exactly as an unknown dialog is, and nothing readable.
	sameAnswer(t, "subscribe after removal", subscribe(t, env, bob, g), subscribe(t, env, bob, unknownID))
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g, Token: bob.Token}), http.StatusNotFound)
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + g + "/occupants.json", Token: bob.Token}), http.StatusNotFound)
	want(t, "after the refused subscribe", mustView(t, env, owner, g), map[string]any{"occupants_ids": []int64{owner.ID, admin.ID, carol.ID}})
	// With preview on the group is visible to bob, so the refusal is 403.
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: owner.Token,
		Body: map[string]any{"permissions": map[string]any{"allow_preview": true}}}), http.StatusOK)
	wantError(t, subscribe(t, env, bob, g), http.StatusForbidden, "base")
	// A regular occupant may add others, but not undo the owner's removal.
	wantError(t, pushOccupants(t, env, carol, g, "push_all", bob), http.StatusForbidden, "base")

	// Re-added by an admin: a member again, and then free to leave and
	// subscribe back like anyone who left by themselves.
	wantStatus(t, pushOccupants(t, env, admin, g, "push_all", bob), http.StatusOK)
	if got := bodies(peek(t, env, bob, g)); strings.Join(got, "|") != "before|after bob left" {
		t.Fatalf("bob's history after being re-added = %v", got)
	}
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + g + ".json", Token: bob.Token}))
	wantStatus(t, subscribe(t, env, bob, g), http.StatusOK)
	want(t, "after bob subscribed back", mustView(t, env, owner, g), map[string]any{"occupants_ids": []int64{owner.ID, admin.ID, carol.ID, bob.ID}})

	// Leaving with pull_all of one's own id leaves no mark either.
	wantStatus(t, pushOccupants(t, env, carol, g, "pull_all", carol), http.StatusOK)
	wantStatus(t, subscribe(t, env, carol, g), http.StatusOK)
}

// An app created with group subscribe off answers a non-member's
// subscribe to a group 404, like any dialog they cannot see; public
// dialogs are subscribed to as before.
func TestGroupSubscribeCanBeTurnedOffPerApp(t *testing.T) {
	env := servertest.Start(t)
	app, err := env.Server.Auth.CreateAppWith(context.Background(), auth.AppSettings{Name: "closed", NoGroupSubscribe: true})
	if err != nil {
		t.Fatal(err)
	}
	owner, bob, carol := appUser(t, env, app, "owner"), appUser(t, env, app, "bob"), appUser(t, env, app, "carol")
	g := newGroup(t, env, owner, "members only", bob)
	send(t, env, owner, g, "secret")
	sameAnswer(t, "subscribe to a group where it is off", subscribe(t, env, carol, g), subscribe(t, env, carol, unknownID))
	want(t, "after the refused subscribe", mustView(t, env, owner, g), map[string]any{"occupants_ids": []int64{owner.ID, bob.ID}})
	// A member's subscribe changes nothing and is answered as before.
	wantStatus(t, subscribe(t, env, bob, g), http.StatusOK)
	pub := newPublic(t, env, owner, "news", false)
	wantStatus(t, subscribe(t, env, carol, pub), http.StatusOK)

	// The default app still allows it, and the setting is stored.
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	wantStatus(t, subscribe(t, env, c, newGroup(t, env, a, "open", b)), http.StatusOK)
	again, err := env.Server.Auth.App(context.Background(), app.ID)
	if err != nil || !again.NoGroupSubscribe || env.App.NoGroupSubscribe {
		t.Fatalf("stored setting: %+v, %v (default app %+v)", again, err, env.App)
	}
}

// A user may be put in at most --max-dialogs-per-user group and public
// dialogs; past it the request that would add them is 422 naming them.
// Private dialogs do not count.
func TestDialogsPerUserLimit(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxDialogsPerUser = 3 })
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	newPrivate(t, env, a, b)
	g1 := newGroup(t, env, a, "g1", b)
	newGroup(t, env, a, "g2", b)
	pub := newPublic(t, env, c, "news", false)
	wantStatus(t, subscribe(t, env, b, pub), http.StatusOK) // b's third
	resp := postDialog(t, env, a, map[string]any{"type": 2, "name": "g4", "occupants_ids": userIDs(b, c)})
	wantError(t, resp, http.StatusUnprocessableEntity, "occupants_ids")
	if msg := fmt.Sprint(obj(t, resp.JSON, "errors")["occupants_ids"]); !strings.HasSuffix(msg, ": "+strconv.FormatInt(b.ID, 10)+"]") {
		t.Fatalf("the refusal should name b, and only b: %s", resp.Raw)
	}
	g3 := newGroup(t, env, c, "g3", a) // a has 3 now: g1, g2, g3
	wantError(t, pushOccupants(t, env, c, g3, "push_all", b), http.StatusUnprocessableEntity, "occupants_ids")
	wantError(t, subscribe(t, env, a, pub), http.StatusUnprocessableEntity, "base")
	want(t, "nothing written", mustView(t, env, c, g3), map[string]any{"occupants_ids": []int64{a.ID, c.ID}})
	// Leaving one makes room again; private dialogs still open freely.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + g1 + ".json", Token: b.Token}))
	wantStatus(t, pushOccupants(t, env, c, g3, "push_all", b), http.StatusOK)
	newPrivate(t, env, b, c)
}

// Creating dialogs is limited per user: --dialog-create-burst at once,
// then --dialog-create-rate a minute; past it 429 with the ConnectyCube
// error body and Retry-After. Other users are not affected.
func TestDialogCreateRateLimit(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.DialogCreateRate, c.DialogCreateBurst = 6, 3 })
	a, b := env.NewUser(t), env.NewUser(t)
	for i := range 3 {
		newGroup(t, env, a, fmt.Sprint("g", i), b)
	}
	resp := postDialog(t, env, a, map[string]any{"type": 2, "name": "one too many", "occupants_ids": userIDs(b)})
	wantError(t, resp, http.StatusTooManyRequests, "base")
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
		t.Fatalf("Retry-After = %q; want the seconds until the next one (10 at 6 a minute)", resp.Header.Get("Retry-After"))
	}
	if n := len(items(t, listed(t, env, b, "type=2"))); n != 3 {
		t.Fatalf("b is in %d groups; the refused create must not have made one", n)
	}
	newGroup(t, env, b, "b's own", a)
	env.Clock.Advance(10 * time.Second)
	newGroup(t, env, a, "after the wait", b)
}
