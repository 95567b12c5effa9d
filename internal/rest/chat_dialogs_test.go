package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/servertest"
)

// Dialog endpoints of REST.md §5, through the real server.

func TestCreateGroupDialogModel(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	// The SDK's body: occupants_ids and admins_ids as "1, 2" strings.
	resp := postDialog(t, env, a, map[string]any{"type": 2, "name": "Friday party", "occupants_ids": userIDs(b, c),
		"admins_ids": userIDs(b), "description": "lets dance the night away", "photo": "party.jpg",
		"extensions": map[string]any{"location": "Sun bar"}, "permissions": map[string]any{"allow_preview": true}})
	wantStatus(t, resp, http.StatusCreated)
	d := resp.JSON
	checkDialogShape(t, d)
	id := d["_id"].(string)
	want(t, "created group", d, map[string]any{"type": 2, "name": "Friday party", "description": "lets dance the night away",
		"photo": "party.jpg", "user_id": a.ID, "occupants_ids": []int64{a.ID, b.ID, c.ID}, "occupants_count": nil,
		"admins_ids": []int64{b.ID}, "pinned_messages_ids": []string{}, "last_message": nil, "last_message_id": nil,
		"last_message_user_id": nil, "last_message_date_sent": nil, "last_message_status": nil,
		"unread_messages_count": 0, "xmpp_room_jid": fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, id),
		"extensions": map[string]any{"location": "Sun bar"}, "permissions": map[string]any{"allow_preview": true}})
	if d["created_at"] != d["updated_at"] {
		t.Errorf("fresh dialog: created_at %v != updated_at %v", d["created_at"], d["updated_at"])
	}
	// Every member lists the same dialog with their own (zero) count.
	for _, u := range []*servertest.User{a, b, c} {
		v := mustView(t, env, u, id)
		checkDialogShape(t, v)
		for _, k := range dialogKeys {
			if mustJSON(v[k]) != mustJSON(d[k]) {
				t.Errorf("user %d lists %s = %s, create answered %s", u.ID, k, mustJSON(v[k]), mustJSON(d[k]))
			}
		}
	}
	// Other accepted forms of occupants_ids: numbers, numeric strings, "a,b".
	for _, occ := range []any{[]int64{b.ID, c.ID}, []string{fmt.Sprint(b.ID), fmt.Sprint(c.ID)}, fmt.Sprintf("%d,%d", b.ID, c.ID)} {
		d := newDialog(t, env, a, map[string]any{"type": 2, "name": "forms", "occupants_ids": occ})
		want(t, fmt.Sprintf("occupants_ids %v", occ), d, map[string]any{"occupants_ids": []int64{a.ID, b.ID, c.ID}})
	}
	// The caller's own id in the list is not doubled.
	d2 := newDialog(t, env, a, map[string]any{"type": 2, "name": "self", "occupants_ids": userIDs(a, b, b)})
	want(t, "own id listed", d2, map[string]any{"occupants_ids": []int64{a.ID, b.ID}, "description": nil, "photo": nil,
		"extensions": nil, "admins_ids": []int64{}})
}

func TestCreatePrivateDialogTwiceReturnsTheSame(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	resp := postDialog(t, env, a, map[string]any{"type": 3, "occupants_ids": b.ID, "name": "ignored", "photo": "ignored.png"})
	wantStatus(t, resp, http.StatusCreated)
	d := resp.JSON
	checkDialogShape(t, d)
	id := d["_id"].(string)
	want(t, "private", d, map[string]any{"type": 3, "name": b.Login, "photo": nil, "user_id": a.ID,
		"occupants_ids": []int64{a.ID, b.ID}, "occupants_count": nil, "xmpp_room_jid": nil, "unread_messages_count": 0,
		"last_message": nil, "last_message_status": nil, "admins_ids": []int64{}})
	// Again, by either side and in any accepted form: 200 and the same dialog.
	for _, again := range []struct {
		u    *servertest.User
		body map[string]any
	}{
		{a, map[string]any{"type": 3, "occupants_ids": b.ID}},
		{a, map[string]any{"type": 3, "occupants_ids": userIDs(a, b)}},
		{b, map[string]any{"type": "3", "occupants_ids": []string{fmt.Sprint(a.ID)}}},
	} {
		resp := postDialog(t, env, again.u, again.body)
		wantStatus(t, resp, http.StatusOK)
		if resp.JSON["_id"] != id {
			t.Fatalf("second create by %d made %v, want %s", again.u.ID, resp.JSON["_id"], id)
		}
	}
	if got := listedIDs(t, env, b, "type=3"); !slices.Equal(got, []string{id}) {
		t.Fatalf("b lists private dialogs %v, want only %s", got, id)
	}
	// A hidden private dialog comes back in the caller's list on create.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + id + ".json", Token: a.Token}))
	if dialogView(t, env, a, id) != nil {
		t.Fatal("deleted-for-me private dialog is still listed")
	}
	resp = postDialog(t, env, a, map[string]any{"type": 3, "occupants_ids": b.ID})
	wantStatus(t, resp, http.StatusOK)
	if resp.JSON["_id"] != id || dialogView(t, env, a, id) == nil {
		t.Fatalf("re-create after hiding: %s; listed: %v", resp.Raw, dialogView(t, env, a, id))
	}
}

func TestCreatePublicDialogSubscribeAndOccupants(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	d := newDialog(t, env, a, map[string]any{"type": 4, "name": "Lobby", "occupants_ids": userIDs(b, c)})
	checkDialogShape(t, d)
	id := d["_id"].(string)
	want(t, "public", d, map[string]any{"type": 4, "name": "Lobby", "user_id": a.ID, "occupants_ids": []int64{},
		"occupants_count": 1, "unread_messages_count": nil, "xmpp_room_jid": fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, id),
		"permissions": map[string]any{"allow_preview": false}})
	if mustView(t, env, a, id)["occupants_count"] != 1.0 {
		t.Fatal("creator's list does not show the subscription")
	}
	if dialogView(t, env, b, id) != nil {
		t.Fatal("occupants_ids of a public dialog subscribed b")
	}
	for range 2 { // idempotent
		resp := env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + id + "/subscribe.json", Token: b.Token,
			ContentType: "application/json;charset=utf-8"})
		wantStatus(t, resp, http.StatusOK)
		checkDialogShape(t, resp.JSON)
		want(t, "subscribe answer", resp.JSON, map[string]any{"_id": id, "occupants_count": 2, "occupants_ids": []int64{},
			"unread_messages_count": nil})
	}
	want(t, "b's view", mustView(t, env, b, id), map[string]any{"occupants_count": 2, "unread_messages_count": nil})
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + id + "/occupants.json", Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	occ := resp.JSON["items"].([]any)
	sameIDs(t, ids(t, occ, false), []int64{a.ID, b.ID})
	for _, u := range occ {
		checkUserShape(t, u.(map[string]any))
	}
	resp = env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + id + "/occupants.json?limit=1&skip=1", Token: a.Token})
	wantStatus(t, resp, http.StatusOK)
	sameIDs(t, ids(t, resp.JSON["items"].([]any), false), []int64{b.ID})
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + id + "/occupants.json?limit=101", Token: a.Token}), 422, "limit")
	// Unsubscribe: TEXT, the dialog leaves b's list, the count drops.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + id + "/subscribe.json", Token: b.Token}))
	if dialogView(t, env, b, id) != nil {
		t.Fatal("unsubscribed dialog still listed")
	}
	want(t, "after unsubscribe", mustView(t, env, a, id), map[string]any{"occupants_count": 1})
	// Lower-case "dialog" in the path (the docs' spelling) works too.
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/dialog/" + id + "/subscribe.json", Token: c.Token}), 200)
	want(t, "c subscribed", mustView(t, env, c, id), map[string]any{"occupants_count": 2})
	// The owner who unsubscribes still sees the dialog (occupants) but no longer lists it.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + id + "/subscribe.json", Token: a.Token}))
	if dialogView(t, env, a, id) != nil {
		t.Fatal("unsubscribed owner still lists the public dialog")
	}
	resp = env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + id + "/occupants.json", Token: a.Token})
	wantStatus(t, resp, http.StatusOK)
	sameIDs(t, ids(t, resp.JSON["items"].([]any), false), []int64{c.ID})
}

func TestSubscribeToGroupAndBroadcast(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "open group", b)
	send(t, env, a, g, "before c")
	resp := env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + g + "/subscribe.json", Token: c.Token})
	wantStatus(t, resp, http.StatusOK)
	want(t, "group subscribe", resp.JSON, map[string]any{"occupants_ids": []int64{a.ID, b.ID, c.ID}, "unread_messages_count": 1})
	// Unsubscribe from a group = leave.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + g + "/subscribe.json", Token: c.Token}))
	want(t, "after leaving", mustView(t, env, a, g), map[string]any{"occupants_ids": []int64{a.ID, b.ID}})
	// Private: 403 for a participant, 404 for anyone else.
	p := newPrivate(t, env, a, b)
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + p + "/subscribe.json", Token: b.Token}), 403, "base")
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + p + "/subscribe.json", Token: b.Token}), 403, "base")
	sameAnswer(t, "subscribe to others' private dialog",
		env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + p + "/subscribe.json", Token: c.Token}),
		env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + unknownID + "/subscribe.json", Token: c.Token}))
	// Broadcast: hide by unsubscribing, show again by subscribing.
	bc, err := env.Server.Chat.CreateBroadcast(context.Background(), env.App.ID, a.ID, "news", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + bc.ID + "/subscribe.json", Token: b.Token}))
	if dialogView(t, env, b, bc.ID) != nil {
		t.Fatal("unsubscribed broadcast still listed")
	}
	resp = env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + bc.ID + "/subscribe.json", Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	if dialogView(t, env, b, bc.ID) == nil {
		t.Fatal("subscribe did not un-hide the broadcast")
	}
}

func TestBroadcastDialog(t *testing.T) {
	env := servertest.Start(t)
	a, b, admin := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	wantError(t, postDialog(t, env, a, map[string]any{"type": 1, "name": "mine"}), 403, "base")
	bc, err := env.Server.Chat.CreateBroadcast(context.Background(), env.App.ID, a.ID, "news", []int64{admin.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*servertest.User{a, b, admin} {
		v := mustView(t, env, u, bc.ID)
		checkDialogShape(t, v)
		want(t, "broadcast", v, map[string]any{"type": 1, "name": "news", "occupants_ids": []int64{}, "occupants_count": nil,
			"unread_messages_count": nil, "admins_ids": []int64{admin.ID}, "user_id": a.ID,
			"xmpp_room_jid": fmt.Sprintf("%d_%s@muc.localhost", env.App.ID, bc.ID)})
	}
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: b.Token,
		Body: map[string]any{"chat_dialog_id": bc.ID, "message": "me too"}}), 403, "base")
	m := send(t, env, a, bc.ID, "hello all")
	want(t, "broadcast message", m, map[string]any{"views_count": 0, "read": 0, "recipient_id": 0})
	send(t, env, admin, bc.ID, "from admin")
	got := history(t, env, b, bc.ID, "")
	if len(got) != 2 {
		t.Fatalf("b reads %d broadcast messages, want 2", len(got))
	}
	want(t, "read by b", got[0], map[string]any{"views_count": 1, "read": 1, "read_ids": []int64{a.ID, b.ID}})
	want(t, "a's view", mustView(t, env, a, bc.ID), map[string]any{"unread_messages_count": nil, "last_message": "from admin",
		"last_message_status": nil})
	want(t, "admin's view", mustView(t, env, admin, bc.ID), map[string]any{"last_message_status": "read"})
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + bc.ID + "/occupants.json", Token: b.Token}), 422, "type")
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + bc.ID + "/notifications.json", Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	want(t, "notifications", resp.JSON, map[string]any{"notifications": map[string]any{"enabled": 1}})
	// Hidden for b by delete-for-me; a new message shows it again.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + bc.ID + ".json", Token: b.Token}))
	if dialogView(t, env, b, bc.ID) != nil {
		t.Fatal("hidden broadcast still listed")
	}
	if mustView(t, env, a, bc.ID) == nil {
		t.Fatal("b's hiding hid it for a")
	}
	send(t, env, a, bc.ID, "again")
	mustView(t, env, b, bc.ID)
	// Only the owner and admins change it; a regular user gets 403.
	w := watch(t, env, bc.ID, a, b)
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + bc.ID + ".json", Token: b.Token,
		Body: map[string]any{"name": "taken over"}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + bc.ID + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"occupants_ids": []int64{b.ID}}}}), 422, "occupants_ids")
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + bc.ID + ".json", Token: b.Token, Body: "force=1",
		ContentType: "application/x-www-form-urlencoded"}), 403, "base")
	w.unchanged(t, "refused broadcast changes")
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + bc.ID + ".json", Token: admin.Token, Body: map[string]any{"name": "news!"}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "renamed by admin", resp.JSON, map[string]any{"name": "news!"})
}

func TestDialogExtensions(t *testing.T) {
	env := servertest.Start(t)
	app := newApp(t, env, "x", []string{"location", "color"})
	a, b := appUser(t, env, app, "exta"), appUser(t, env, app, "extb")
	d := newDialog(t, env, a, map[string]any{"type": 2, "name": "bar", "occupants_ids": b.ID,
		"extensions": map[string]any{"location": "Sun bar", "color": 5, "secret": "dropped"}})
	want(t, "create", d, map[string]any{"extensions": map[string]any{"location": "Sun bar", "color": "5"}})
	id := d["_id"].(string)
	other := newDialog(t, env, a, map[string]any{"type": 2, "name": "other", "occupants_ids": b.ID,
		"extensions": map[string]any{"location": "Moon bar", "color": true}})
	want(t, "bool cast", other, map[string]any{"extensions": map[string]any{"location": "Moon bar", "color": "true"}})
	// Filters on extensions, as the SDK sends them (Sun%20bar).
	sameStrings(t, "extensions[location]=Sun bar", listedIDs(t, env, b, "extensions%5Blocation%5D=Sun%20bar"), []string{id})
	sameStrings(t, "extensions[color]=true", listedIDs(t, env, b, "extensions[color]=true"), []string{other["_id"].(string)})
	sameSet(t, "extensions[location][ctn]=bar", listedIDs(t, env, b, "extensions[location][ctn]=bar"), []string{id, other["_id"].(string)})
	// Update: values cast, unknown keys dropped; null clears.
	resp := env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Token: b.Token,
		Body: map[string]any{"extensions": map[string]any{"location": "Deck", "color": 7.5, "size": "XL"}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "update", resp.JSON, map[string]any{"extensions": map[string]any{"location": "Deck", "color": "7.5"}})
	want(t, "listed after update", mustView(t, env, a, id), map[string]any{"extensions": map[string]any{"location": "Deck", "color": "7.5"}})
	w := watch(t, env, id, a)
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Token: a.Token,
		Body: map[string]any{"extensions": map[string]any{"location": strings.Repeat("x", 1025)}}}), 422, "extensions")
	wantError(t, postDialog(t, env, a, map[string]any{"type": 2, "name": "big", "occupants_ids": b.ID,
		"extensions": map[string]any{"color": strings.Repeat("é", 1025)}}), 422, "extensions")
	w.unchanged(t, "oversize extensions")
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Token: a.Token, Body: `{"extensions": null}`,
		ContentType: "application/json"})
	wantStatus(t, resp, http.StatusOK)
	want(t, "cleared", resp.JSON, map[string]any{"extensions": nil})
	// The default app has no allow-list: at most three keys are kept.
	u, v := env.NewUser(t), env.NewUser(t)
	resp = postDialog(t, env, u, `{"type":2,"name":"free","occupants_ids":"`+fmt.Sprint(v.ID)+`","extensions":{"zeta":"1","alpha":"2","mid":"3","beta":"4"}}`)
	wantStatus(t, resp, 201)
	if ext, _ := resp.JSON["extensions"].(map[string]any); len(ext) != 3 {
		t.Errorf("default app kept extensions %v, want three of the four", resp.JSON["extensions"])
	}
}

// REST.md §5.2: "keys not in the allow-list are silently dropped" — whatever
// the key looks like.
func TestDialogExtensionsDropAnyUnknownKey(t *testing.T) {
	env := servertest.Start(t)
	app := newApp(t, env, "x", []string{"location", "color"})
	a, b := appUser(t, env, app, "exta"), appUser(t, env, app, "extb")
	resp := postDialog(t, env, a, map[string]any{"type": 2, "name": "bar", "occupants_ids": b.ID,
		"extensions": map[string]any{"location": "Sun bar", "my-key": "x", "with space": "y"}})
	wantStatus(t, resp, http.StatusCreated)
	want(t, "create", resp.JSON, map[string]any{"extensions": map[string]any{"location": "Sun bar"}})
}

func TestDialogListFilters(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g1 := newGroup(t, env, a, "Friday party", b, c)
	g2 := newGroup(t, env, a, "Monday", b)
	p1 := newPrivate(t, env, a, c)
	pub := newPublic(t, env, a, "Party public", false)
	g3 := newGroup(t, env, b, "by b", a)
	all := []string{g1, g2, p1, pub, g3}
	cases := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"type=2", []string{g1, g2, g3}},
		{"type%5Bin%5D=2%2C3", []string{g1, g2, p1, g3}},
		{"type[in][]=3&type[in][]=4", []string{p1, pub}},
		{"type[nin]=2", []string{p1, pub}},
		{"type[ne]=2", []string{p1, pub}},
		{"name%5Bctn%5D=a&type=3%2C4", []string{pub}}, // an array after an object arrives joined (REST.md §1.4)
		{"type[gte]=3", []string{p1, pub}},
		{"type[lt]=3", []string{g1, g2, g3}},
		{"name%5Bctn%5D=party", []string{g1}}, // case-sensitive: not "Party public"
		{"name[ctn]=Party", []string{pub}},
		{"name=Monday", []string{g2}},
		{"occupants_ids=" + fmt.Sprint(c.ID), []string{g1, p1}},
		{"occupants_ids[]=" + fmt.Sprint(c.ID), []string{g1, p1}},
		{"occupants_ids%5Ball%5D=" + q(userIDs(c, b)), []string{g1}},
		{"occupants_ids[all]=" + fmt.Sprint(b.ID), []string{g1, g2, g3}},
		{"occupants_ids[in]=" + fmt.Sprint(c.ID), []string{g1, p1}},
		{"_id=" + g2, []string{g2}},
		{"_id[in]=" + g1 + "," + pub, []string{g1, pub}},
		{"_id[nin]=" + g1 + "," + pub, []string{g2, p1, g3}},
		{"_id[ne]=" + g1, []string{g2, p1, pub, g3}},
		{"_id=" + unknownID, nil},
		{"user_id=" + fmt.Sprint(b.ID), []string{g3}},
		{"user_id=" + fmt.Sprint(a.ID) + "&type=2", []string{g1, g2}},
		{"user_id[ne]=" + fmt.Sprint(a.ID), []string{g3}},
		{"last_message_date_sent=undefined", all},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp := listed(t, env, a, tc.query)
			wantStatus(t, resp, http.StatusOK)
			got := idsOf(items(t, resp))
			sameSet(t, tc.query, got, tc.want)
			if n := num(t, resp.JSON, "total_entries"); n != int64(len(tc.want)) {
				t.Errorf("total_entries = %d, want %d", n, len(tc.want))
			}
			want(t, "page", resp.JSON, map[string]any{"skip": 0, "limit": 100})
		})
	}
	t.Run("count=1", func(t *testing.T) {
		resp := listed(t, env, a, "count=1&type=2")
		wantStatus(t, resp, http.StatusOK)
		want(t, "count", resp.JSON, map[string]any{"total_entries": 3, "items": []any{}})
	})
	t.Run("skip and limit", func(t *testing.T) {
		full := listedIDs(t, env, a, "sort_asc=_id")
		resp := listed(t, env, a, "sort_asc=_id&skip=1&limit=2")
		wantStatus(t, resp, http.StatusOK)
		want(t, "page", resp.JSON, map[string]any{"total_entries": 5, "skip": 1, "limit": 2})
		sameStrings(t, "page ids", idsOf(items(t, resp)), full[1:3])
		sameStrings(t, "past the end", listedIDs(t, env, a, "skip=5"), nil)
	})
	// An array after an object is sent comma-joined (REST.md §1.4:
	// {name: {ctn: "x"}, _id: ["b", "a"]} → _id=a,b&name[ctn]=x); it is a
	// list (§1.4 rule 3), so it matches either id.
	t.Run("_id as the SDK's joined array", func(t *testing.T) {
		resp := listed(t, env, a, "_id="+g2+"%2C"+g1+"&name%5Bctn%5D=day")
		wantStatus(t, resp, http.StatusOK)
		sameSet(t, "ids", idsOf(items(t, resp)), []string{g1, g2})
	})
	// The other user sees only their own list.
	sameSet(t, "b's list", listedIDs(t, env, b, ""), []string{g1, g2, g3})
	sameSet(t, "c's list", listedIDs(t, env, c, ""), []string{g1, p1})
}

func TestDialogListRejectsBadFilters(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	for _, tc := range []struct {
		query  string
		status int
		field  string
	}{
		{"name[regex]=x", 422, "base"},
		{"foo=1", 422, "base"},
		{"occupants_ids[ctn]=1", 422, "base"},
		{"name[all]=x", 422, "base"},
		{"type[ctn]=2", 422, "base"},
		{"type=x", 422, "base"},
		{"user_id=abc", 422, "base"},
		{"occupants_ids=me", 422, "base"},
		{"updated_at[gt]=yesterday", 422, "base"},
		{"created_at[lt]=2024-13-45", 422, "base"},
		{"last_message_date_sent[gt]=soon", 422, "base"},
		{"type[in]=", 422, "base"},
		{"extensions[bad-name]=1", 422, "base"},
		{"sort_desc=foo", 422, "base"},
		{"sort_asc=occupants_ids", 422, "base"},
		{"sort_asc=name&sort_desc=type", 422, "base"},
		{"limit=101", 422, "limit"},
		{"limit=-1", 422, "limit"},
		{"limit=ten", 422, "limit"},
		{"skip=-1", 422, "skip"},
		{"count=2", 422, "count"},
		{"_id=xyz", 400, "base"},
		{"_id=" + strings.ToUpper(g), 400, "base"},
		{"_id[in]=" + g + ",xyz", 400, "base"},
		{"_id[ne]=" + g[:23], 400, "base"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			wantError(t, listed(t, env, a, tc.query), tc.status, tc.field)
		})
	}
}

func TestDialogSortKeys(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	created := nextSecond(env, 100*time.Millisecond).Unix()
	g := newGroup(t, env, a, "bravo", b) // created first
	env.Clock.Advance(2 * time.Second)
	pub := newPublic(t, env, a, "alpha", false)
	env.Clock.Advance(2 * time.Second)
	p := newPrivate(t, env, a, b)
	env.Clock.Advance(2 * time.Second)
	lastSent := num(t, send(t, env, b, g, "newest"), "date_sent") // g: last message, and the latest updated_at
	byID := []string{g, pub, p}
	sort.Strings(byID)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sort_desc=last_message_date_sent", []string{g, p, pub}}, // no message: by created_at
		{"sort_asc=last_message_date_sent", []string{pub, p, g}},
		{"sort_desc=date_sent", []string{g, p, pub}}, // the docs' alias
		{"sort_asc=date_sent", []string{pub, p, g}},
		{"sort_asc=created_at", []string{g, pub, p}},
		{"sort_desc=created_at", []string{p, pub, g}},
		{"sort_asc=updated_at", []string{pub, p, g}},
		{"sort_desc=updated_at", []string{g, p, pub}},
		{"sort_asc=_id", byID},
		{"sort_desc=_id", []string{byID[2], byID[1], byID[0]}},
		{"sort_asc=type", []string{g, p, pub}},
		{"sort_desc=type", []string{pub, p, g}},
		{"sort_asc=name&type[in]=2,4", []string{pub, g}},
		{"sort_desc=name&type[in]=2,4", []string{g, pub}},
		{"sort_asc=created_at&skip=1&limit=1", []string{pub}},
		// Comparisons on the other date fields.
		{fmt.Sprintf("sort_asc=created_at&last_message_date_sent[gt]=%d", lastSent-1), []string{g}},
		{fmt.Sprintf("sort_asc=created_at&last_message_date_sent[lte]=%d", lastSent), []string{g}},
		{fmt.Sprintf("sort_asc=created_at&last_message_date_sent[lt]=%d", lastSent), nil},
		// (each step happened at .1 s past a second, compared at full precision)
		{fmt.Sprintf("sort_asc=created_at&created_at[lte]=%d", created+2), []string{g}},
		{fmt.Sprintf("sort_asc=created_at&created_at[lte]=%d.6", created+2), []string{g, pub}},
		{fmt.Sprintf("sort_asc=created_at&created_at[gte]=%d", created+2), []string{pub, p}},
		{fmt.Sprintf("sort_asc=created_at&created_at[gt]=%d", created+5), nil},
		{fmt.Sprintf("sort_asc=created_at&updated_at[gte]=%d", created+4), []string{g, p}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			sameStrings(t, tc.query, listedIDs(t, env, a, tc.query), tc.want)
		})
	}
	// Two dialogs created within one second tie on last_message_date_sent
	// (by created_at): _id breaks the tie in the same direction.
	c := env.NewUser(t)
	nextSecond(env, 100*time.Millisecond)
	ties := []string{newGroup(t, env, c, "tie one", b), newGroup(t, env, c, "tie two", b)}
	sort.Strings(ties)
	sameStrings(t, "tie desc", listedIDs(t, env, c, "sort_desc=last_message_date_sent"), []string{ties[1], ties[0]})
	sameStrings(t, "tie asc", listedIDs(t, env, c, "sort_asc=date_sent"), ties)
}

// REST.md §1.10: updated_at filters compare at the stored sub-second time.
func TestDialogUpdatedAtFilterSubSecond(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	old := newGroup(t, env, a, "old", b)
	sec := nextSecond(env, 500*time.Millisecond).Unix() // what follows happens at sec.5xx
	fresh := newGroup(t, env, a, "fresh", b)
	v := mustView(t, env, a, fresh)
	if want := time.Unix(sec, 0).UTC().Format(time.RFC3339); v["updated_at"] != want {
		t.Fatalf("updated_at = %v, want %s (truncated, not rounded)", v["updated_at"], want)
	}
	iso := func(frac string) string { return q(time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05") + frac + "Z") }
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{fmt.Sprintf("updated_at%%5Bgt%%5D=%d", sec), []string{fresh}}, // .5 > .000 within the same second
		{fmt.Sprintf("updated_at[gt]=%d.25", sec), []string{fresh}},
		{fmt.Sprintf("updated_at[gt]=%d.95", sec), nil},
		{fmt.Sprintf("updated_at[lt]=%d.95", sec), []string{old, fresh}},
		{fmt.Sprintf("updated_at[lt]=%d", sec), []string{old}},
		{"updated_at[gt]=" + iso(".250"), []string{fresh}},
		{"updated_at[gt]=" + iso(".950"), nil},
		{"updated_at[gte]=" + iso(""), []string{fresh}},
		{"updated_at[gt]=" + q(time.Unix(sec, 0).UTC().Format("Mon Jan 02 2006 15:04:05 GMT-0700")+" (Coordinated Universal Time)"), []string{fresh}},
		{fmt.Sprintf("created_at[gt]=%d&updated_at[lt]=%d", sec, sec+1), []string{fresh}},
		{fmt.Sprintf("updated_at[gt]=%d", sec+1), nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			sameSet(t, tc.query, listedIDs(t, env, a, tc.query), tc.want)
		})
	}
	// A message moves updated_at: the sync query returns the old dialog.
	env.Clock.Advance(time.Second)
	send(t, env, b, old, "wake up")
	sameSet(t, "after a message", listedIDs(t, env, a, fmt.Sprintf("updated_at[gt]=%d.95", sec)), []string{old})
}

func TestLastMessageFieldsAndStatus(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	p := newPrivate(t, env, a, b)
	created := mustView(t, env, a, p)
	env.Clock.Advance(2 * time.Second)
	m1 := send(t, env, a, p, "see you there")
	id1 := m1["_id"].(string)
	va := mustView(t, env, a, p)
	want(t, "sender's view", va, map[string]any{"last_message": "see you there", "last_message_id": id1,
		"last_message_user_id": a.ID, "last_message_date_sent": m1["date_sent"], "last_message_status": "sent",
		"unread_messages_count": 0})
	if va["updated_at"] == created["updated_at"] {
		t.Errorf("updated_at did not move with the message: %v", va["updated_at"])
	}
	want(t, "recipient's view", mustView(t, env, b, p), map[string]any{"last_message_id": id1, "last_message_status": nil,
		"unread_messages_count": 1})
	// Reading without marking changes nothing.
	peek(t, env, b, p)
	want(t, "after peek", mustView(t, env, a, p), map[string]any{"last_message_status": "sent"})
	// delivered=1 by the other side: "delivered", still unread for b.
	env.Clock.Advance(time.Second)
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + id1 + ".json", Token: b.Token,
		Body: map[string]any{"delivered": 1, "chat_dialog_id": p}}))
	want(t, "delivered", mustView(t, env, a, p), map[string]any{"last_message_status": "delivered"})
	want(t, "b still unread", mustView(t, env, b, p), map[string]any{"unread_messages_count": 1})
	got := peek(t, env, a, p)
	want(t, "receipts after delivery", got[0], map[string]any{"read_ids": []int64{a.ID}, "delivered_ids": []int64{a.ID, b.ID}, "read": 0})
	if got[0]["updated_at"] == m1["updated_at"] {
		t.Errorf("delivery did not move the message's updated_at (%v)", m1["updated_at"])
	}
	// Mark all read (the seed's PUT /chat/Message.json): "read" for a.
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: b.Token,
		Body: map[string]any{"read": 1, "chat_dialog_id": p}}))
	want(t, "read", mustView(t, env, a, p), map[string]any{"last_message_status": "read"})
	want(t, "b read all", mustView(t, env, b, p), map[string]any{"unread_messages_count": 0})
	// b answers: the last message moves and a's status is null again.
	env.Clock.Advance(time.Second)
	m2 := send(t, env, b, p, "")
	want(t, "after b's answer", mustView(t, env, a, p), map[string]any{"last_message": "", "last_message_id": m2["_id"],
		"last_message_user_id": b.ID, "last_message_date_sent": m2["date_sent"], "last_message_status": nil,
		"unread_messages_count": 1})
	want(t, "b's own", mustView(t, env, b, p), map[string]any{"last_message_status": "sent"})
	// Groups: "read" when any other member read it.
	g := newGroup(t, env, a, "g", b, c)
	send(t, env, a, g, "group hello")
	want(t, "group sent", mustView(t, env, a, g), map[string]any{"last_message_status": "sent"})
	history(t, env, c, g, "")
	want(t, "group read by c", mustView(t, env, a, g), map[string]any{"last_message_status": "read"})
	want(t, "b's count", mustView(t, env, b, g), map[string]any{"unread_messages_count": 1, "last_message_status": nil})
}

func TestUpdateDialog(t *testing.T) {
	env := servertest.Start(t)
	a, b, c, d := env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	before := mustView(t, env, a, g)
	env.Clock.Advance(time.Second)
	// Any occupant edits the info.
	resp := env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: b.Token, Body: map[string]any{
		"name": "Crossfit2", "photo": "gym2.jpeg", "description": "d", "permissions": map[string]any{"allow_preview": true}}})
	wantStatus(t, resp, http.StatusOK)
	checkDialogShape(t, resp.JSON)
	want(t, "edited", resp.JSON, map[string]any{"name": "Crossfit2", "photo": "gym2.jpeg", "description": "d",
		"permissions": map[string]any{"allow_preview": true}, "unread_messages_count": 0, "user_id": a.ID})
	if resp.JSON["updated_at"] == before["updated_at"] {
		t.Error("updated_at did not move with the update")
	}
	// Any occupant adds occupants (numbers or numeric strings).
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: c.Token,
		Body: map[string]any{"push_all": map[string]any{"occupants_ids": []string{fmt.Sprint(d.ID)}}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "pushed", resp.JSON, map[string]any{"occupants_ids": []int64{a.ID, b.ID, c.ID, d.ID}})
	mustView(t, env, d, g)
	// Pins: owner and admins only.
	m := send(t, env, c, g, "pin me")["_id"].(string)
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"pinned_messages_ids": []string{m}}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "pinned", resp.JSON, map[string]any{"pinned_messages_ids": []string{m}})
	w := watch(t, env, g, a, b)
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: b.Token,
		Body: map[string]any{"pull_all": map[string]any{"pinned_messages_ids": []string{m}}}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"pinned_messages_ids": []string{unknownID}}}}), 422, "pinned_messages_ids")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"pinned_messages_ids": []string{"xyz"}}}}), 400, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"occupants_ids": []int64{999999}}}}), 422, "occupants_ids")
	w.unchanged(t, "refused updates")
	// A regular occupant removes themselves (the seed's "leave").
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: b.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{b.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	if dialogView(t, env, b, g) != nil {
		t.Fatal("b left but still lists the group")
	}
	want(t, "after b left", mustView(t, env, a, g), map[string]any{"occupants_ids": []int64{a.ID, c.ID, d.ID}})
	// The owner removes another occupant; it then cannot see the group.
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{d.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "after kick", resp.JSON, map[string]any{"occupants_ids": []int64{a.ID, c.ID}})
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g, Token: d.Token}), 403, "base") // allow_preview is on
	// Removing an admin from the occupants removes it from admins_ids too.
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{c.ID}}}}), 200)
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"occupants_ids": []int64{b.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{c.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "admin kicked", resp.JSON, map[string]any{"occupants_ids": []int64{a.ID, b.ID}, "admins_ids": []int64{}})
	// The owner removing themselves with pull_all hands ownership on.
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{a.ID}}}})
	if resp.Status != http.StatusOK && resp.Status != http.StatusNotFound {
		t.Fatalf("owner leaves by pull_all: %d %s", resp.Status, resp.Raw)
	}
	want(t, "owner left", mustView(t, env, b, g), map[string]any{"user_id": b.ID, "occupants_ids": []int64{b.ID}})
	// Private dialogs: info ignored (200), occupants 403.
	p := newPrivate(t, env, a, b)
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + p + ".json", Token: a.Token, Body: map[string]any{"name": "x", "photo": "y"}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "private info", resp.JSON, map[string]any{"name": b.Login, "photo": nil, "_id": p})
	resp = env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + p + "/occupants.json", Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	sameIDs(t, ids(t, resp.JSON["items"].([]any), false), []int64{a.ID, b.ID})
	// Public: owner edits, a subscriber may not.
	pub := newPublic(t, env, a, "pub", false)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: b.Token}), 200)
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + pub + ".json", Token: a.Token, Body: map[string]any{"name": "pub2"}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "public renamed", resp.JSON, map[string]any{"name": "pub2", "occupants_count": 2})
	w = watch(t, env, pub, a, b)
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + pub + ".json", Token: b.Token, Body: map[string]any{"name": "mine"}}), 403, "base")
	w.unchanged(t, "subscriber renaming")
}

func TestOwnerLeavingHandsOwnershipOn(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	resp := env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{c.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + g + ".json", Token: a.Token}))
	want(t, "new owner", mustView(t, env, b, g), map[string]any{"user_id": c.ID, "admins_ids": []int64{},
		"occupants_ids": []int64{b.ID, c.ID}})
	// No admins: the longest-standing occupant.
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + g + "/subscribe.json", Token: c.Token}))
	want(t, "last one", mustView(t, env, b, g), map[string]any{"user_id": b.ID, "occupants_ids": []int64{b.ID}})
	// The last occupant leaving deletes the dialog (the answer to that
	// request is not specified; what follows is).
	env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: b.Token,
		Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{b.ID}}}})
	if dialogView(t, env, b, g) != nil {
		t.Fatal("the last occupant left but still lists the group")
	}
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + g + "/subscribe.json", Token: a.Token}), 404, "base")
}

func TestAdminsEndpoint(t *testing.T) {
	env := servertest.Start(t)
	users := make([]*servertest.User, 8)
	for i := range users {
		users[i] = env.NewUser(t)
	}
	owner, others := users[0], users[1:]
	g := newGroup(t, env, owner, "g", others...)
	put := func(u *servertest.User, body any) *servertest.Response {
		return env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Token: u.Token, Body: body})
	}
	five := []int64{others[0].ID, others[1].ID, others[2].ID, others[3].ID, others[4].ID}
	resp := put(owner, map[string]any{"push_all": map[string]any{"admins_ids": five}})
	wantStatus(t, resp, http.StatusOK)
	checkDialogShape(t, resp.JSON)
	want(t, "five admins", resp.JSON, map[string]any{"admins_ids": five})
	w := watch(t, env, g, owner, others[0])
	wantError(t, put(owner, map[string]any{"push_all": map[string]any{"admins_ids": []int64{others[5].ID}}}), 422, "admins_ids")
	wantError(t, put(others[0], map[string]any{"push_all": map[string]any{"admins_ids": []int64{others[6].ID}}}), 403, "base")
	wantError(t, put(others[5], map[string]any{"pull_all": map[string]any{"admins_ids": []int64{others[0].ID}}}), 403, "base")
	wantError(t, put(others[0], map[string]any{"pull_all": map[string]any{"admins_ids": []int64{others[1].ID}}}), 403, "base")
	// Via the dialog update too.
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: others[5].Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{others[5].ID}}}}), 403, "base")
	outsider := env.NewUser(t)
	wantError(t, put(owner, map[string]any{"push_all": map[string]any{"admins_ids": []int64{outsider.ID}}}), 422, "admins_ids")
	w.unchanged(t, "refused admin changes")
	resp = put(owner, map[string]any{"pull_all": map[string]any{"admins_ids": []int64{others[0].ID}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "removed", resp.JSON, map[string]any{"admins_ids": five[1:]})
	// Private: 403; creating with six admins: 422.
	p := newPrivate(t, env, owner, others[0])
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + p + "/admins.json", Token: owner.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{others[0].ID}}}}), 403, "base")
	wantError(t, postDialog(t, env, owner, map[string]any{"type": 2, "name": "six", "occupants_ids": userIDs(others...),
		"admins_ids": userIDs(others[:6]...)}), 422, "admins_ids")
}

func TestNotificationSettings(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	path := "/chat/Dialog/" + g + "/notifications.json"
	resp := env.Do(t, req{Method: "GET", Path: path, Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	want(t, "default", resp.JSON, map[string]any{"notifications": map[string]any{"enabled": 1}})
	for _, tc := range []struct {
		body any
		want int
	}{{map[string]any{"enabled": 0}, 0}, {map[string]any{"enabled": "1"}, 1}, {map[string]any{"enabled": "0"}, 0}} {
		resp = env.Do(t, req{Method: "PUT", Path: path, Token: b.Token, Body: tc.body})
		wantStatus(t, resp, http.StatusOK)
		want(t, "put", resp.JSON, map[string]any{"notifications": map[string]any{"enabled": tc.want}})
		resp = env.Do(t, req{Method: "GET", Path: path, Token: b.Token})
		want(t, "get", resp.JSON, map[string]any{"notifications": map[string]any{"enabled": tc.want}})
	}
	// Per user: a's setting is untouched.
	want(t, "a's", env.Do(t, req{Method: "GET", Path: path, Token: a.Token}).JSON,
		map[string]any{"notifications": map[string]any{"enabled": 1}})
	wantError(t, env.Do(t, req{Method: "PUT", Path: path, Token: b.Token, Body: map[string]any{}}), 422, "enabled")
	wantError(t, env.Do(t, req{Method: "PUT", Path: path, Token: b.Token, Body: map[string]any{"enabled": 2}}), 422, "enabled")
	// Not visible: 404 like an unknown dialog; visible without membership: 403.
	sameAnswer(t, "non-member GET", env.Do(t, req{Method: "GET", Path: path, Token: c.Token}),
		env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + unknownID + "/notifications.json", Token: c.Token}))
	pub := newPublic(t, env, a, "pub", false)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: a.Token}))
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + pub + "/notifications.json", Token: a.Token}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + pub + "/notifications.json", Token: a.Token,
		Body: map[string]any{"enabled": 0}}), 403, "base")
	prev := newPublic(t, env, a, "preview", true)
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + prev + "/notifications.json", Token: c.Token}), 403, "base")
}

func TestDeleteDialogForMe(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	// Private: hidden with its history for a only.
	p := newPrivate(t, env, a, b)
	send(t, env, a, p, "one")
	send(t, env, b, p, "two")
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + p + ".json", Token: a.Token}))
	if dialogView(t, env, a, p) != nil {
		t.Fatal("private dialog still in a's list")
	}
	sameStrings(t, "a's history after delete-for-me", bodies(peek(t, env, a, p)), nil)
	want(t, "a's unread", unread(t, env, a, "chat_dialog_ids="+p), map[string]any{"total": 0, p: 0})
	want(t, "b's view", mustView(t, env, b, p), map[string]any{"occupants_ids": []int64{a.ID, b.ID}, "last_message": "two",
		"unread_messages_count": 1})
	sameStrings(t, "b's history", bodies(peek(t, env, b, p)), []string{"one", "two"})
	// A new message brings it back for a, with only the new history.
	send(t, env, b, p, "three")
	want(t, "a's view again", mustView(t, env, a, p), map[string]any{"last_message": "three", "unread_messages_count": 1})
	sameStrings(t, "a's history after return", bodies(peek(t, env, a, p)), []string{"three"})
	// Group: the caller leaves; the others keep dialog and history.
	g := newGroup(t, env, a, "g", b, c)
	send(t, env, b, g, "hi")
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + g + ".json", Token: c.Token}))
	if dialogView(t, env, c, g) != nil {
		t.Fatal("c left but lists the group")
	}
	want(t, "a's group", mustView(t, env, a, g), map[string]any{"occupants_ids": []int64{a.ID, b.ID}, "unread_messages_count": 1})
	sameStrings(t, "a's group history", bodies(peek(t, env, a, g)), []string{"hi"})
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g, Token: c.Token}), 404, "base")
	// Public: unsubscribes.
	pub := newPublic(t, env, a, "pub", false)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: b.Token}), 200)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + pub + ".json", Token: b.Token}))
	want(t, "public after b's delete", mustView(t, env, a, pub), map[string]any{"occupants_count": 1})
}

func TestDeleteDialogForEveryone(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	m := send(t, env, b, g, "bye")["_id"].(string)
	force := func(u *servertest.User, ids string) *servertest.Response {
		return env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + ids + ".json", Token: u.Token, Body: "force=1",
			ContentType: "application/x-www-form-urlencoded; charset=UTF-8"})
	}
	w := watch(t, env, g, a, b)
	wantError(t, force(b, g), 403, "base")
	w.unchanged(t, "force delete by a member")
	// Several ids: a JSON report; malformed, unknown and invisible ids are NotFound.
	other := newGroup(t, env, b, "b's", c) // a cannot see it
	mine := newGroup(t, env, a, "mine", c)
	notOwned := newGroup(t, env, c, "c's", a)
	resp := force(a, strings.Join([]string{mine, unknownID, "xyz", other, notOwned}, ",%20"))
	del, nf, wrong := report(t, resp)
	sameStrings(t, "SuccessfullyDeleted", del, []string{mine})
	sameSet(t, "NotFound", nf, []string{unknownID, "xyz", other})
	sameStrings(t, "WrongPermissions", wrong, []string{notOwned})
	mustView(t, env, a, notOwned)
	mustView(t, env, b, other)
	// Several ids, all refused: still 200 with all three keys.
	del, nf, wrong = report(t, force(b, g+","+unknownID))
	if len(del) != 0 || !slices.Equal(nf, []string{unknownID}) || !slices.Equal(wrong, []string{g}) {
		t.Fatalf("report = %v %v %v", del, nf, wrong)
	}
	w.unchanged(t, "refused multi-delete")
	// The owner: gone for everyone, with its messages.
	wantEmpty(t, force(a, g))
	for _, u := range []*servertest.User{a, b, c} {
		if dialogView(t, env, u, g) != nil {
			t.Fatalf("deleted dialog listed for %d", u.ID)
		}
		wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g, Token: u.Token}), 404, "base")
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message/" + m + "/reactions.json", Token: b.Token}), 404, "base")
	// Private: either participant deletes for both.
	p := newPrivate(t, env, a, b)
	wantEmpty(t, force(b, p))
	if dialogView(t, env, a, p) != nil {
		t.Fatal("force-deleted private dialog still listed for a")
	}
	// The body wins over the query string (REST.md §1.3): force=0 in the
	// body is delete-for-me even with force=1 in the query.
	p3 := newPrivate(t, env, b, c)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + p3 + ".json?force=1", Token: b.Token, Body: "force=0"}))
	mustView(t, env, c, p3)
	// force also from the query string.
	p2 := newPrivate(t, env, a, c)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + p2 + ".json?force=1", Token: c.Token}))
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + p2, Token: a.Token}), 404)
}

func TestClearHistory(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	send(t, env, a, g, "a1")
	send(t, env, a, g, "a2")
	send(t, env, b, g, "b1")
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + g + ".json", Token: b.Token}))
	sameStrings(t, "b's history", bodies(peek(t, env, b, g)), nil)
	want(t, "b's view", mustView(t, env, b, g), map[string]any{"unread_messages_count": 0})
	sameStrings(t, "a's history", bodies(peek(t, env, a, g)), []string{"a1", "a2", "b1"})
	want(t, "a's view", mustView(t, env, a, g), map[string]any{"unread_messages_count": 1, "last_message": "b1"})
	send(t, env, a, g, "a3")
	sameStrings(t, "b's history after a new message", bodies(peek(t, env, b, g)), []string{"a3"})
	want(t, "b's unread", unread(t, env, b, "chat_dialog_ids="+g), map[string]any{"total": 1, g: 1})
	// force=1: the owner only.
	w := watch(t, env, g, a, b)
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + g + ".json", Token: b.Token,
		Body: "force=1"}), 403, "base")
	w.unchanged(t, "clear for everyone by a member")
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + g + ".json", Token: a.Token, Body: "force=1"}))
	sameStrings(t, "a's history after force", bodies(peek(t, env, a, g)), nil)
	want(t, "b after force", mustView(t, env, b, g), map[string]any{"unread_messages_count": 0, "last_message": nil})
	// Visible only through allow_preview: 403; invisible: 404.
	pv := newPublic(t, env, a, "preview", true)
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + pv + ".json", Token: b.Token}), 403, "base")
}

// REST.md §5.5: clearing is "every message stored up to now"; a message
// stored later must stay visible, even when the newest message was deleted
// for everyone in between (the store must not hand out its position again).
func TestClearHistoryThenDeletedNewestThenNewMessage(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	send(t, env, b, g, "old")
	newest := send(t, env, a, g, "oops")["_id"].(string)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + g + ".json", Token: b.Token}))
	del, _, _ := report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + newest + ".json", Token: a.Token, Body: "force=1"}))
	sameStrings(t, "forced delete", del, []string{newest})
	send(t, env, a, g, "after")
	sameStrings(t, "b's history", bodies(peek(t, env, b, g)), []string{"after"})
	want(t, "b's count", mustView(t, env, b, g), map[string]any{"unread_messages_count": 1, "last_message": "after"})
	want(t, "b's unread", unread(t, env, b, "chat_dialog_ids="+g), map[string]any{"total": 1, g: 1})
}

// REST.md §5.2: never two private dialogs for one pair, also when both
// sides create it at the same moment.
func TestConcurrentPrivateCreates(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	const n = 12
	got := make([]*servertest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, other := a, b
			if i%2 == 1 {
				u, other = b, a
			}
			got[i] = env.Do(t, req{Method: "POST", Path: "/chat/Dialog.json", Token: u.Token,
				Body: map[string]any{"type": 3, "occupants_ids": other.ID}})
		})
	}
	wg.Wait()
	created, id := 0, ""
	for _, resp := range got {
		switch resp.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("concurrent create: %d %s", resp.Status, resp.Raw)
		}
		if id == "" {
			id = resp.JSON["_id"].(string)
		}
		if resp.JSON["_id"] != id {
			t.Fatalf("two private dialogs for one pair: %s and %v", id, resp.JSON["_id"])
		}
	}
	if created != 1 {
		t.Errorf("%d creates answered 201, want exactly 1", created)
	}
	sameStrings(t, "a's list", listedIDs(t, env, a, ""), []string{id})
}
