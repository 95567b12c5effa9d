package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/servertest"
)

// Helpers of the chat tests (REST.md §5–§7). They talk to the real server
// only; "the store did not change" is checked by reading through the API.

var (
	objectIDRe = regexp.MustCompile(`^[0-9a-f]{24}$`)
	hexLetter  = regexp.MustCompile(`[a-f]`)
)

// dialogKeys is the Dialog model of REST.md §2.3.
var dialogKeys = []string{"_id", "type", "name", "description", "photo", "user_id", "occupants_ids",
	"occupants_count", "admins_ids", "pinned_messages_ids", "last_message", "last_message_id",
	"last_message_user_id", "last_message_date_sent", "last_message_status", "unread_messages_count",
	"xmpp_room_jid", "extensions", "permissions", "created_at", "updated_at"}

// messageKeys is the Message model of REST.md §2.4 (custom keys come on top).
var messageKeys = []string{"_id", "chat_dialog_id", "message", "date_sent", "sender_id", "recipient_id",
	"attachments", "read_ids", "delivered_ids", "views_count", "read", "reactions", "created_at", "updated_at"}

func checkDialogShape(t *testing.T, d map[string]any) {
	t.Helper()
	for _, k := range dialogKeys {
		if _, ok := d[k]; !ok {
			t.Errorf("dialog lacks %q: %v", k, d)
		}
	}
	id, _ := d["_id"].(string)
	if !objectIDRe.MatchString(id) || !hexLetter.MatchString(id) {
		t.Errorf("dialog _id %q is not 24 lowercase hex with a letter", id)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := d[k].(string); !isoRe.MatchString(s) {
			t.Errorf("dialog %s = %v, want ISO seconds with Z", k, d[k])
		}
	}
}

func checkMessageShape(t *testing.T, m map[string]any) {
	t.Helper()
	for _, k := range messageKeys {
		if _, ok := m[k]; !ok {
			t.Errorf("message lacks %q: %v", k, m)
		}
	}
	if id, _ := m["_id"].(string); !objectIDRe.MatchString(id) {
		t.Errorf("message _id %q is not 24 lowercase hex", id)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := m[k].(string); !isoRe.MatchString(s) {
			t.Errorf("message %s = %v, want ISO seconds with Z", k, m[k])
		}
	}
	if _, ok := m["date_sent"].(float64); !ok {
		t.Errorf("message date_sent = %#v, want an integer", m["date_sent"])
	}
}

// want compares selected fields of a decoded object (numbers as float64).
func want(t *testing.T, what string, got map[string]any, fields map[string]any) {
	t.Helper()
	for k, v := range fields {
		if mustJSON(got[k]) != mustJSON(v) {
			t.Errorf("%s: %s = %s, want %s", what, k, mustJSON(got[k]), mustJSON(v))
		}
	}
}

// postDialog creates a dialog and returns the response.
func postDialog(t *testing.T, env *servertest.Env, u *servertest.User, body any) *servertest.Response {
	t.Helper()
	return env.Do(t, req{Method: "POST", Path: "/chat/Dialog.json", Token: u.Token, Body: body})
}

// newDialog creates a dialog, expecting 201, and returns it.
func newDialog(t *testing.T, env *servertest.Env, u *servertest.User, body map[string]any) map[string]any {
	t.Helper()
	resp := postDialog(t, env, u, body)
	wantStatus(t, resp, http.StatusCreated)
	return resp.JSON
}

func userIDs(us ...*servertest.User) string {
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = fmt.Sprint(u.ID)
	}
	return strings.Join(parts, ", ")
}

// newGroup creates a group dialog owned by owner with members (the SDK's
// "1, 2" string form of occupants_ids) and returns its id.
func newGroup(t *testing.T, env *servertest.Env, owner *servertest.User, name string, members ...*servertest.User) string {
	t.Helper()
	return newDialog(t, env, owner, map[string]any{"type": 2, "name": name, "occupants_ids": userIDs(members...)})["_id"].(string)
}

func newPrivate(t *testing.T, env *servertest.Env, a, b *servertest.User) string {
	t.Helper()
	return newDialog(t, env, a, map[string]any{"type": 3, "occupants_ids": b.ID})["_id"].(string)
}

func newPublic(t *testing.T, env *servertest.Env, owner *servertest.User, name string, allowPreview bool) string {
	t.Helper()
	return newDialog(t, env, owner, map[string]any{"type": 4, "name": name,
		"permissions": map[string]any{"allow_preview": allowPreview}})["_id"].(string)
}

// send posts a message with body text, expecting 201. It first moves the
// server clock on by a second, so that messages sent one after another have
// increasing date_sent (within a second the order is by _id, REST.md §6.1).
func send(t *testing.T, env *servertest.Env, u *servertest.User, dialogID, text string) map[string]any {
	t.Helper()
	env.Clock.Advance(time.Second)
	resp := env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: u.Token,
		Body: map[string]any{"chat_dialog_id": dialogID, "message": text}})
	wantStatus(t, resp, http.StatusCreated)
	return resp.JSON
}

// listed returns the caller's dialog list for query (without "?").
func listed(t *testing.T, env *servertest.Env, u *servertest.User, query string) *servertest.Response {
	t.Helper()
	return env.Do(t, req{Method: "GET", Path: "/chat/Dialog.json?" + query, Token: u.Token})
}

func items(t *testing.T, resp *servertest.Response) []map[string]any {
	t.Helper()
	raw, ok := resp.JSON["items"].([]any)
	if !ok {
		t.Fatalf("no items array: %d %s", resp.Status, resp.Raw)
	}
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		out[i] = it.(map[string]any)
	}
	return out
}

func idsOf(list []map[string]any) []string {
	out := []string{}
	for _, it := range list {
		out = append(out, it["_id"].(string))
	}
	return out
}

// listedIDs lists dialogs with query, expecting 200, and returns their ids.
func listedIDs(t *testing.T, env *servertest.Env, u *servertest.User, query string) []string {
	t.Helper()
	resp := listed(t, env, u, query)
	wantStatus(t, resp, http.StatusOK)
	return idsOf(items(t, resp))
}

// dialogView is the caller's listed view of one dialog, nil when it is not
// in the caller's list.
func dialogView(t *testing.T, env *servertest.Env, u *servertest.User, id string) map[string]any {
	t.Helper()
	resp := listed(t, env, u, "_id="+id)
	wantStatus(t, resp, http.StatusOK)
	list := items(t, resp)
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

func mustView(t *testing.T, env *servertest.Env, u *servertest.User, id string) map[string]any {
	t.Helper()
	d := dialogView(t, env, u, id)
	if d == nil {
		t.Fatalf("dialog %s is not in the list of user %d", id, u.ID)
	}
	return d
}

// history lists messages of a dialog (query appended), expecting 200.
func history(t *testing.T, env *servertest.Env, u *servertest.User, dialogID, query string) []map[string]any {
	t.Helper()
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Message.json?chat_dialog_id=" + dialogID + "&" + query, Token: u.Token})
	wantStatus(t, resp, http.StatusOK)
	return items(t, resp)
}

// peek lists messages without marking them read.
func peek(t *testing.T, env *servertest.Env, u *servertest.User, dialogID string) []map[string]any {
	t.Helper()
	return history(t, env, u, dialogID, "mark_as_read=0")
}

func bodies(list []map[string]any) []string {
	out := []string{}
	for _, m := range list {
		out = append(out, m["message"].(string))
	}
	return out
}

// unread returns GET /chat/Message/unread with query, expecting 200.
func unread(t *testing.T, env *servertest.Env, u *servertest.User, query string) map[string]any {
	t.Helper()
	resp := env.Do(t, req{Method: "GET", Path: "/chat/Message/unread.json?" + query, Token: u.Token})
	wantStatus(t, resp, http.StatusOK)
	return resp.JSON
}

// snapshot is everything u can read about a dialog through the API: its
// listed view, its history (not marked read) and u's unread counts.
func snapshot(t *testing.T, env *servertest.Env, u *servertest.User, dialogID string) string {
	t.Helper()
	var b strings.Builder
	for _, path := range []string{
		"/chat/Dialog.json?_id=" + dialogID,
		"/chat/Message.json?mark_as_read=0&chat_dialog_id=" + dialogID,
		"/chat/Message/unread.json?chat_dialog_ids=" + dialogID,
		"/chat/Dialog/" + dialogID + "/occupants.json",
		"/chat/Dialog/" + dialogID + "/notifications.json",
	} {
		resp := env.Do(t, req{Method: "GET", Path: path, Token: u.Token})
		fmt.Fprintf(&b, "%s → %d %s\n", path, resp.Status, resp.Raw)
	}
	return b.String()
}

// unchanged asserts that a rejected request left what every user in us
// can read about the dialog as it was in before (from snapshots).
type watcher struct {
	env    *servertest.Env
	dialog string
	users  []*servertest.User
	before []string
}

func watch(t *testing.T, env *servertest.Env, dialogID string, us ...*servertest.User) *watcher {
	t.Helper()
	w := &watcher{env: env, dialog: dialogID, users: us}
	for _, u := range us {
		w.before = append(w.before, snapshot(t, env, u, dialogID))
	}
	return w
}

func (w *watcher) unchanged(t *testing.T, after string) {
	t.Helper()
	for i, u := range w.users {
		if now := snapshot(t, w.env, u, w.dialog); now != w.before[i] {
			t.Errorf("after %s the state seen by user %d changed:\nbefore:\n%s\nafter:\n%s", after, u.ID, w.before[i], now)
		}
	}
}

// sameAnswer asserts two responses have the same status and body.
func sameAnswer(t *testing.T, what string, got, ref *servertest.Response) {
	t.Helper()
	if got.Status != ref.Status || string(got.Raw) != string(ref.Raw) {
		t.Errorf("%s: got %d %s, an unknown id gets %d %s", what, got.Status, got.Raw, ref.Status, ref.Raw)
	}
}

// masked is resp with every occurrence of id in its body replaced by as: a
// multi-id report names the ids it was given.
func masked(resp *servertest.Response, id, as string) *servertest.Response {
	out := *resp
	out.Raw = []byte(strings.ReplaceAll(string(resp.Raw), id, as))
	return &out
}

// wantEmpty asserts a TEXT-typed success: 200 with an empty body.
func wantEmpty(t *testing.T, resp *servertest.Response) {
	t.Helper()
	if resp.Status != http.StatusOK || len(resp.Raw) != 0 {
		t.Fatalf("got %d %q, want 200 with an empty body", resp.Status, resp.Raw)
	}
}

func numList(t *testing.T, v any) []int64 {
	t.Helper()
	raw, ok := v.([]any)
	if !ok {
		t.Fatalf("%#v is not an array", v)
	}
	out := []int64{}
	for _, x := range raw {
		f, ok := x.(float64)
		if !ok {
			t.Fatalf("%#v is not a number", x)
		}
		out = append(out, int64(f))
	}
	return out
}

func strList(t *testing.T, v any) []string {
	t.Helper()
	raw, ok := v.([]any)
	if !ok {
		t.Fatalf("%#v is not an array", v)
	}
	out := []string{}
	for _, x := range raw {
		out = append(out, x.(string))
	}
	return out
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s = %v, want (any order) %v", what, got, want)
	}
}

// report decodes a multi-delete report (REST.md §5.4, §6.4).
func report(t *testing.T, resp *servertest.Response) (deleted, notFound, wrong []string) {
	t.Helper()
	wantStatus(t, resp, http.StatusOK)
	get := func(k string) []string {
		o := obj(t, resp.JSON, k)
		return strList(t, o["ids"])
	}
	return get("SuccessfullyDeleted"), get("NotFound"), get("WrongPermissions")
}

// appUser signs up a user in app (with its auth key) and logs it in there.
func appUser(t *testing.T, env *servertest.Env, app *auth.App, login string) *servertest.User {
	t.Helper()
	u := &servertest.User{Login: login, Password: "password-" + login}
	resp := env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": app.AuthKey},
		Body: map[string]any{"user": map[string]any{"login": u.Login, "password": u.Password}}})
	wantStatus(t, resp, http.StatusCreated)
	u.ID = num(t, obj(t, resp.JSON, "user"), "id")
	resp = env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": app.ID, "auth_key": app.AuthKey,
		"user": map[string]any{"login": u.Login, "password": u.Password}}})
	wantStatus(t, resp, http.StatusCreated)
	u.Token = obj(t, resp.JSON, "session")["token"].(string)
	return u
}

func newApp(t *testing.T, env *servertest.Env, name string, extensions []string) *auth.App {
	t.Helper()
	app, err := env.Server.Auth.CreateApp(context.Background(), name, extensions)
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	return app
}

// nextSecond moves the server clock to the next whole second plus frac,
// so that what happens next has a known place inside its second.
func nextSecond(env *servertest.Env, frac time.Duration) time.Time {
	now := env.Clock.Now()
	target := now.Truncate(time.Second).Add(time.Second + frac)
	env.Clock.Advance(target.Sub(now))
	return target
}

func q(s string) string { return url.QueryEscape(s) }

// unknownID is well-formed and names nothing.
const unknownID = "65a1f0c2e4b0a1b2c3d4e5f6"
