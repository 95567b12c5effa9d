package rest_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

func occupantIDs(t *testing.T, d map[string]any, key string) []int64 {
	t.Helper()
	raw, ok := d[key].([]any)
	if !ok {
		t.Fatalf("dialog has no %s array: %v", key, d)
	}
	out := []int64{}
	for _, v := range raw {
		out = append(out, int64(v.(float64)))
	}
	return out
}

// A deleted account leaves nothing to the next sign-up: the id is new, and
// the new user sees no dialog, no history and no unread message of the old
// one. The deleted user leaves its dialogs as REST.md §4.6 says, and the
// other members keep the dialogs and their history (§5.4 hand-over for a
// group it owned).
func TestSignUpAfterDeletionSeesNothingOfTheOldAccount(t *testing.T) {
	env := servertest.Start(t)
	bob, carol := env.NewUser(t), env.NewUser(t)
	alice := env.NewUser(t) // the newest user: its id is the one SQLite would hand out again
	group := newDialog(t, env, alice, map[string]any{"type": 2, "name": "alice's", "occupants_ids": userIDs(bob, carol),
		"admins_ids": carol.ID})["_id"].(string)
	private := newPrivate(t, env, alice, bob)
	public := newPublic(t, env, bob, "bob's public", false)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + public + "/subscribe.json", Token: alice.Token}), http.StatusOK)
	send(t, env, alice, group, "hello group")
	send(t, env, bob, group, "hi alice")
	send(t, env, alice, private, "hello bob")
	send(t, env, bob, private, "hi alice, privately")

	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/users/%d.json", alice.ID), Token: alice.Token}), http.StatusOK)

	dave := env.NewUser(t)
	if dave.ID == alice.ID {
		t.Fatalf("the new user got the deleted user's id %d", alice.ID)
	}
	if got := listedIDs(t, env, dave, ""); len(got) != 0 {
		t.Fatalf("the new user lists %v; want no dialog", got)
	}
	for _, id := range []string{group, private} {
		wantStatus(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + id, Token: dave.Token}), http.StatusNotFound)
	}
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Message/unread.json", Token: dave.Token})
	wantStatus(t, resp, http.StatusOK)
	if n := resp.JSON["total"]; n != 0.0 {
		t.Fatalf("the new user has %v unread messages", n)
	}

	// The group passed to its admin, without alice; its history stays.
	g := dialogView(t, env, bob, group)
	if g == nil {
		t.Fatal("bob lost the group")
	}
	if owner := int64(g["user_id"].(float64)); owner != carol.ID {
		t.Errorf("group owner = %d; want the admin %d", owner, carol.ID)
	}
	if occ := occupantIDs(t, g, "occupants_ids"); slices.Contains(occ, alice.ID) || len(occ) != 2 {
		t.Errorf("group occupants = %v; want bob and carol only", occ)
	}
	if adm := occupantIDs(t, g, "admins_ids"); len(adm) != 0 {
		t.Errorf("group admins = %v; want none (carol became the owner)", adm)
	}
	if msgs := items(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + group, Token: bob.Token})); len(msgs) != 2 {
		t.Errorf("group history has %d messages; want both", len(msgs))
	}
	// The private dialog stays for bob, with its history, without alice.
	p := dialogView(t, env, bob, private)
	if p == nil {
		t.Fatal("bob lost the private dialog")
	}
	if occ := occupantIDs(t, p, "occupants_ids"); !slices.Equal(occ, []int64{bob.ID}) {
		t.Errorf("private occupants = %v; want bob only", occ)
	}
	if msgs := items(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + private, Token: bob.Token})); len(msgs) != 2 {
		t.Errorf("private history has %d messages; want both", len(msgs))
	}
	// The public dialog lost its subscriber.
	resp = env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + public + "/occupants.json", Token: bob.Token})
	wantStatus(t, resp, http.StatusOK)
	for _, it := range resp.JSON["items"].([]any) {
		if int64(it.(map[string]any)["id"].(float64)) == alice.ID {
			t.Errorf("the deleted user is still subscribed to the public dialog")
		}
	}
	// The new user can start its own private dialog with bob: a new one.
	if mine := newPrivate(t, env, dave, bob); mine == private {
		t.Errorf("the new user's private dialog with bob is the deleted user's")
	}
}
