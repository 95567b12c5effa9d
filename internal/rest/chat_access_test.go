package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

// Bad input and authorization on the chat endpoints (REST.md §1.8, §1.10,
// §5.0): what is refused is refused with the right status, and leaves the
// store as it was.

func TestCreateDialogRejectsBadInput(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	long := func(n int) string { return strings.Repeat("ü", n) }
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"type 0", map[string]any{"type": 0, "name": "x", "occupants_ids": b.ID}, 422, "type"},
		{"type 5", map[string]any{"type": 5, "name": "x", "occupants_ids": b.ID}, 422, "type"},
		{"type x", map[string]any{"type": "x", "name": "x", "occupants_ids": b.ID}, 422, "type"},
		{"type missing", map[string]any{"name": "x", "occupants_ids": b.ID}, 422, "type"},
		{"type 1 by a user", map[string]any{"type": 1, "name": "x"}, 403, "base"},
		{"group without occupants", map[string]any{"type": 2, "name": "x"}, 422, "occupants_ids"},
		{"group with only the caller", map[string]any{"type": 2, "name": "x", "occupants_ids": a.ID}, 422, "occupants_ids"},
		{"group without name", map[string]any{"type": 2, "occupants_ids": b.ID}, 422, "name"},
		{"group with blank name", map[string]any{"type": 2, "name": "  ", "occupants_ids": b.ID}, 422, "name"},
		{"public without name", map[string]any{"type": 4}, 422, "name"},
		{"private with two others", map[string]any{"type": 3, "occupants_ids": userIDs(b, c)}, 422, "occupants_ids"},
		{"private with nobody", map[string]any{"type": 3}, 422, "occupants_ids"},
		{"private with oneself", map[string]any{"type": 3, "occupants_ids": a.ID}, 422, "occupants_ids"},
		{"unknown occupant", map[string]any{"type": 2, "name": "x", "occupants_ids": fmt.Sprintf("%d, 987654", b.ID)}, 422, "occupants_ids"},
		{"unknown private peer", map[string]any{"type": 3, "occupants_ids": 987654}, 422, "occupants_ids"},
		{"occupant not a number", map[string]any{"type": 2, "name": "x", "occupants_ids": "bob"}, 422, "occupants_ids"},
		{"name too long", map[string]any{"type": 2, "name": long(256), "occupants_ids": b.ID}, 422, "name"},
		{"description too long", map[string]any{"type": 2, "name": "x", "description": long(2049), "occupants_ids": b.ID}, 422, "description"},
		{"photo too long", map[string]any{"type": 2, "name": "x", "photo": long(2049), "occupants_ids": b.ID}, 422, "photo"},
		{"name not a string", map[string]any{"type": 2, "name": 5, "occupants_ids": b.ID}, 422, "name"},
		{"extensions not an object", map[string]any{"type": 2, "name": "x", "occupants_ids": b.ID, "extensions": "a"}, 422, "extensions"},
		{"permissions not an object", map[string]any{"type": 2, "name": "x", "occupants_ids": b.ID, "permissions": 1}, 422, "permissions"},
		{"admin not an occupant", map[string]any{"type": 2, "name": "x", "occupants_ids": b.ID, "admins_ids": c.ID}, 422, "admins_ids"},
		{"broken JSON", `{"type": 2`, 400, "base"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := postDialog(t, env, a, tc.body)
			wantError(t, resp, tc.status, tc.field)
			if tc.field == "occupants_ids" && strings.HasPrefix(tc.name, "unknown") &&
				!strings.Contains(string(resp.Raw), "contain unknown users: 987654") {
				t.Errorf("unknown users are not named: %s", resp.Raw)
			}
		})
	}
	// Nothing was created.
	for _, u := range []*servertest.User{a, b, c} {
		if got := listedIDs(t, env, u, ""); len(got) != 0 {
			t.Fatalf("user %d lists %v after refused creates", u.ID, got)
		}
	}
}

func TestUpdateDialogRejectsBadInput(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	resp := env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{b.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	p := newPrivate(t, env, a, b)
	pub := newPublic(t, env, a, "pub", false)
	w := watch(t, env, g, a, b, c)
	wp := watch(t, env, p, a, b)
	wpub := watch(t, env, pub, a)
	put := func(u *servertest.User, id string, body any) *servertest.Response {
		return env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Token: u.Token, Body: body})
	}
	pull := func(ids ...int64) map[string]any {
		return map[string]any{"pull_all": map[string]any{"occupants_ids": ids}}
	}
	cases := []struct {
		name   string
		resp   *servertest.Response
		status int
		field  string
	}{
		{"admin removes a regular occupant", put(b, g, pull(c.ID)), 403, "base"},
		{"regular occupant removes an admin", put(c, g, pull(b.ID)), 403, "base"},
		{"regular occupant removes the owner", put(c, g, pull(a.ID)), 403, "base"},
		{"regular removes self and another", put(c, g, pull(c.ID, b.ID)), 403, "base"},
		{"regular adds admins", put(c, g, map[string]any{"push_all": map[string]any{"admins_ids": []int64{c.ID}}}), 403, "base"},
		{"name too long", put(a, g, map[string]any{"name": strings.Repeat("n", 256)}), 422, "name"},
		{"blank name", put(a, g, map[string]any{"name": ""}), 422, "name"},
		{"description too long", put(a, g, map[string]any{"description": strings.Repeat("d", 2049)}), 422, "description"},
		{"unknown occupants", put(a, g, map[string]any{"push_all": map[string]any{"occupants_ids": []int64{987654}}}), 422, "occupants_ids"},
		{"push_all not an object", put(a, g, map[string]any{"push_all": []int64{1}}), 422, "push_all"},
		{"broken JSON", put(a, g, `{"name":`), 400, "base"},
		{"private occupants push", put(a, p, map[string]any{"push_all": map[string]any{"occupants_ids": []int64{c.ID}}}), 403, "base"},
		{"private occupants pull", put(a, p, pull(b.ID)), 403, "base"},
		{"public occupants push", put(a, pub, map[string]any{"push_all": map[string]any{"occupants_ids": []int64{b.ID}}}), 422, "occupants_ids"},
		{"public occupants pull", put(a, pub, pull(a.ID)), 422, "occupants_ids"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantError(t, tc.resp, tc.status, tc.field) })
	}
	w.unchanged(t, "refused group updates")
	wp.unchanged(t, "refused private updates")
	wpub.unchanged(t, "refused public updates")
}

// REST.md §5.0: a dialog the caller cannot see is answered exactly like an
// unknown one, on every endpoint.
func TestInvisibleDialogsAnswerLikeUnknownOnes(t *testing.T) {
	env := servertest.Start(t)
	a, b, stranger := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	app2 := newApp(t, env, "second", nil)
	foreign := appUser(t, env, app2, "foreigner")
	foreignPeer := appUser(t, env, app2, "foreignpeer")
	p := newPrivate(t, env, a, b)
	g := newGroup(t, env, a, "closed", b)
	pub := newPublic(t, env, a, "closed public", false)
	left := newGroup(t, env, a, "left", b, stranger)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + left + ".json", Token: stranger.Token}))
	msgs := map[string]string{}
	for _, d := range []string{p, g, pub, left} {
		msgs[d] = send(t, env, a, d, "secret")["_id"].(string)
	}
	foreignDialog := newPrivate(t, env, foreign, foreignPeer)
	foreignMsg := send(t, env, foreign, foreignDialog, "foreign secret")["_id"].(string)
	const unknownMsg = "65a1f3d9c81a4f0e2b000000"
	dialogReqs := func(id string) map[string]req {
		return map[string]req{
			"PUT dialog":             {Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Body: map[string]any{"name": "mine"}},
			"PUT dialog pull":        {Method: "PUT", Path: "/chat/Dialog/" + id + ".json", Body: map[string]any{"pull_all": map[string]any{"occupants_ids": []int64{a.ID}}}},
			"DELETE dialog":          {Method: "DELETE", Path: "/chat/Dialog/" + id + ".json"},
			"DELETE dialog force":    {Method: "DELETE", Path: "/chat/Dialog/" + id + ".json", Body: "force=1"},
			"DELETE multi":           {Method: "DELETE", Path: "/chat/Dialog/" + id + "," + "65a1f0c2e4b0a1b2c3d4e5f9.json", Body: "force=1"},
			"clearHistory":           {Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + id + ".json"},
			"clearHistory force":     {Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + id + ".json", Body: "force=1"},
			"unsubscribe":            {Method: "DELETE", Path: "/chat/Dialog/" + id + "/subscribe.json"},
			"occupants":              {Method: "GET", Path: "/chat/Dialog/" + id + "/occupants.json"},
			"admins":                 {Method: "PUT", Path: "/chat/Dialog/" + id + "/admins.json", Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{b.ID}}}},
			"GET notifications":      {Method: "GET", Path: "/chat/Dialog/" + id + "/notifications.json"},
			"PUT notifications":      {Method: "PUT", Path: "/chat/Dialog/" + id + "/notifications.json", Body: map[string]any{"enabled": 0}},
			"list messages":          {Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + id},
			"list messages preview":  {Method: "GET", Path: "/chat/Message.json?preview=1&chat_dialog_id=" + id},
			"list messages no mark":  {Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + id},
			"create message":         {Method: "POST", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": id, "message": "hi"}},
			"mark all read":          {Method: "PUT", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": id, "read": 1}},
			"mark all delivered":     {Method: "PUT", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": id, "delivered": 1}},
			"list by _id":            {Method: "GET", Path: "/chat/Dialog.json?_id=" + id},
			"unread of it":           {Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + id},
			"search in it":           {Method: "GET", Path: "/chat/search.json?search_text=secret&chat_dialog_ids=" + id},
			"subscribe (type 3 / 2)": {Method: "POST", Path: "/chat/Dialog/" + id + "/subscribe.json"},
		}
	}
	messageReqs := func(id string) map[string]req {
		return map[string]req{
			"PUT reactions":  {Method: "PUT", Path: "/chat/Message/" + id + "/reactions.json", Body: map[string]any{"add": "👍"}},
			"GET reactions":  {Method: "GET", Path: "/chat/Message/" + id + "/reactions.json"},
			"DELETE message": {Method: "DELETE", Path: "/chat/Message/" + id + ".json"},
			"DELETE force":   {Method: "DELETE", Path: "/chat/Message/" + id + ".json", Body: "force=1"},
			"DELETE several": {Method: "DELETE", Path: "/chat/Message/" + id + "," + unknownMsg[:23] + "1.json"},
			"PUT read":       {Method: "PUT", Path: "/chat/Message/" + id + ".json", Body: map[string]any{"read": 1}},
			"PUT body":       {Method: "PUT", Path: "/chat/Message/" + id + ".json", Body: map[string]any{"message": "edited"}},
		}
	}
	type target struct {
		who    *servertest.User
		dialog string
	}
	targets := map[string]target{
		"others' private":                 {stranger, p},
		"closed group":                    {stranger, g},
		"unsubscribed public, no preview": {stranger, pub},
		"group the caller left":           {stranger, left},
		"this app's dialog, other app":    {foreign, g},
		"other app's dialog":              {a, foreignDialog},
	}
	watches := map[string]*watcher{}
	for _, d := range []string{p, g, pub, left} {
		watches[d] = watch(t, env, d, a, b)
	}
	wf := watch(t, env, foreignDialog, foreign, foreignPeer)
	// What an unknown id gets (404 unless the endpoint reports or ignores it).
	unknownStatus := map[string]int{"list by _id": 200, "unread of it": 200, "search in it": 200, "DELETE multi": 200,
		"DELETE message": 200, "DELETE force": 200, "DELETE several": 200, "PUT read": 200, "PUT body": 200}
	checkRef := func(t *testing.T, name string, ref *servertest.Response) {
		t.Helper()
		st, ok := unknownStatus[name]
		if !ok {
			st = http.StatusNotFound
		}
		if ref.Status != st {
			t.Errorf("%s with an unknown id: %d %s, want %d", name, ref.Status, ref.Raw, st)
		}
	}
	for tname, tg := range targets {
		for name, r := range dialogReqs(tg.dialog) {
			if name == "subscribe (type 3 / 2)" && (tg.dialog == g || tg.dialog == pub || tg.dialog == left) {
				continue // subscribe is how one gains sight of groups and public dialogs
			}
			t.Run(tname+"/"+name, func(t *testing.T) {
				r.Token = tg.who.Token
				got := env.Do(t, r)
				ref := r
				ref.Path = strings.Replace(r.Path, tg.dialog, unknownID, 1)
				refResp := env.Do(t, ref)
				checkRef(t, name, refResp)
				sameAnswer(t, name, masked(got, tg.dialog, unknownID), refResp)
			})
		}
		msg := msgs[tg.dialog]
		if tg.dialog == foreignDialog {
			msg = foreignMsg
		}
		for name, r := range messageReqs(msg) {
			t.Run(tname+"/"+name, func(t *testing.T) {
				r.Token = tg.who.Token
				got := env.Do(t, r)
				ref := r
				ref.Path = strings.Replace(r.Path, msg, unknownMsg, 1)
				refResp := env.Do(t, ref)
				checkRef(t, name, refResp)
				sameAnswer(t, name, masked(got, msg, unknownMsg), refResp)
			})
		}
	}
	for d, w := range watches {
		w.unchanged(t, "requests about invisible dialog "+d)
	}
	wf.unchanged(t, "requests from another app")
	// The spot checks the table above rests on: unknown ids get 404.
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + unknownID + "/occupants.json", Token: a.Token}), 404, "base")
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message/" + unknownMsg + "/reactions.json", Token: a.Token}), 404, "base")
	// Users of another app are unknown users here.
	resp := postDialog(t, env, a, map[string]any{"type": 2, "name": "x", "occupants_ids": foreign.ID})
	wantError(t, resp, 422, "occupants_ids")
}

// REST.md §1.10: a malformed id is 400 wherever a single id is expected.
func TestMalformedDialogIDs(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	w := watch(t, env, g, a)
	for _, bad := range []string{"xyz", strings.ToUpper(g), g[:23], g + "0", "zz" + g[2:], "_"} {
		for name, r := range map[string]req{
			"PUT dialog":          {Method: "PUT", Path: "/chat/Dialog/" + bad + ".json", Body: map[string]any{"name": "x"}},
			"DELETE dialog":       {Method: "DELETE", Path: "/chat/Dialog/" + bad + ".json"},
			"DELETE dialog force": {Method: "DELETE", Path: "/chat/Dialog/" + bad + ".json", Body: "force=1"},
			"clearHistory":        {Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + bad + ".json"},
			"subscribe":           {Method: "POST", Path: "/chat/Dialog/" + bad + "/subscribe.json"},
			"unsubscribe":         {Method: "DELETE", Path: "/chat/Dialog/" + bad + "/subscribe.json"},
			"occupants":           {Method: "GET", Path: "/chat/Dialog/" + bad + "/occupants.json"},
			"admins":              {Method: "PUT", Path: "/chat/Dialog/" + bad + "/admins.json", Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{b.ID}}}},
			"GET notifications":   {Method: "GET", Path: "/chat/Dialog/" + bad + "/notifications.json"},
			"PUT notifications":   {Method: "PUT", Path: "/chat/Dialog/" + bad + "/notifications.json", Body: map[string]any{"enabled": 1}},
			"list messages":       {Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + bad},
			"create message":      {Method: "POST", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": bad, "message": "x"}},
			"mark all read":       {Method: "PUT", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": bad, "read": 1}},
			"unread":              {Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + g + ",%20" + bad},
			"unread seed form":    {Method: "GET", Path: "/chat/Message/unread.json?dialogs_ids[]=" + bad},
			"search":              {Method: "GET", Path: "/chat/search.json?search_text=hello&chat_dialog_ids=" + bad},
			"pin":                 {Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Body: map[string]any{"push_all": map[string]any{"pinned_messages_ids": []string{bad}}}},
		} {
			t.Run(bad+"/"+name, func(t *testing.T) {
				r.Token = a.Token
				wantError(t, env.Do(t, r), 400, "base")
			})
		}
	}
	w.unchanged(t, "malformed ids")
}

func TestOtherAppCannotTouchDialogs(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	pub := newPublic(t, env, a, "pub", true)
	m := send(t, env, a, g, "hello world")["_id"].(string)
	app2 := newApp(t, env, "second", nil)
	x := appUser(t, env, app2, "intruder")
	w := watch(t, env, g, a, b)
	for _, r := range []req{
		{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json"},
		{Method: "POST", Path: "/chat/Dialog/" + g + "/subscribe.json"},
		{Method: "GET", Path: "/chat/Message.json?preview=1&chat_dialog_id=" + pub},
		{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Body: map[string]any{"name": "pwned"}},
		{Method: "DELETE", Path: "/chat/Dialog/" + g + ".json", Body: "force=1"},
		{Method: "GET", Path: "/chat/Message/" + m + "/reactions.json"},
	} {
		r.Token = x.Token
		wantError(t, env.Do(t, r), http.StatusNotFound, "base")
	}
	// Message ids of another app: reported NotFound (delete), ignored (update).
	_, nf, _ := report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m + ".json", Token: x.Token, Body: "force=1"}))
	sameStrings(t, "NotFound", nf, []string{m})
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m + ".json", Token: x.Token, Body: map[string]any{"message": "pwned"}}))
	w.unchanged(t, "another app's requests")
	if got := listedIDs(t, env, x, ""); len(got) != 0 {
		t.Fatalf("another app's user lists %v", got)
	}
	want(t, "pub untouched", mustView(t, env, a, pub), map[string]any{"occupants_count": 1})
}

func TestChatEndpointsNeedAUserSession(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	m := send(t, env, a, g, "hello")["_id"].(string)
	appToken := env.AppSession(t)
	for _, r := range []req{
		{Method: "GET", Path: "/chat/Dialog.json"},
		{Method: "POST", Path: "/chat/Dialog.json", Body: map[string]any{"type": 2, "name": "x", "occupants_ids": b.ID}},
		{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Body: map[string]any{"name": "x"}},
		{Method: "DELETE", Path: "/chat/Dialog/" + g + ".json"},
		{Method: "DELETE", Path: "/chat/Dialog/clearHistory/" + g + ".json"},
		{Method: "POST", Path: "/chat/Dialog/" + g + "/subscribe.json"},
		{Method: "DELETE", Path: "/chat/Dialog/" + g + "/subscribe.json"},
		{Method: "GET", Path: "/chat/Dialog/" + g + "/occupants.json"},
		{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{b.ID}}}},
		{Method: "GET", Path: "/chat/Dialog/" + g + "/notifications.json"},
		{Method: "PUT", Path: "/chat/Dialog/" + g + "/notifications.json", Body: map[string]any{"enabled": 0}},
		{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g},
		{Method: "POST", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": g, "message": "x"}},
		{Method: "PUT", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": g, "read": 1}},
		{Method: "PUT", Path: "/chat/Message/" + m + ".json", Body: map[string]any{"message": "x"}},
		{Method: "DELETE", Path: "/chat/Message/" + m + ".json", Body: "force=1"},
		{Method: "GET", Path: "/chat/Message/unread.json"},
		{Method: "POST", Path: "/chat/Message/system.json", Body: map[string]any{"recipientId": b.ID}},
		{Method: "PUT", Path: "/chat/Message/" + m + "/reactions.json", Body: map[string]any{"add": "x"}},
		{Method: "GET", Path: "/chat/Message/" + m + "/reactions.json"},
		{Method: "GET", Path: "/chat/search.json?search_text=hello"},
	} {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			wantExpired(t, env.Do(t, r))
			r.Token = "0123456789abcdef0123456789abcdef01234567"
			wantExpired(t, env.Do(t, r))
			r.Token = appToken
			wantError(t, env.Do(t, r), http.StatusForbidden, "base")
		})
	}
	want(t, "untouched", mustView(t, env, a, g), map[string]any{"name": "g", "last_message": "hello", "unread_messages_count": 0})
	want(t, "b untouched", mustView(t, env, b, g), map[string]any{"unread_messages_count": 1})
}
