package rest_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

// A private dialog is named, for each participant, after the other one
// (issue 15: ConnectyCube's chat widget titles 1-1 chats with
// dialog.name): full_name, else login; the stored name stays null, so
// another user's dialog or the command line never sees one.
func TestPrivateDialogIsNamedAfterTheOtherParticipant(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", a.ID), Token: a.Token,
		Body: map[string]any{"user": map[string]any{"full_name": "Alice Liddell"}}}), http.StatusOK)

	// Create: the creator sees the other's login (no full name).
	resp := postDialog(t, env, a, map[string]any{"type": 3, "occupants_ids": b.ID, "name": "ignored"})
	wantStatus(t, resp, http.StatusCreated)
	p := resp.JSON["_id"].(string)
	want(t, "created, for a", resp.JSON, map[string]any{"name": b.Login})
	// The same dialog, created again by b: named after a, by full name.
	resp = postDialog(t, env, b, map[string]any{"type": 3, "occupants_ids": a.ID})
	wantStatus(t, resp, http.StatusOK)
	want(t, "created again, for b", resp.JSON, map[string]any{"_id": p, "name": "Alice Liddell"})

	// Lists, per viewer, beside a group dialog that keeps its own name.
	g := newDialog(t, env, a, map[string]any{"type": 2, "name": "Tea party", "occupants_ids": userIDs(b, c)})["_id"].(string)
	want(t, "list, a", mustView(t, env, a, p), map[string]any{"name": b.Login})
	want(t, "list, b", mustView(t, env, b, p), map[string]any{"name": "Alice Liddell"})
	want(t, "group, b", mustView(t, env, b, g), map[string]any{"name": "Tea party"})

	// Update of a private dialog ignores the name and answers the viewer's.
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + p + ".json", Token: b.Token, Body: map[string]any{"name": "x"}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "updated, for b", resp.JSON, map[string]any{"name": "Alice Liddell"})

	// A renamed user renames the dialog for the other side.
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", b.ID), Token: b.Token,
		Body: map[string]any{"user": map[string]any{"full_name": "Bob Cratchit"}}}), http.StatusOK)
	want(t, "list after rename, a", mustView(t, env, a, p), map[string]any{"name": "Bob Cratchit"})

	// The other participant deleted: no one left to be named after.
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/users/%d.json", a.ID), Token: a.Token}), http.StatusOK)
	want(t, "other deleted, b", mustView(t, env, b, p), map[string]any{"name": nil})
}
