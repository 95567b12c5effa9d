package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/servertest"
)

// Message endpoints of REST.md §6 and search (§7), through the real server.

func TestCreateMessageModel(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	env.Clock.Advance(time.Second)
	before := env.Clock.Now().Unix()
	resp := env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: a.Token, Body: map[string]any{
		"chat_dialog_id": g, "message": "attachment", "send_to_chat": 0, "markable": 1, "customer_ref": "A-7",
		"extra": map[string]any{"deep": map[string]any{"n": 5}},
		"attachments": []any{
			map[string]any{"uid": "7cafb6030d3e4348ba49cab24c0cf10800", "id": "421517", "type": "photo", "size": 48213},
			map[string]any{"type": "place", "latitude": "52.5", "longitude": 13.4, "size": "big"},
		}}})
	wantStatus(t, resp, http.StatusCreated)
	m := resp.JSON
	checkMessageShape(t, m)
	want(t, "created", m, map[string]any{"chat_dialog_id": g, "message": "attachment", "sender_id": a.ID, "recipient_id": 0,
		"attachments": []any{
			map[string]any{"uid": "7cafb6030d3e4348ba49cab24c0cf10800", "id": "421517", "type": "photo", "size": 48213},
			map[string]any{"type": "place", "latitude": "52.5", "longitude": "13.4", "size": "big"},
		},
		"read_ids": []int64{a.ID}, "delivered_ids": []int64{a.ID}, "views_count": 0, "read": 0, "reactions": nil,
		"markable": "1", "customer_ref": "A-7", "extra": map[string]any{"deep": map[string]any{"n": "5"}}})
	if ds := num(t, m, "date_sent"); ds < before || ds > env.Clock.Now().Unix() {
		t.Errorf("date_sent = %d, want the server's time %d", ds, before)
	}
	if _, ok := m["send_to_chat"]; ok {
		t.Error("send_to_chat was stored as a custom parameter")
	}
	// Listed the same way (custom keys included) by another member.
	got := peek(t, env, b, g)
	if len(got) != 1 {
		t.Fatalf("b sees %d messages", len(got))
	}
	for k, v := range m {
		if mustJSON(got[0][k]) != mustJSON(v) {
			t.Errorf("listed %s = %s, created %s", k, mustJSON(got[0][k]), mustJSON(v))
		}
	}
	// The docs' form: attachments as an object keyed by numbers.
	resp = env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: b.Token, Body: map[string]any{
		"chat_dialog_id": g, "message": "two files",
		"attachments": map[string]any{"1": map[string]any{"type": "video"}, "0": map[string]any{"type": "image", "id": 3004}}}})
	wantStatus(t, resp, http.StatusCreated)
	want(t, "numbered attachments", resp.JSON, map[string]any{"attachments": []any{
		map[string]any{"type": "image", "id": "3004"}, map[string]any{"type": "video"}}})
	// Private: recipient_id is the other participant.
	p := newPrivate(t, env, a, b)
	want(t, "private", send(t, env, a, p, "hi"), map[string]any{"recipient_id": b.ID, "sender_id": a.ID})
	want(t, "private back", send(t, env, b, p, "hey"), map[string]any{"recipient_id": a.ID})
	// The dialog moved.
	want(t, "dialog after", mustView(t, env, c, g), map[string]any{"last_message": "two files", "last_message_user_id": b.ID,
		"unread_messages_count": 2})
}

func TestCreateMessageByRecipientID(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	resp := env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: a.Token,
		Body: map[string]any{"recipient_id": b.ID, "message": "first"}})
	wantStatus(t, resp, http.StatusCreated)
	p := resp.JSON["chat_dialog_id"].(string)
	want(t, "message", resp.JSON, map[string]any{"recipient_id": b.ID})
	want(t, "created private", mustView(t, env, b, p), map[string]any{"type": 3, "occupants_ids": []int64{a.ID, b.ID},
		"unread_messages_count": 1, "last_message": "first"})
	resp = env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: b.Token,
		Body: map[string]any{"recipient_id": fmt.Sprint(a.ID), "message": "second"}})
	wantStatus(t, resp, http.StatusCreated)
	if resp.JSON["chat_dialog_id"] != p {
		t.Fatalf("second message went to %v, want the existing %s", resp.JSON["chat_dialog_id"], p)
	}
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: a.Token,
		Body: map[string]any{"recipient_id": 987654, "message": "x"}}), 422, "recipient_id")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: a.Token,
		Body: map[string]any{"message": "nowhere"}}), 422, "chat_dialog_id")
}

func TestListMessagesMarksRead(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	send(t, env, a, g, "m1")
	send(t, env, a, g, "m2")
	send(t, env, b, g, "m3")
	// mark_as_read=0: nothing changes.
	got := history(t, env, b, g, "mark_as_read=0")
	want(t, "unmarked", got[0], map[string]any{"read_ids": []int64{a.ID}, "delivered_ids": []int64{a.ID}, "read": 0})
	want(t, "b's count", mustView(t, env, b, g), map[string]any{"unread_messages_count": 2})
	// Default: what b reads is marked read for b, b's own message is not touched.
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g + "&sort_desc=date_sent&limit=100&skip=0", Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	want(t, "page", resp.JSON, map[string]any{"skip": 0, "limit": 100})
	if _, ok := resp.JSON["total_entries"]; ok {
		t.Error("message list carries total_entries")
	}
	list := items(t, resp)
	sameStrings(t, "sort_desc=date_sent", bodies(list), []string{"m3", "m2", "m1"})
	want(t, "own", list[0], map[string]any{"read_ids": []int64{b.ID}, "delivered_ids": []int64{b.ID}, "read": 0})
	for _, m := range list[1:] {
		checkMessageShape(t, m)
		want(t, "read by b", m, map[string]any{"read_ids": []int64{a.ID, b.ID}, "delivered_ids": []int64{a.ID, b.ID}, "read": 1, "views_count": 0})
	}
	want(t, "b's count after reading", mustView(t, env, b, g), map[string]any{"unread_messages_count": 0})
	want(t, "c's count untouched", mustView(t, env, c, g), map[string]any{"unread_messages_count": 3})
	// Paging reads only the page.
	history(t, env, c, g, "limit=1")
	want(t, "c after one", mustView(t, env, c, g), map[string]any{"unread_messages_count": 2})
	// mark_as_read in its other spellings.
	history(t, env, c, g, "mark_as_read=false")
	history(t, env, c, g, "mark_as_read=0&preview=0")
	want(t, "c unchanged", mustView(t, env, c, g), map[string]any{"unread_messages_count": 2})
	history(t, env, c, g, "mark_as_read=1")
	want(t, "c read all", mustView(t, env, c, g), map[string]any{"unread_messages_count": 0})
	got = peek(t, env, a, g)
	want(t, "a sees receipts", got[0], map[string]any{"read_ids": []int64{a.ID, b.ID, c.ID}, "read": 1})
}

func TestMessageFilters(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	post := func(u *servertest.User, body map[string]any) map[string]any {
		env.Clock.Advance(2 * time.Second)
		body["chat_dialog_id"] = g
		resp := env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: u.Token, Body: body})
		wantStatus(t, resp, http.StatusCreated)
		return resp.JSON
	}
	m1 := post(a, map[string]any{"message": "hello one"})
	m2 := post(a, map[string]any{"message": "photo", "attachments": []any{map[string]any{"type": "photo", "id": "1"}}})
	m3 := post(b, map[string]any{"message": "image", "attachments": []any{map[string]any{"type": "audio"}, map[string]any{"type": "image"}}})
	m4 := post(b, map[string]any{"message": "hello four"})
	id := func(m map[string]any) string { return m["_id"].(string) }
	ds := func(m map[string]any) int64 { return num(t, m, "date_sent") }
	for _, tc := range []struct {
		query string
		want  []map[string]any
	}{
		{"", []map[string]any{m1, m2, m3, m4}}, // default: ascending by date_sent
		{"sort_asc=date_sent", []map[string]any{m1, m2, m3, m4}},
		{"sort_desc=date_sent", []map[string]any{m4, m3, m2, m1}},
		{"sort_desc=created_at", []map[string]any{m4, m3, m2, m1}},
		{"sort_asc=updated_at", []map[string]any{m1, m2, m3, m4}},
		{fmt.Sprintf("date_sent%%5Bgt%%5D=%d", ds(m2)), []map[string]any{m3, m4}}, // strictly
		{fmt.Sprintf("date_sent[lt]=%d", ds(m2)), []map[string]any{m1}},
		{fmt.Sprintf("date_sent[gte]=%d&date_sent[lte]=%d", ds(m2), ds(m3)), []map[string]any{m2, m3}},
		{fmt.Sprintf("date_sent=%d", ds(m3)), []map[string]any{m3}},
		{fmt.Sprintf("date_sent[lt]=%d&sort_desc=date_sent&limit=2", ds(m4)), []map[string]any{m3, m2}},
		{fmt.Sprintf("sender_id=%d", b.ID), []map[string]any{m3, m4}},
		{fmt.Sprintf("sender_id[ne]=%d", b.ID), []map[string]any{m1, m2}},
		{fmt.Sprintf("sender_id[in]=%d,%d", a.ID, b.ID), []map[string]any{m1, m2, m3, m4}},
		{"_id%5Bin%5D=" + id(m1) + "%2C" + id(m3), []map[string]any{m1, m3}},
		{"_id=" + id(m2), []map[string]any{m2}},
		{"_id[nin]=" + id(m2), []map[string]any{m1, m3, m4}},
		{"attachments.type=photo", []map[string]any{m2}},
		{"attachments%5Btype%5D=image", []map[string]any{m3}},
		{"attachments[type][in]=photo,audio", []map[string]any{m2, m3}},
		{"message[ctn]=hello", []map[string]any{m1, m4}},
		{"message=photo", []map[string]any{m2}},
		{fmt.Sprintf("recipient_id=0&sender_id=%d", a.ID), []map[string]any{m1, m2}},
		{"skip=1&limit=2", []map[string]any{m2, m3}},
		{"skip=3", []map[string]any{m4}},
		{"limit=1000", []map[string]any{m1, m2, m3, m4}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp := env.Do(t, req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + g + "&" + tc.query, Token: a.Token})
			wantStatus(t, resp, http.StatusOK)
			wantIDs := []string{}
			for _, m := range tc.want {
				wantIDs = append(wantIDs, id(m))
			}
			sameStrings(t, tc.query, idsOf(items(t, resp)), wantIDs)
		})
	}
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&skip=1&limit=2&chat_dialog_id=" + g, Token: a.Token})
	want(t, "page fields", resp.JSON, map[string]any{"skip": 1, "limit": 2})
	// Filters do not bypass the caller's hidden set.
	report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + id(m1) + ".json", Token: a.Token}))
	sameStrings(t, "after delete for me", idsOf(history(t, env, a, g, "message[ctn]=hello&mark_as_read=0")), []string{id(m4)})
}

func TestMessageListRejectsBadInput(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	send(t, env, b, g, "unread")
	for _, tc := range []struct {
		query  string
		status int
		field  string
	}{
		{"", 422, "chat_dialog_id"},
		{"chat_dialog_id=" + g + "&limit=1001", 422, "limit"},
		{"chat_dialog_id=" + g + "&limit=-1", 422, "limit"},
		{"chat_dialog_id=" + g + "&skip=x", 422, "skip"},
		{"chat_dialog_id=" + g + "&foo=1", 422, "base"},
		{"chat_dialog_id=" + g + "&name[regex]=x", 422, "base"},
		{"chat_dialog_id=" + g + "&message[regex]=x", 422, "base"},
		{"chat_dialog_id=" + g + "&date_sent[ctn]=1", 422, "base"},
		{"chat_dialog_id=" + g + "&date_sent[gt]=soon", 422, "base"},
		{"chat_dialog_id=" + g + "&sender_id[all]=1", 422, "base"},
		{"chat_dialog_id=" + g + "&attachments[size]=1", 422, "base"},
		{"chat_dialog_id=" + g + "&sort_desc=message", 422, "base"},
		{"chat_dialog_id=" + g + "&mark_as_read=2", 422, "mark_as_read"},
		{"chat_dialog_id=" + g + "&preview=yes", 422, "preview"},
		{"chat_dialog_id=" + g + "&_id=xyz", 400, "base"},
		{"chat_dialog_id=" + g + "&_id[in]=" + unknownID + ",xyz", 400, "base"},
		{"chat_dialog_id=xyz", 400, "base"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?" + tc.query, Token: a.Token}), tc.status, tc.field)
		})
	}
	want(t, "nothing read", mustView(t, env, a, g), map[string]any{"unread_messages_count": 1})
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + unknownID, Token: a.Token}), 404, "base")
}

func TestPreviewAndPublicViews(t *testing.T) {
	env := servertest.Start(t)
	a, b, reader := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newDialog(t, env, a, map[string]any{"type": 2, "name": "open", "occupants_ids": b.ID,
		"permissions": map[string]any{"allow_preview": true}})["_id"].(string)
	var all []string
	for i := range 25 {
		all = append(all, send(t, env, a, g, fmt.Sprintf("m%02d", i))["_id"].(string))
	}
	w := watch(t, env, g, a, b)
	// preview=1: the 20 newest, ascending, whatever skip/limit/sort say.
	got := history(t, env, reader, g, "preview=1&limit=5&skip=3&sort_desc=date_sent")
	sameStrings(t, "preview", idsOf(got), all[5:])
	for _, m := range got {
		want(t, "not marked", m, map[string]any{"read_ids": []int64{a.ID}, "read": 0})
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g, Token: reader.Token}), 403, "base")
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?mark_as_read=0&chat_dialog_id=" + g, Token: reader.Token}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: reader.Token,
		Body: map[string]any{"chat_dialog_id": g, "read": 1}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + all[24] + ".json", Token: reader.Token,
		Body: map[string]any{"read": 1}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + all[24] + "/reactions.json", Token: reader.Token,
		Body: map[string]any{"add": "👍"}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: reader.Token,
		Body: map[string]any{"chat_dialog_id": g, "message": "let me in"}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + g + "/occupants.json", Token: reader.Token}), 403, "base")
	w.unchanged(t, "the preview reader's requests")
	if dialogView(t, env, reader, g) != nil {
		t.Fatal("a dialog seen through preview is listed")
	}
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Message/" + all[24] + "/reactions.json", Token: reader.Token})
	wantStatus(t, resp, http.StatusOK)
	// A member with preview=1 reads normally.
	got = history(t, env, b, g, "preview=1&limit=3")
	if len(got) != 3 {
		t.Fatalf("member with preview=1 got %d messages, want the page of 3", len(got))
	}
	// Without allow_preview: 404 with or without preview.
	closed := newGroup(t, env, a, "closed", b)
	send(t, env, a, closed, "secret")
	for _, query := range []string{"preview=1&", ""} {
		sameAnswer(t, "closed preview "+query,
			env.Do(t, req{Method: "GET", Path: "/chat/Message.json?" + query + "chat_dialog_id=" + closed, Token: reader.Token}),
			env.Do(t, req{Method: "GET", Path: "/chat/Message.json?" + query + "chat_dialog_id=" + unknownID, Token: reader.Token}))
	}
	// Public: views_count counts readers other than the sender.
	pub := newPublic(t, env, a, "pub", true)
	m := send(t, env, a, pub, "news")
	want(t, "public message", m, map[string]any{"views_count": 0, "read": 0})
	got = history(t, env, reader, pub, "preview=1")
	want(t, "previewed public", got[0], map[string]any{"views_count": 0})
	// Everyone who can see a public dialog lists its subscribers (§5.8).
	resp = env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + pub + "/occupants.json", Token: reader.Token})
	wantStatus(t, resp, http.StatusOK)
	sameIDs(t, ids(t, resp.JSON["items"].([]any), false), []int64{a.ID})
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: reader.Token,
		Body: map[string]any{"chat_dialog_id": pub, "message": "not subscribed"}}), 403, "base")
	for _, u := range []*servertest.User{b, reader} {
		wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: u.Token}), 200)
		history(t, env, u, pub, "")
	}
	got = peek(t, env, a, pub)
	want(t, "public read twice", got[0], map[string]any{"views_count": 2, "read": 1, "read_ids": []int64{a.ID, b.ID, reader.ID}})
	want(t, "public view", mustView(t, env, a, pub), map[string]any{"unread_messages_count": nil, "last_message_status": "read",
		"occupants_count": 3})
	send(t, env, reader, pub, "subscriber posts")
	// An owner who unsubscribed sees the public dialog but reads it only through preview.
	closedPub := newPublic(t, env, a, "closed pub", false)
	wantEmpty(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Dialog/" + closedPub + "/subscribe.json", Token: a.Token}))
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + closedPub, Token: a.Token}), 403, "base")
}

func TestUpdateMessages(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	m1 := send(t, env, a, g, "first")["_id"].(string)
	m2 := send(t, env, b, g, "secnd")["_id"].(string)
	m3 := send(t, env, a, g, "third")["_id"].(string)
	// The author edits a body; the dialog's last_message follows for the newest.
	env.Clock.Advance(time.Second)
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m2 + ".json", Token: b.Token,
		Body: map[string]any{"message": "second", "chat_dialog_id": g}}))
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m3 + ".json", Token: a.Token,
		Body: map[string]any{"message": "third!"}}))
	list := peek(t, env, c, g)
	sameStrings(t, "edited bodies", bodies(list), []string{"first", "second", "third!"})
	if list[1]["updated_at"] == list[1]["created_at"] {
		t.Error("an edit did not move updated_at")
	}
	want(t, "last_message after edit", mustView(t, env, c, g), map[string]any{"last_message": "third!", "last_message_id": m3})
	// Editing another user's message: 403 and nothing changes.
	w := watch(t, env, g, a, b, c)
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m1 + ".json", Token: b.Token,
		Body: map[string]any{"message": "hijacked"}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m1 + "," + m2 + ".json", Token: b.Token,
		Body: map[string]any{"message": "hijacked"}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: a.Token,
		Body: map[string]any{"message": "everything", "chat_dialog_id": g}}), 422, "message")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: a.Token,
		Body: map[string]any{"read": 1}}), 422, "chat_dialog_id")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m3 + ".json", Token: a.Token,
		Body: map[string]any{"message": strings.Repeat("x", 64*1024+1)}}), 422, "message")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/xyz.json", Token: a.Token,
		Body: map[string]any{"read": 1}}), 400, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m3 + ".json", Token: a.Token,
		Body: map[string]any{"read": 7}}), 422, "read")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m3 + ".json", Token: a.Token,
		Body: `{"read":`, ContentType: "application/json"}), 400, "base")
	w.unchanged(t, "refused message updates")
	// read=1 by ids: unknown, malformed (among several) and own ids are ignored.
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m1 + ",xyz," + unknownID + "," + m2 + ".json", Token: c.Token,
		Body: map[string]any{"read": 1, "chat_dialog_id": g}}))
	want(t, "c after reading two", mustView(t, env, c, g), map[string]any{"unread_messages_count": 1})
	list = peek(t, env, a, g)
	want(t, "m1 read by c", list[0], map[string]any{"read_ids": []int64{a.ID, c.ID}, "read": 1})
	want(t, "m3 not read", list[2], map[string]any{"read_ids": []int64{a.ID}, "read": 0})
	// Ids of another dialog with chat_dialog_id: ignored.
	other := newGroup(t, env, a, "other", c)
	om := send(t, env, a, other, "elsewhere")["_id"].(string)
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + om + ".json", Token: c.Token,
		Body: map[string]any{"read": 1, "chat_dialog_id": g}}))
	want(t, "other still unread", mustView(t, env, c, other), map[string]any{"unread_messages_count": 1})
	// delivered=1 for all, then read=1 for all (the seed's mark-all-read).
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: b.Token,
		Body: map[string]any{"delivered": 1, "chat_dialog_id": g}}))
	list = peek(t, env, a, g)
	want(t, "delivered to b", list[2], map[string]any{"delivered_ids": []int64{a.ID, b.ID}, "read_ids": []int64{a.ID}})
	want(t, "b's unread", mustView(t, env, b, g), map[string]any{"unread_messages_count": 2})
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: b.Token,
		Body: map[string]any{"read": "1", "chat_dialog_id": g}}))
	want(t, "b read all", mustView(t, env, b, g), map[string]any{"unread_messages_count": 0})
	want(t, "a's status", mustView(t, env, a, g), map[string]any{"last_message_status": "read"})
	want(t, "c untouched", mustView(t, env, c, g), map[string]any{"unread_messages_count": 1})
	// Unknown ids: ignored (200); an unknown chat_dialog_id for "all": 404.
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + unknownID + ".json", Token: c.Token, Body: map[string]any{"read": 1}}))
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message.json", Token: c.Token,
		Body: map[string]any{"read": 1, "chat_dialog_id": unknownID}}), 404, "base")
}

func TestDeleteMessages(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b, c)
	m1 := send(t, env, b, g, "b1")["_id"].(string)
	m2 := send(t, env, c, g, "c1")["_id"].(string)
	m3 := send(t, env, b, g, "b2")["_id"].(string)
	// For me: hidden for b only, b's count drops, the report is JSON.
	resp := env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m2 + ".json", Token: b.Token})
	del, nf, wrong := report(t, resp)
	if !(len(del) == 1 && del[0] == m2 && len(nf) == 0 && len(wrong) == 0) {
		t.Fatalf("report %s", resp.Raw)
	}
	sameStrings(t, "b's history", bodies(peek(t, env, b, g)), []string{"b1", "b2"})
	sameStrings(t, "a's history", bodies(peek(t, env, a, g)), []string{"b1", "c1", "b2"})
	want(t, "b's count", mustView(t, env, b, g), map[string]any{"unread_messages_count": 0})
	want(t, "a's count", mustView(t, env, a, g), map[string]any{"unread_messages_count": 3})
	// A regular member may not delete others' messages for everyone.
	w := watch(t, env, g, a, b, c)
	del, nf, wrong = report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m1 + "," + m3 + ".json", Token: c.Token, Body: "force=1"}))
	if len(del) != 0 || len(nf) != 0 || strings.Join(wrong, ",") != m1+","+m3 {
		t.Fatalf("report = %v %v %v, want both under WrongPermissions", del, nf, wrong)
	}
	// One id: the same report (REST.md §6.4), except a malformed id (400).
	del, nf, wrong = report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m1 + ".json", Token: c.Token, Body: "force=1"}))
	if len(del) != 0 || len(nf) != 0 || strings.Join(wrong, ",") != m1 {
		t.Fatalf("one id: report = %v %v %v, want it under WrongPermissions", del, nf, wrong)
	}
	del, nf, wrong = report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + unknownID + ".json", Token: c.Token}))
	if len(del) != 0 || strings.Join(nf, ",") != unknownID || len(wrong) != 0 {
		t.Fatalf("unknown id: report = %v %v %v, want it under NotFound", del, nf, wrong)
	}
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/xyz.json", Token: c.Token, Body: "force=1"}), 400, "base")
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m1 + ".json", Token: c.Token, Body: "force=2"}), 422, "force")
	w.unchanged(t, "refused message deletes")
	// The author deletes the newest for everyone: last_message falls back.
	resp = env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m3 + ",%20xyz,%20" + unknownID + ".json", Token: b.Token,
		Body: "force=1", ContentType: "application/x-www-form-urlencoded; charset=UTF-8"})
	del, nf, wrong = report(t, resp)
	sameStrings(t, "deleted", del, []string{m3})
	sameSet(t, "not found", nf, []string{"xyz", unknownID})
	sameStrings(t, "wrong", wrong, nil)
	for _, u := range []*servertest.User{a, c} {
		sameStrings(t, "history", bodies(peek(t, env, u, g)), []string{"b1", "c1"})
	}
	want(t, "a's view", mustView(t, env, a, g), map[string]any{"last_message": "c1", "last_message_id": m2,
		"last_message_user_id": c.ID, "unread_messages_count": 2})
	want(t, "c's view", mustView(t, env, c, g), map[string]any{"unread_messages_count": 1, "last_message_status": "sent"})
	// The owner deletes others' messages in a group.
	del, _, _ = report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m1 + ".json", Token: a.Token, Body: "force=1"}))
	sameStrings(t, "owner deletes", del, []string{m1})
	want(t, "c after owner's delete", mustView(t, env, c, g), map[string]any{"unread_messages_count": 0})
	// Private: only one's own messages.
	p := newPrivate(t, env, a, b)
	pa := send(t, env, a, p, "mine")["_id"].(string)
	pb := send(t, env, b, p, "yours")["_id"].(string)
	del, _, wrong = report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + pa + "," + pb + ".json", Token: a.Token, Body: "force=1"}))
	sameStrings(t, "private deleted", del, []string{pa})
	sameStrings(t, "private wrong", wrong, []string{pb})
	sameStrings(t, "b's private history", bodies(peek(t, env, b, p)), []string{"yours"})
	// An admin deletes others' messages.
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + "/admins.json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{c.ID}}}}), 200)
	m4 := send(t, env, b, g, "b3")["_id"].(string)
	del, _, _ = report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m4 + ".json", Token: c.Token, Body: "force=1"}))
	sameStrings(t, "admin deletes", del, []string{m4})
}

func TestUnreadCount(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	p := newPrivate(t, env, a, b)
	pub := newPublic(t, env, b, "pub", false)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: a.Token}), 200)
	others := newGroup(t, env, b, "without a", c)
	for range 3 {
		send(t, env, b, g, "g")
	}
	send(t, env, b, p, "p")
	send(t, env, a, p, "own")
	send(t, env, b, pub, "public")
	send(t, env, b, others, "x")
	want(t, "total only", unread(t, env, a, ""), map[string]any{"total": 4})
	if got := unread(t, env, a, ""); len(got) != 1 {
		t.Errorf("without a filter: %v, want only total", got)
	}
	// The SDK's form: "a, b" (comma and space, encoded).
	got := unread(t, env, a, "chat_dialog_ids="+g+"%2C%20"+p)
	if mustJSON(got) != mustJSON(map[string]any{"total": 4, g: 3, p: 1}) {
		t.Errorf("chat_dialog_ids = %s", mustJSON(got))
	}
	// The seed's form: dialogs_ids[].
	got = unread(t, env, a, "dialogs_ids%5B%5D="+g+"&dialogs_ids%5B%5D="+p)
	if mustJSON(got) != mustJSON(map[string]any{"total": 4, g: 3, p: 1}) {
		t.Errorf("dialogs_ids[] = %s", mustJSON(got))
	}
	got = unread(t, env, a, "dialogs_ids="+p)
	if mustJSON(got) != mustJSON(map[string]any{"total": 4, p: 1}) {
		t.Errorf("dialogs_ids = %s", mustJSON(got))
	}
	// Public, foreign and unknown ids are omitted.
	got = unread(t, env, a, "chat_dialog_ids="+pub+","+others+","+unknownID+","+g)
	if mustJSON(got) != mustJSON(map[string]any{"total": 4, g: 3}) {
		t.Errorf("with public, foreign and unknown ids: %s", mustJSON(got))
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message/unread.json?chat_dialog_ids=" + g + ",nope", Token: a.Token}), 400, "base")
	// Reading moves it; b's own count is separate.
	history(t, env, a, g, "limit=2")
	want(t, "after reading two", unread(t, env, a, "chat_dialog_ids="+g), map[string]any{"total": 2, g: 1})
	want(t, "b", unread(t, env, b, "chat_dialog_ids="+p), map[string]any{"total": 1, p: 1})
	want(t, "c", unread(t, env, c, ""), map[string]any{"total": 1})
}

func TestSystemMessage(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	resp := env.Do(t, req{Method: "POST", Path: "/chat/Message/system.json", Token: a.Token, Body: map[string]any{
		"recipientId": b.ID, "needToUpdatePhotosStories": "1", "friendId": "90675", "userExt": map[string]any{"name": "Smith"}}})
	wantStatus(t, resp, http.StatusOK)
	if id, _ := resp.JSON["messageId"].(string); !objectIDRe.MatchString(id) {
		t.Errorf("messageId = %v", resp.JSON["messageId"])
	}
	want(t, "system", resp.JSON, map[string]any{"recipientId": b.ID, "extensionParams": map[string]any{
		"needToUpdatePhotosStories": "1", "friendId": "90675", "userExt": map[string]any{"name": "Smith"}}})
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message/system.json", Token: a.Token,
		Body: map[string]any{"friendId": "1"}}), 422, "recipientId")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message/system.json", Token: a.Token,
		Body: map[string]any{"recipientId": "abc"}}), 422, "recipientId")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message/system.json", Token: a.Token,
		Body: map[string]any{"recipientId": 987654}}), 404, "base")
	foreign := appUser(t, env, newApp(t, env, "second", nil), "foreigner")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message/system.json", Token: a.Token,
		Body: map[string]any{"recipientId": foreign.ID}}), 404, "base")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/chat/Message/system.json", Token: a.Token,
		Body: map[string]any{"recipientId": b.ID, "blob": strings.Repeat("x", 17*1024)}}), 422, "base")
	// Nothing is stored in any history.
	if got := listedIDs(t, env, b, ""); len(got) != 0 {
		t.Fatalf("a system message created dialogs %v", got)
	}
}

func TestReactions(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	m := send(t, env, a, g, "react to me")["_id"].(string)
	path := "/chat/Message/" + m + "/reactions.json"
	resp := env.Do(t, req{Method: "GET", Path: path, Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	if string(resp.Raw) != "{}" {
		t.Errorf("no reactions = %s, want {}", resp.Raw)
	}
	put := func(u *servertest.User, body map[string]any) *servertest.Response {
		env.Clock.Advance(time.Second)
		return env.Do(t, req{Method: "PUT", Path: path, Token: u.Token, Body: body})
	}
	wantEmpty(t, put(a, map[string]any{"add": "👍"}))
	wantEmpty(t, put(a, map[string]any{"add": "🚀"}))
	wantEmpty(t, put(b, map[string]any{"add": "👍"}))
	wantEmpty(t, put(b, map[string]any{"add": "👍"})) // held once
	resp = env.Do(t, req{Method: "GET", Path: path, Token: c.Token})
	wantStatus(t, resp, http.StatusNotFound)
	resp = env.Do(t, req{Method: "GET", Path: path, Token: b.Token})
	wantStatus(t, resp, http.StatusOK)
	if mustJSON(resp.JSON) != mustJSON(map[string]any{"👍": []int64{a.ID, b.ID}, "🚀": []int64{a.ID}}) {
		t.Errorf("reactions = %s", resp.Raw)
	}
	list := peek(t, env, a, g)
	r, ok := list[0]["reactions"].(map[string]any)
	if !ok {
		t.Fatalf("reactions = %#v", list[0]["reactions"])
	}
	sameSet(t, "a's own", strList(t, r["own"]), []string{"👍", "🚀"})
	want(t, "total", r, map[string]any{"total": map[string]any{"👍": 2, "🚀": 1}})
	if list[0]["updated_at"] == list[0]["created_at"] {
		t.Error("a reaction did not move updated_at")
	}
	list = peek(t, env, b, g)
	want(t, "b's own", list[0]["reactions"].(map[string]any), map[string]any{"own": []string{"👍"}})
	// updateReaction: add and remove in one call.
	wantEmpty(t, put(b, map[string]any{"add": "👎", "remove": "👍"}))
	wantEmpty(t, put(a, map[string]any{"remove": "🚀"}))
	resp = env.Do(t, req{Method: "GET", Path: path, Token: a.Token})
	if mustJSON(resp.JSON) != mustJSON(map[string]any{"👍": []int64{a.ID}, "👎": []int64{b.ID}}) {
		t.Errorf("after changes = %s", resp.Raw)
	}
	w := watch(t, env, g, a, b)
	wantError(t, put(a, map[string]any{}), 422, "add")
	wantError(t, put(a, map[string]any{"add": strings.Repeat("x", 65)}), 422, "add")
	wantError(t, put(a, map[string]any{"add": 5}), 422, "add")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/xyz/reactions.json", Token: a.Token, Body: map[string]any{"add": "x"}}), 400, "base")
	wantError(t, env.Do(t, req{Method: "GET", Path: "/chat/Message/_/reactions.json", Token: a.Token}), 400, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + unknownID + "/reactions.json", Token: a.Token, Body: map[string]any{"add": "x"}}), 404, "base")
	wantError(t, put(c, map[string]any{"add": "👀"}), 404, "base")
	w.unchanged(t, "refused reactions")
	// Removing everything: reactions back to null.
	wantEmpty(t, put(a, map[string]any{"remove": "👍"}))
	wantEmpty(t, put(b, map[string]any{"remove": "👎"}))
	want(t, "none left", peek(t, env, a, g)[0], map[string]any{"reactions": nil})
}

func TestSearch(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "Party planning", b)
	p := newPrivate(t, env, a, b)
	foreign := newGroup(t, env, b, "Party elsewhere", c)
	m1 := send(t, env, a, g, "the party starts at nine")
	env.Clock.Advance(2 * time.Minute)
	m2 := send(t, env, b, p, "after the party")
	send(t, env, b, foreign, "secret party talk")
	send(t, env, b, g, "The Party is LOUD")
	search := func(u *servertest.User, query string) *servertest.Response {
		return env.Do(t, req{Method: "GET", Path: "/chat/search.json?" + query, Token: u.Token})
	}
	resp := search(a, "search_text=party")
	wantStatus(t, resp, http.StatusOK)
	res := obj(t, resp.JSON, "results")
	msgs := []map[string]any{}
	for _, m := range res["messages"].([]any) {
		msgs = append(msgs, m.(map[string]any))
		checkMessageShape(t, m.(map[string]any))
	}
	sameSet(t, "messages", idsOf(msgs), []string{m1["_id"].(string), m2["_id"].(string)})
	if ds, ok := res["dialogs"].([]any); !ok || len(ds) != 0 {
		t.Errorf("dialogs matching \"party\" (case-sensitive) = %v, want none", res["dialogs"])
	}
	if _, ok := res["users"].([]any); !ok {
		t.Errorf("users = %v, want an array", res["users"])
	}
	// users (REST.md §7, the recommended choice): users who share a dialog
	// with the caller and whose login contains the text; c shares none with a.
	for _, tc := range []struct {
		u    *servertest.User
		want []int64
	}{{b, []int64{b.ID}}, {c, nil}} {
		resp := search(a, "search_text="+q(tc.u.Login))
		wantStatus(t, resp, http.StatusOK)
		us := obj(t, resp.JSON, "results")["users"].([]any)
		for _, u := range us {
			checkUserShape(t, u.(map[string]any))
		}
		if got := ids(t, us, false); fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && tc.want == nil) {
			t.Errorf("users matching %q = %v, want %v", tc.u.Login, got, tc.want)
		}
	}
	resp = search(a, "search_text=Party")
	wantStatus(t, resp, http.StatusOK)
	res = obj(t, resp.JSON, "results")
	ds := []map[string]any{}
	for _, d := range res["dialogs"].([]any) {
		ds = append(ds, d.(map[string]any))
		checkDialogShape(t, d.(map[string]any))
	}
	sameStrings(t, "dialogs", idsOf(ds), []string{g})
	if len(res["messages"].([]any)) != 1 {
		t.Errorf("messages for \"Party\" = %v", res["messages"])
	}
	// chat_dialog_ids restricts the messages.
	resp = search(a, "search_text=party&chat_dialog_ids="+p)
	wantStatus(t, resp, http.StatusOK)
	if got := obj(t, resp.JSON, "results")["messages"].([]any); len(got) != 1 || got[0].(map[string]any)["_id"] != m2["_id"] {
		t.Errorf("restricted search = %v", got)
	}
	// The date window: start_date is the later bound, end_date the earlier (ISO with ms, as the SDK sends).
	sent1 := time.Unix(num(t, m1, "date_sent"), 0).UTC()
	resp = search(a, "search_text=party&start_date="+q(sent1.Add(30*time.Second).Format("2006-01-02T15:04:05.000Z"))+
		"&end_date="+q(sent1.Add(-30*time.Second).Format("2006-01-02T15:04:05.000Z")))
	wantStatus(t, resp, http.StatusOK)
	if got := obj(t, resp.JSON, "results")["messages"].([]any); len(got) != 1 || got[0].(map[string]any)["_id"] != m1["_id"] {
		t.Errorf("windowed search = %v", got)
	}
	// Hidden messages are not found.
	report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + m2["_id"].(string) + ".json", Token: a.Token}))
	resp = search(a, "search_text=party")
	if got := obj(t, resp.JSON, "results")["messages"].([]any); len(got) != 1 {
		t.Errorf("after delete-for-me: %v", got)
	}
	send(t, env, a, g, "party again")
	resp = search(a, "search_text=party&limit=1")
	wantStatus(t, resp, http.StatusOK)
	if got := obj(t, resp.JSON, "results")["messages"].([]any); len(got) != 1 {
		t.Errorf("limit=1 gave %d messages", len(got))
	}
	resp = search(a, "search_text=art&limit=1")
	if resp.Status == http.StatusOK {
		t.Errorf("a 3-character search_text was accepted: %s", resp.Raw)
	}
	// The text is literal: GLOB's wildcards and classes in it match only
	// themselves.
	lit := send(t, env, a, g, "deal: 50% off? [sale] *a*b?c today")
	send(t, env, a, g, "deal: 50% offX [sale] xaXbYc today")
	for _, text := range []string{"off? [sale]", "*a*b?c", "[sale] *a", "50% off?"} {
		resp := search(a, "search_text="+q(text))
		wantStatus(t, resp, http.StatusOK)
		got := obj(t, resp.JSON, "results")["messages"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["_id"] != lit["_id"] {
			t.Errorf("search %q = %v, want only the literal message", text, got)
		}
	}
	var elevenIDs []string
	for range 11 {
		elevenIDs = append(elevenIDs, unknownID)
	}
	for _, tc := range []struct {
		query string
		field string
	}{
		{"search_text=part", "search_text"},
		{"", "search_text"},
		{"search_text=party&chat_dialog_ids=" + strings.Join(elevenIDs, ","), "chat_dialog_ids"},
		{"search_text=party&start_date=2024-04-01T00:00:00.000Z", "end_date"},
		{"search_text=party&start_date=2024-04-01T00:00:00.000Z&end_date=2023-12-01T00:00:00.000Z", "end_date"},
		{"search_text=party&start_date=2024-04-01T00:00:00.000Z&end_date=2024-05-01T00:00:00.000Z", "end_date"},
		{"search_text=party&start_date=nope&end_date=2024-01-01", "start_date"},
		{"search_text=party&limit=101", "limit"},
	} {
		t.Run(tc.query, func(t *testing.T) { wantError(t, search(a, tc.query), 422, tc.field) })
	}
}

// REST.md §6: the permission cells that say "no", with the store unchanged.
func TestMessagePermissionRefusals(t *testing.T) {
	env := servertest.Start(t)
	owner, member, outsider := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, owner, "g", member)
	om := send(t, env, owner, g, "owner's")["_id"].(string)
	send(t, env, member, g, "member's")
	bc := newPublic(t, env, owner, "pub", false)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + bc + "/subscribe.json", Token: member.Token}), 200)
	pm := send(t, env, owner, bc, "announcement")["_id"].(string)
	wg := watch(t, env, g, owner, member)
	wp := watch(t, env, bc, owner, member)
	for _, tc := range []struct {
		name   string
		r      req
		status int
		field  string
	}{
		{"member edits owner's message", req{Method: "PUT", Path: "/chat/Message/" + om + ".json", Token: member.Token, Body: map[string]any{"message": "x"}}, 403, "base"},
		{"outsider posts to a group", req{Method: "POST", Path: "/chat/Message.json", Token: outsider.Token, Body: map[string]any{"chat_dialog_id": g, "message": "x"}}, 404, "base"},
		{"outsider reads a group", req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + g, Token: outsider.Token}, 404, "base"},
		{"outsider posts to a public dialog", req{Method: "POST", Path: "/chat/Message.json", Token: outsider.Token, Body: map[string]any{"chat_dialog_id": bc, "message": "x"}}, 404, "base"},
		{"body too long", req{Method: "POST", Path: "/chat/Message.json", Token: member.Token, Body: map[string]any{"chat_dialog_id": g, "message": strings.Repeat("é", 64*1024+1)}}, 422, "message"},
		{"body not text", req{Method: "POST", Path: "/chat/Message.json", Token: member.Token, Body: map[string]any{"chat_dialog_id": g, "message": []int{1}}}, 422, "message"},
		{"too many attachments", req{Method: "POST", Path: "/chat/Message.json", Token: member.Token, Body: map[string]any{"chat_dialog_id": g, "attachments": make([]map[string]any, 21)}}, 422, "attachments"},
		{"attachments not objects", req{Method: "POST", Path: "/chat/Message.json", Token: member.Token, Body: map[string]any{"chat_dialog_id": g, "attachments": "photo"}}, 422, "attachments"},
		{"unknown dialog", req{Method: "POST", Path: "/chat/Message.json", Token: member.Token, Body: map[string]any{"chat_dialog_id": unknownID, "message": "x"}}, 404, "base"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantError(t, env.Do(t, tc.r), tc.status, tc.field) })
	}
	// Forced deletes the table refuses: reported under WrongPermissions.
	for _, id := range []string{om, pm} {
		_, _, wrong := report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + id + ".json", Token: member.Token, Body: "force=1"}))
		sameStrings(t, "WrongPermissions", wrong, []string{id})
	}
	wg.unchanged(t, "refused message requests")
	wp.unchanged(t, "refused public message requests")
}

// REALTIME.md §20.2: storing M makes it the dialog's last message; only an
// edit or delete of that newest message recomputes last_message*. Deleting
// an older message for everyone must leave it alone, also when two
// messages share a date_sent second.
func TestLastMessageSurvivesDeletingAnOlderMessage(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	old := send(t, env, a, g, "older")["_id"].(string)
	post := func(text string) map[string]any {
		resp := env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: a.Token,
			Body: map[string]any{"chat_dialog_id": g, "message": text}})
		wantStatus(t, resp, http.StatusCreated)
		return resp.JSON
	}
	// Two messages in one second. (The server's ids increase within a
	// second, so the case of a later message with the smaller _id, which
	// only a client-chosen id makes, is tested in the chat package.)
	var second map[string]any
	for try := 0; second == nil; try++ {
		if try == 50 {
			t.Fatal("no same-second pair in 50 tries")
		}
		env.Clock.Advance(time.Second)
		m1, m2 := post("first of the second"), post("second of the second")
		if m1["date_sent"] == m2["date_sent"] {
			second = m2
		}
	}
	want(t, "after storing", mustView(t, env, b, g), map[string]any{"last_message_id": second["_id"], "last_message": "second of the second"})
	del, _, _ := report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + old + ".json", Token: a.Token, Body: "force=1"}))
	sameStrings(t, "deleted", del, []string{old})
	want(t, "after deleting an older message", mustView(t, env, b, g), map[string]any{"last_message_id": second["_id"],
		"last_message": "second of the second"})
}

// Many clients posting at once (the server group-commits them): every
// message is stored once, counters and the last message stay exact.
func TestConcurrentPostsOverHTTP(t *testing.T) {
	env := servertest.Start(t)
	users := []*servertest.User{env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t)}
	g := newGroup(t, env, users[0], "busy", users[1:]...)
	p := newPrivate(t, env, users[0], users[1])
	const perUser = 20
	var wg sync.WaitGroup
	errs := make(chan string, len(users)*perUser*2)
	for i, u := range users {
		wg.Go(func() {
			for n := range perUser {
				for _, d := range []string{g, p} {
					if d == p && i > 1 {
						continue
					}
					resp := env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: u.Token,
						Body: map[string]any{"chat_dialog_id": d, "message": fmt.Sprintf("%d-%d", i, n)}})
					if resp.Status != http.StatusCreated {
						errs <- fmt.Sprintf("post: %d %s", resp.Status, resp.Raw)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	all := history(t, env, users[0], g, "mark_as_read=0&limit=1000")
	if len(all) != len(users)*perUser {
		t.Fatalf("group holds %d messages, want %d", len(all), len(users)*perUser)
	}
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m["message"].(string)] {
			t.Fatalf("message %v stored twice", m["message"])
		}
		seen[m["message"].(string)] = true
	}
	for _, u := range users {
		want(t, fmt.Sprintf("user %d", u.ID), mustView(t, env, u, g), map[string]any{"unread_messages_count": (len(users) - 1) * perUser})
	}
	want(t, "private", mustView(t, env, users[1], p), map[string]any{"unread_messages_count": perUser})
	want(t, "unread", unread(t, env, users[1], ""), map[string]any{"total": (len(users)-1)*perUser + perUser})
	// The last message is one of the stored ones and carries its fields.
	v := mustView(t, env, users[2], g)
	var last map[string]any
	for _, m := range all {
		if m["_id"] == v["last_message_id"] {
			last = m
		}
	}
	if last == nil {
		t.Fatalf("last_message_id %v is not in the history", v["last_message_id"])
	}
	want(t, "last message", v, map[string]any{"last_message": last["message"], "last_message_user_id": last["sender_id"],
		"last_message_date_sent": last["date_sent"]})
	if v["last_message_date_sent"] != all[len(all)-1]["date_sent"] {
		t.Errorf("last_message_date_sent %v is not the newest date_sent %v", v["last_message_date_sent"], all[len(all)-1]["date_sent"])
	}
}

func TestEditsAndDeletesReachSearchAndPins(t *testing.T) {
	env := servertest.Start(t)
	a, b := env.NewUser(t), env.NewUser(t)
	g := newGroup(t, env, a, "g", b)
	m := send(t, env, a, g, "original wording")["_id"].(string)
	pinned := send(t, env, b, g, "pinned message")["_id"].(string)
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token,
		Body: map[string]any{"push_all": map[string]any{"pinned_messages_ids": []string{pinned, m}}}}), 200)
	wantEmpty(t, env.Do(t, req{Method: "PUT", Path: "/chat/Message/" + m + ".json", Token: a.Token, Body: map[string]any{"message": "revised text"}}))
	found := func(text string) int {
		resp := env.Do(t, req{Method: "GET", Path: "/chat/search.json?search_text=" + q(text), Token: b.Token})
		wantStatus(t, resp, http.StatusOK)
		return len(obj(t, resp.JSON, "results")["messages"].([]any))
	}
	if n := found("original"); n != 0 {
		t.Errorf("search finds the old body %d times", n)
	}
	if n := found("revised"); n != 1 {
		t.Errorf("search finds the new body %d times, want 1", n)
	}
	report(t, env.Do(t, req{Method: "DELETE", Path: "/chat/Message/" + pinned + ".json", Token: b.Token, Body: "force=1"}))
	if n := found("pinned"); n != 0 {
		t.Errorf("search finds a deleted message %d times", n)
	}
	want(t, "pins after delete", mustView(t, env, a, g), map[string]any{"pinned_messages_ids": []string{m}})
}

func TestCreateDialogWithFormBody(t *testing.T) {
	env := servertest.Start(t)
	a, b, c := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	resp := env.Do(t, req{Method: "POST", Path: "/chat/Dialog.json", Token: a.Token, ContentType: "application/x-www-form-urlencoded",
		Body: fmt.Sprintf("type=2&name=Form%%20group&occupants_ids=%d,%d&permissions[allow_preview]=true", b.ID, c.ID)})
	wantStatus(t, resp, http.StatusCreated)
	want(t, "form create", resp.JSON, map[string]any{"name": "Form group", "occupants_ids": []int64{a.ID, b.ID, c.ID},
		"permissions": map[string]any{"allow_preview": true}})
	g := resp.JSON["_id"].(string)
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + g + ".json", Token: a.Token, ContentType: "application/x-www-form-urlencoded",
		Body: fmt.Sprintf("pull_all[occupants_ids][]=%d&name=Renamed", c.ID)})
	wantStatus(t, resp, http.StatusOK)
	want(t, "form update", resp.JSON, map[string]any{"name": "Renamed", "occupants_ids": []int64{a.ID, b.ID}})
}

// REST.md §5.0: the owner and admins always see their public dialog, so a
// request they may not make is 403, not the 404 of an invisible dialog;
// subscribers send, an unsubscribed admin does not.
func TestPublicDialogAdminWithoutSubscription(t *testing.T) {
	env := servertest.Start(t)
	owner, admin, sub := env.NewUser(t), env.NewUser(t), env.NewUser(t)
	pub := newPublic(t, env, owner, "announcements", false)
	resp := env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + pub + "/admins.json", Token: owner.Token,
		Body: map[string]any{"push_all": map[string]any{"admins_ids": []int64{admin.ID}}}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "admins", resp.JSON, map[string]any{"admins_ids": []int64{admin.ID}, "occupants_count": 1})
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: sub.Token}), 200)
	send(t, env, sub, pub, "from a subscriber")
	w := watch(t, env, pub, owner, sub)
	for _, r := range []req{
		{Method: "POST", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": pub, "message": "from the admin"}},
		{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + pub},
		{Method: "PUT", Path: "/chat/Message.json", Body: map[string]any{"chat_dialog_id": pub, "read": 1}},
		{Method: "GET", Path: "/chat/Dialog/" + pub + "/notifications.json"},
		{Method: "DELETE", Path: "/chat/Dialog/" + pub + ".json", Body: "force=1"},
	} {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			r.Token = admin.Token
			wantError(t, env.Do(t, r), http.StatusForbidden, "base")
		})
	}
	w.unchanged(t, "an unsubscribed admin's refused requests")
	// What an admin may do without subscribing: see the subscribers, edit the info.
	resp = env.Do(t, req{Method: "GET", Path: "/chat/Dialog/" + pub + "/occupants.json", Token: admin.Token})
	wantStatus(t, resp, http.StatusOK)
	sameIDs(t, ids(t, resp.JSON["items"].([]any), false), []int64{owner.ID, sub.ID})
	resp = env.Do(t, req{Method: "PUT", Path: "/chat/Dialog/" + pub + ".json", Token: admin.Token, Body: map[string]any{"description": "by the admin"}})
	wantStatus(t, resp, http.StatusOK)
	want(t, "edited by admin", resp.JSON, map[string]any{"description": "by the admin", "admins_ids": []int64{admin.ID}})
	// Once subscribed, the admin posts.
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Dialog/" + pub + "/subscribe.json", Token: admin.Token}), 200)
	send(t, env, admin, pub, "now subscribed")
}
