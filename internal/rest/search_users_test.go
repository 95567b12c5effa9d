package rest_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

// Search's users (REST.md §7, the spec's recommendation): users who share a
// dialog with the caller and whose login or full name contains the text.
func TestSearchFindsUsersSharingADialog(t *testing.T) {
	env := servertest.Start(t)
	me := env.NewUser(t)
	mate := env.NewUser(t)
	stranger := env.NewUser(t)
	for _, u := range []*servertest.User{mate, stranger} {
		wantStatus(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", u.ID), Token: u.Token,
			Body: map[string]any{"user": map[string]any{"full_name": "Zebra Crossing"}}}), http.StatusOK)
	}
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog.json", Token: me.Token,
		Body: map[string]any{"type": 3, "occupants_ids": []int64{mate.ID}}}), http.StatusCreated)
	resp := env.Do(t, req{Method: "GET", Path: "/chat/search.json?search_text=Zebra", Token: me.Token})
	wantStatus(t, resp, http.StatusOK)
	users := obj(t, resp.JSON, "results")["users"].([]any)
	sameIDs(t, ids(t, users, false), []int64{mate.ID})
	checkUserShape(t, users[0].(map[string]any))
	// Case-sensitive, like the rest of search.
	resp = env.Do(t, req{Method: "GET", Path: "/chat/search.json?search_text=zebra", Token: me.Token})
	sameIDs(t, ids(t, obj(t, resp.JSON, "results")["users"].([]any), false), []int64{})
}
