package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/data"
	"github.com/parley-chat/parley/internal/servertest"
)

// newClass creates a class in the test server's default app, as the
// operator's command does.
func newClass(t testing.TB, env *servertest.Env, name, fields string, mutate ...func(*data.Class)) *data.Class {
	t.Helper()
	fs, err := data.ParseFields(fields)
	if err != nil {
		t.Fatal(err)
	}
	c := &data.Class{AppID: env.App.ID, Name: name, Fields: fs, Perms: data.DefaultClassPerms()}
	for _, m := range mutate {
		m(c)
	}
	if err := env.Server.Data.CreateClass(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// stored returns every record of a class, straight from the store.
func stored(t *testing.T, env *servertest.Env, appID int64, class string) []*data.Record {
	t.Helper()
	cls, err := env.Server.Data.Class(context.Background(), appID, class)
	if err != nil {
		t.Fatal(err)
	}
	var out []*data.Record
	if err := env.Server.Data.Scan(context.Background(), cls, func(r *data.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func createRec(t *testing.T, env *servertest.Env, u *servertest.User, class string, body map[string]any) map[string]any {
	t.Helper()
	resp := env.Do(t, req{Method: "POST", Path: "/data/" + class + ".json", Token: u.Token, Body: body})
	wantStatus(t, resp, http.StatusCreated)
	return resp.JSON
}

func listRecs(t *testing.T, env *servertest.Env, u *servertest.User, class, query string) []map[string]any {
	t.Helper()
	resp := env.Do(t, req{Method: "GET", Path: "/data/" + class + ".json?" + query, Token: u.Token})
	wantStatus(t, resp, http.StatusOK)
	return items(t, resp)
}

func TestDataReportUser(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "UserReports", "reportedUserId:Integer,reason:String")
	u := env.NewUser(t)
	rec := createRec(t, env, u, "UserReports", map[string]any{"reportedUserId": 45, "reason": "User is spamming with bad words"})
	want(t, "record", rec, map[string]any{"reportedUserId": 45.0, "reason": "User is spamming with bad words",
		"_parent_id": nil, "user_id": float64(u.ID)})
	if !dataIDRe(rec["_id"]) {
		t.Errorf("_id = %v; want 24 lowercase hex", rec["_id"])
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if n, ok := rec[k].(float64); !ok || n < 1e9 || n != float64(int64(n)) {
			t.Errorf("%s = %v; want integer Unix seconds", k, rec[k])
		}
	}
	if got := mustJSON(rec["permissions"]); got != `{"delete":{"access":"owner"},"read":{"access":"open"},"update":{"access":"owner"}}` {
		t.Errorf("permissions = %s", got)
	}
	// Coercion: "41" is 41; an unset field is null.
	rec = createRec(t, env, u, "UserReports", map[string]any{"reportedUserId": "41"})
	if rec["reportedUserId"] != 41.0 || rec["reason"] != nil {
		t.Errorf("coerced record = %v", rec)
	}
	if _, ok := rec["reason"]; !ok {
		t.Errorf("unset field reason missing from %v; want null", rec)
	}
}

func dataIDRe(v any) bool {
	s, _ := v.(string)
	return data.ValidID(s)
}

// Bad writes get the ConnectyCube error shape and store nothing.
func TestDataBadInputStoresNothing(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Reports", "age:Integer,score:Float,ok:Boolean,tags:Array,at:Date,where:Location,reason:String")
	u := env.NewUser(t)
	post := func(path string, body any) *servertest.Response {
		return env.Do(t, req{Method: "POST", Path: path, Token: u.Token, Body: body})
	}
	for _, tc := range []struct {
		body   map[string]any
		status int
		field  string
	}{
		{map[string]any{"age": "forty"}, 422, "age"},
		{map[string]any{"age": 4.5}, 422, "age"},
		{map[string]any{"score": "x"}, 422, "score"},
		{map[string]any{"ok": "maybe"}, 422, "ok"},
		{map[string]any{"tags": map[string]any{"a": 1}}, 422, "tags"},
		{map[string]any{"tags": []any{map[string]any{"a": 1}}}, 422, "tags"},
		{map[string]any{"at": "not a date"}, 422, "at"},
		{map[string]any{"where": []any{200, 10}}, 422, "where"},
		{map[string]any{"where": "x"}, 422, "where"},
		{map[string]any{"reason": map[string]any{"x": 1}}, 422, "reason"},
		{map[string]any{"nosuch": 1}, 422, "nosuch"},
		{map[string]any{"inc": map[string]any{"age": 1}}, 422, "inc"},
		{map[string]any{"permissions": map[string]any{"read": map[string]any{"access": "not_allowed"}}}, 422, "permissions[read]"},
		{map[string]any{"permissions": map[string]any{"read": map[string]any{"access": "open_for_users_ids", "ids": []any{"x"}}}}, 422, "permissions[read]"},
		{map[string]any{"_parent_id": "xyz"}, 400, "base"},
	} {
		wantError(t, post("/data/Reports.json", tc.body), tc.status, tc.field)
	}
	// One bad record of several: none is stored.
	wantError(t, post("/data/Reports/multi.json", map[string]any{"record": map[string]any{
		"1": map[string]any{"age": 1}, "2": map[string]any{"age": "x"}}}), 422, "age")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/data/Nope.json", Token: u.Token, Body: map[string]any{"a": 1}}), 404, "base")
	resp := env.Do(t, req{Method: "POST", Path: "/data/Nope.json", Token: u.Token, Body: map[string]any{"a": 1}})
	if mustJSON(resp.JSON) != `{"errors":{"base":["Class not found"]}}` {
		t.Errorf("unknown class body = %s", resp.Raw)
	}
	wantError(t, env.Do(t, req{Method: "POST", Path: "/data/bad-name.json", Token: u.Token, Body: map[string]any{"a": 1}}), 400, "base")
	if n := len(stored(t, env, env.App.ID, "Reports")); n != 0 {
		t.Errorf("%d records stored after refused writes; want none", n)
	}

	// Filters: unknown field, unknown operator, a value of the wrong type.
	createRec(t, env, u, "Reports", map[string]any{"age": 3})
	for _, q := range []string{"nosuch=1", "age[foo]=1", "age[gt]=abc", "reason[all]=a", "where[near]=1,2", "reason[near]=1,2;10", "where[near]=1,2;-5",
		"age[calc]=median&group_by=reason", "reason[calc]=avg", "age[calc]=avg&group_by=tags", "group_by=reason", "sort_asc=nosuch", "limit=101", "limit=-2", "output[include]=nosuch"} {
		resp := env.Do(t, req{Method: "GET", Path: "/data/Reports.json?" + q, Token: u.Token})
		if resp.Status != 422 {
			t.Errorf("GET ?%s = %d %s; want 422", q, resp.Status, resp.Raw)
		}
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/data/Reports.json?_id=xyz", Token: u.Token}), 400, "base")

	// Too many ids in one request: refused by the 100-id rule (the one of
	// chat's paths and lists), nothing changed. 10,000 ids do not fit in a
	// request line at all (431 from the HTTP server); in a body they get
	// the same 422.
	rec := stored(t, env, env.App.ID, "Reports")[0]
	many := make([]string, 10000)
	for i := range many {
		many[i] = fmt.Sprintf("%024x", i+1)
	}
	many[0] = rec.ID
	path := "/data/Reports/" + strings.Join(many[:101], ",") + ".json"
	wantError(t, env.Do(t, req{Method: "GET", Path: path, Token: u.Token}), 422, "base")
	wantError(t, env.Do(t, req{Method: "DELETE", Path: path, Token: u.Token}), 422, "base")
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: "/data/Reports/" + strings.Join(many, ",") + ".json", Token: u.Token}), 431)
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/data/Reports/by_criteria.json", Token: u.Token,
		Body: "_id%5Bin%5D=" + strings.Join(many, ","), ContentType: "application/x-www-form-urlencoded"}), 422, "_id")
	records := map[string]any{}
	for i := range 10000 {
		records[fmt.Sprint(i+1)] = map[string]any{"_id": many[i], "age": 1}
	}
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/data/Reports/multi.json", Token: u.Token, Body: map[string]any{"record": records}}), 422, "record")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/data/Reports/multi.json", Token: u.Token, Body: map[string]any{"record": records}}), 422, "record")
	if got := stored(t, env, env.App.ID, "Reports"); len(got) != 1 || got[0].Fields["age"] != int64(3) {
		t.Errorf("%d records after refused requests; want the 1, unchanged", len(got))
	}
	// An unknown update operator is named.
	resp = env.Do(t, req{Method: "PUT", Path: "/data/Reports/" + rec.ID + ".json", Token: u.Token, Body: map[string]any{"rename": map[string]any{"age": "x"}}})
	wantError(t, resp, 422, "rename")
	resp = env.Do(t, req{Method: "PUT", Path: "/data/Reports/" + rec.ID + ".json", Token: u.Token, Body: map[string]any{"age": 9, "pop": map[string]any{"age": 1}}})
	wantError(t, resp, 422, "age")
	if got := stored(t, env, env.App.ID, "Reports")[0]; got.Fields["age"] != int64(3) {
		t.Errorf("age after refused updates = %v; want 3", got.Fields["age"])
	}
}

// Another application's class is not there for this app's users.
func TestDataOtherAppIsolated(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	other, err := env.Server.Auth.CreateApp(ctx, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := data.ParseFields("reason:String")
	if err := env.Server.Data.CreateClass(ctx, &data.Class{AppID: other.ID, Name: "Secret", Fields: fs, Perms: data.DefaultClassPerms()}); err != nil {
		t.Fatal(err)
	}
	u := env.NewUser(t)
	for _, r := range []req{
		{Method: "POST", Path: "/data/Secret.json", Body: map[string]any{"reason": "x"}},
		{Method: "GET", Path: "/data/Secret.json"},
		{Method: "DELETE", Path: "/data/Secret/by_criteria.json", Body: "reason=x"},
	} {
		r.Token = u.Token
		resp := env.Do(t, r)
		if resp.Status != 404 || mustJSON(resp.JSON) != `{"errors":{"base":["Class not found"]}}` {
			t.Errorf("%s %s = %d %s; want 404 Class not found", r.Method, r.Path, resp.Status, resp.Raw)
		}
	}
	if n := len(stored(t, env, other.ID, "Secret")); n != 0 {
		t.Errorf("other app's class has %d records; want 0", n)
	}
}

// The filters answer the same with the class's fields indexed or not.
func TestDataListFilters(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testListFilters(t) })
	t.Run("indexed", func(t *testing.T) {
		testListFilters(t, func(c *data.Class) { c.Indexes = []string{"n", "name", "score", "ok", "at"} })
	})
}

func testListFilters(t *testing.T, mutate ...func(*data.Class)) {
	env := servertest.Start(t)
	newClass(t, env, "Items", "n:Integer,name:String,score:Float,ok:Boolean,tags:Array,at:Date", mutate...)
	u := env.NewUser(t)
	var ids []string
	for i := 1; i <= 5; i++ {
		rec := createRec(t, env, u, "Items", map[string]any{"n": i, "name": fmt.Sprintf("item-%d", i), "score": float64(i) / 2,
			"ok": i%2 == 0, "tags": []any{fmt.Sprint("t", i), i}, "at": 1700000000 + i})
		ids = append(ids, rec["_id"].(string))
	}
	ns := func(query string) []int {
		t.Helper()
		var out []int
		for _, it := range listRecs(t, env, u, "Items", query) {
			out = append(out, int(it["n"].(float64)))
		}
		return out
	}
	for _, tc := range []struct {
		q    string
		want []int
	}{
		{"", []int{1, 2, 3, 4, 5}},
		{"n=3", []int{3}},
		{"n[lt]=3", []int{1, 2}},
		{"n[lte]=3", []int{1, 2, 3}},
		{"n[gt]=3", []int{4, 5}},
		{"n[gte]=3", []int{3, 4, 5}},
		{"n[ne]=3", []int{1, 2, 4, 5}},
		{"n[in]=1,5", []int{1, 5}},
		{"n[nin]=1,5", []int{2, 3, 4}},
		{"n[or]=2,4", []int{2, 4}},
		{"name[ctn]=m-4", []int{4}},
		{"name=item-2", []int{2}},
		{"score[gt]=1.5", []int{4, 5}},
		{"ok=true", []int{2, 4}},
		{"ok=0", []int{1, 3, 5}},
		{"tags=t3", []int{3}},
		{"tags=4", []int{4}},
		{"tags[all]=t2,2", []int{2}},
		{"tags[all]=t2,3", nil},
		{"tags[in]=t1,t5", []int{1, 5}},
		{"tags[nin]=t1,t5", []int{2, 3, 4}},
		{"at[gte]=1700000004", []int{4, 5}},
		{"n[gt]=1&n[lt]=5&ok=false", []int{3}},
		{"_id=" + ids[1], []int{2}},
		{"_id[in]=" + ids[0] + "," + ids[4], []int{1, 5}},
		{"_id=" + ids[0] + "," + ids[4], []int{1, 5}},
		{"user_id=" + fmt.Sprint(u.ID), []int{1, 2, 3, 4, 5}},
		{"created_at[gt]=1000", []int{1, 2, 3, 4, 5}},
		{"sort_desc=n", []int{5, 4, 3, 2, 1}},
		{"sort_asc=name&limit=2&skip=1", []int{2, 3}},
		{"limit=-1", []int{5}},
		{"sort_desc=score&limit=-1", []int{1}},
		{"sort_desc=at&n[in]=2,3,4", []int{4, 3, 2}},
		{"name[in]=item-5,item-1&sort_asc=score", []int{1, 5}},
		{"ok=true&sort_desc=n&skip=1", []int{2}},
	} {
		if got := ns(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("?%s = %v; want %v", tc.q, got, tc.want)
		}
	}
	resp := env.Do(t, req{Method: "GET", Path: "/data/Items.json?count=1&n[gt]=2", Token: u.Token})
	wantStatus(t, resp, 200)
	if mustJSON(resp.JSON) != `{"class_name":"Items","count":3,"limit":0,"skip":0}` {
		t.Errorf("count = %s", resp.Raw)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/data/Items.json?limit=2", Token: u.Token})
	if resp.JSON["class_name"] != "Items" || resp.JSON["skip"] != 0.0 || resp.JSON["limit"] != 2.0 {
		t.Errorf("page = %s", resp.Raw)
	}
	it := listRecs(t, env, u, "Items", "n=1&output[include]=name,n")[0]
	if len(it) != 3 || it["name"] != "item-1" || it["_id"] != ids[0] {
		t.Errorf("include = %v; want _id, n and name", it)
	}
	it = listRecs(t, env, u, "Items", "n=1&output[exclude]=tags,permissions")[0]
	if _, has := it["tags"]; has || it["permissions"] != nil || it["name"] != "item-1" {
		t.Errorf("exclude = %v", it)
	}
	// By ids, in the order asked; unknown and malformed ids left out when
	// several are listed; one malformed id is 400.
	resp = env.Do(t, req{Method: "GET", Path: "/data/Items/" + ids[3] + ",nope," + ids[0] + ",ffffffffffffffffffffffff.json", Token: u.Token})
	wantStatus(t, resp, 200)
	if got := idsOf(items(t, resp)); !slices.Equal(got, []string{ids[3], ids[0]}) || resp.JSON["class_name"] != "Items" {
		t.Errorf("by ids = %v %s", got, resp.Raw)
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/data/Items/nope.json", Token: u.Token}), 400, "base")
}

func TestDataPermissions(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Notes", "body:String")
	owner, other, friend, mod := env.NewUser(t), env.NewUser(t), env.NewUser(t), env.NewUser(t)
	resp := env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", mod.ID), Token: mod.Token,
		Body: map[string]any{"user": map[string]any{"tag_list": "mods,staff"}}})
	wantStatus(t, resp, 200)

	private := createRec(t, env, owner, "Notes", map[string]any{"body": "mine", "permissions": map[string]any{
		"read":   map[string]any{"access": "owner"},
		"update": map[string]any{"access": "open_for_users_ids", "user_ids": []any{fmt.Sprint(friend.ID)}},
		"delete": map[string]any{"access": "open_for_groups", "users_groups": []any{"mods"}},
	}})
	pid := private["_id"].(string)
	if got := mustJSON(private["permissions"]); got != fmt.Sprintf(`{"delete":{"access":"open_for_groups","users_groups":["mods"]},"read":{"access":"owner"},"update":{"access":"open_for_users_ids","users_ids":["%d"]}}`, friend.ID) {
		t.Errorf("permissions = %s", got)
	}
	public := createRec(t, env, owner, "Notes", map[string]any{"body": "all", "permissions": map[string]any{
		"read": map[string]any{"access": "open_for_groups", "groups": "staff"}}})

	// The owner always sees their own records, whatever they say.
	if n := len(listRecs(t, env, owner, "Notes", "")); n != 2 {
		t.Errorf("owner sees %d; want 2", n)
	}
	if n := len(listRecs(t, env, other, "Notes", "")); n != 0 {
		t.Errorf("other sees %d; want 0", n)
	}
	if got := idsOf(listRecs(t, env, mod, "Notes", "")); !slices.Equal(got, []string{public["_id"].(string)}) {
		t.Errorf("mod sees %v; want the staff note", got)
	}
	// Permissions: owner only.
	resp = env.Do(t, req{Method: "GET", Path: "/data/Notes/" + pid + ".json?permissions=1", Token: owner.Token})
	wantStatus(t, resp, 200)
	if resp.JSON["record_id"] != pid || obj(t, obj(t, resp.JSON, "permissions"), "read")["access"] != "owner" {
		t.Errorf("permissions = %s", resp.Raw)
	}
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/data/Notes/" + public["_id"].(string) + ".json?permissions=1", Token: mod.Token}), 403)
	// Update: the friend may; another user gets 404 (it cannot even read it).
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/data/Notes/" + pid + ".json", Token: other.Token, Body: map[string]any{"body": "x"}}), 404)
	resp = env.Do(t, req{Method: "PUT", Path: "/data/Notes/" + pid + ".json", Token: friend.Token, Body: map[string]any{"_id": pid, "body": "edited"}})
	wantStatus(t, resp, 200)
	if resp.JSON["body"] != "edited" {
		t.Errorf("updated = %s", resp.Raw)
	}
	// Only the owner changes permissions.
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/data/Notes/" + pid + ".json", Token: friend.Token,
		Body: map[string]any{"permissions": map[string]any{"read": map[string]any{"access": "open"}}}}), 403)
	// Delete: the friend may not (open_for_groups mods); mod may.
	resp = env.Do(t, req{Method: "DELETE", Path: "/data/Notes/" + pid + ".json", Token: friend.Token})
	wantStatus(t, resp, 403)
	resp = env.Do(t, req{Method: "DELETE", Path: "/data/Notes/" + pid + ".json", Token: mod.Token})
	wantStatus(t, resp, 200)
	if len(resp.Raw) != 0 {
		t.Errorf("delete one body = %q; want empty", resp.Raw)
	}
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: "/data/Notes/" + pid + ".json", Token: mod.Token}), 404)
}

func TestDataClassNotAllowed(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Locked", "a:String", func(c *data.Class) {
		c.Perms.Create = data.Perm{Access: data.OpenForUsers, Users: []int64{999999}}
		c.Perms.Records[data.Read] = data.Perm{Access: data.NotAllowed}
	})
	u := env.NewUser(t)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/data/Locked.json", Token: u.Token, Body: map[string]any{"a": "x"}}), 403)
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/data/Locked.json", Token: u.Token}), 403)
	if n := len(stored(t, env, env.App.ID, "Locked")); n != 0 {
		t.Errorf("%d records; want 0", n)
	}
}

func TestDataUpdateOperators(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Game", "score:Integer,avg:Float,tags:Array,name:String")
	u := env.NewUser(t)
	rec := createRec(t, env, u, "Game", map[string]any{"score": 10, "avg": 1.5, "tags": []any{"a", "b", "c", 5, 12}, "name": "x"})
	id := rec["_id"].(string)
	put := func(body map[string]any) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: "PUT", Path: "/data/Game/" + id + ".json", Token: u.Token, Body: body})
		wantStatus(t, resp, 200)
		return resp.JSON
	}
	got := put(map[string]any{"inc": map[string]any{"score": -2, "avg": 0.25}})
	if got["score"] != 8.0 || got["avg"] != 1.75 {
		t.Errorf("inc = %v %v", got["score"], got["avg"])
	}
	got = put(map[string]any{"push": map[string]any{"tags": []any{"d", "a"}}})
	want(t, "push", got, map[string]any{"tags": []any{"a", "b", "c", 5.0, 12.0, "d", "a"}})
	got = put(map[string]any{"add_to_set": map[string]any{"tags": []any{"a", "e"}}})
	want(t, "add_to_set", got, map[string]any{"tags": []any{"a", "b", "c", 5.0, 12.0, "d", "a", "e"}})
	got = put(map[string]any{"pull": map[string]any{"tags": "a"}})
	want(t, "pull", got, map[string]any{"tags": []any{"b", "c", 5.0, 12.0, "d", "e"}})
	got = put(map[string]any{"pull": map[string]any{"tags": map[string]any{"lt": 10}}})
	want(t, "pull with filter", got, map[string]any{"tags": []any{"b", "c", 12.0, "d", "e"}})
	got = put(map[string]any{"pull_all": map[string]any{"tags": []any{"b", "c"}}})
	want(t, "pull_all", got, map[string]any{"tags": []any{12.0, "d", "e"}})
	got = put(map[string]any{"pop": map[string]any{"tags": 1}})
	want(t, "pop 1", got, map[string]any{"tags": []any{12.0, "d"}})
	got = put(map[string]any{"pop": map[string]any{"tags": -1}})
	want(t, "pop -1", got, map[string]any{"tags": []any{"d"}})
	got = put(map[string]any{"tags": map[string]any{"0": "z", "1": "y"}})
	want(t, "by index", got, map[string]any{"tags": []any{"z", "y"}})
	got = put(map[string]any{"update_by_index": map[string]any{"tags": map[string]any{"1": "w"}}})
	want(t, "update_by_index", got, map[string]any{"tags": []any{"z", "w"}})
	got = put(map[string]any{"name": nil})
	if v, ok := got["name"]; !ok || v != nil {
		t.Errorf("null clears: name = %v", got["name"])
	}
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/data/Game/" + id + ".json", Token: u.Token,
		Body: map[string]any{"tags": map[string]any{"5": "x"}}}), 422, "tags")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/data/Game/" + id + ".json", Token: u.Token,
		Body: map[string]any{"inc": map[string]any{"name": 1}}}), 422, "name")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/data/Game/xyz.json", Token: u.Token, Body: map[string]any{"name": "a"}}), 400, "base")
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: "/data/Game/ffffffffffffffffffffffff.json", Token: u.Token, Body: map[string]any{"name": "a"}}), 404)
}

func TestDataManyAndCriteria(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "People", "age:Integer,country:String")
	u, other := env.NewUser(t), env.NewUser(t)
	// The SDK numbers from 1; the docs from 0: any non-negative keys, in
	// numeric order.
	resp := env.Do(t, req{Method: "POST", Path: "/data/People/multi.json", Token: u.Token, Body: map[string]any{"record": map[string]any{
		"10": map[string]any{"age": 40}, "2": map[string]any{"age": 20}, "1": map[string]any{"age": 10}, "3": map[string]any{"age": 35}}}})
	wantStatus(t, resp, 201)
	if resp.JSON["class_name"] != "People" {
		t.Errorf("class_name = %v", resp.JSON["class_name"])
	}
	var ids []string
	for _, it := range items(t, resp) {
		ids = append(ids, it["_id"].(string))
	}
	if ages := ages(items(t, resp)); !slices.Equal(ages, []int{10, 20, 35, 40}) {
		t.Errorf("created ages = %v; want key order", ages)
	}
	otherRec := createRec(t, env, other, "People", map[string]any{"age": 5})

	resp = env.Do(t, req{Method: "PUT", Path: "/data/People/by_criteria.json", Token: u.Token, Body: map[string]any{
		"search_criteria": map[string]any{"age": map[string]any{"lt": 30}}, "country": "Iran"}})
	wantStatus(t, resp, 200)
	if resp.JSON["total_found"] != 2.0 || resp.JSON["class_name"] != "People" {
		t.Errorf("by criteria = %s; want 2 found (other's record not updatable)", resp.Raw)
	}
	if n := len(listRecs(t, env, u, "People", "country=Iran")); n != 2 {
		t.Errorf("%d Iran records; want 2", n)
	}

	resp = env.Do(t, req{Method: "PUT", Path: "/data/People/multi.json", Token: u.Token, Body: map[string]any{"record": map[string]any{
		"1": map[string]any{"_id": ids[0], "id": ids[0], "age": 11}, "2": map[string]any{"id": otherRec["_id"], "age": 6},
		"3": map[string]any{"id": "ffffffffffffffffffffffff", "age": 1}}}})
	wantStatus(t, resp, 200)
	if got := mustJSON(resp.JSON["not_found"]); got != fmt.Sprintf(`{"ids":["%s","ffffffffffffffffffffffff"]}`, otherRec["_id"]) {
		t.Errorf("not_found = %s", got)
	}
	if a := ages(items(t, resp)); !slices.Equal(a, []int{11}) {
		t.Errorf("updated = %v", a)
	}

	// Delete several: report.
	resp = env.Do(t, req{Method: "DELETE", Path: "/data/People/" + ids[0] + "," + otherRec["_id"].(string) + ",nope.json", Token: u.Token})
	wantStatus(t, resp, 200)
	if got := mustJSON(resp.JSON); got != fmt.Sprintf(`{"NotFound":{"ids":["nope"]},"SuccessfullyDeleted":{"ids":["%s"]},"WrongPermissions":{"ids":["%s"]}}`, ids[0], otherRec["_id"]) {
		t.Errorf("delete report = %s", got)
	}
	// Delete by criteria, the criteria in the form body as the SDK sends it.
	resp = env.Do(t, req{Method: "DELETE", Path: "/data/People/by_criteria.json", Token: u.Token, Body: "age%5Bgt%5D=15",
		ContentType: "application/x-www-form-urlencoded; charset=UTF-8"})
	wantStatus(t, resp, 200)
	if resp.JSON["total_deleted"] != 3.0 {
		t.Errorf("delete by criteria = %s; want 3 (20, 35, 40; other's 6 is not deletable and not > 15)", resp.Raw)
	}
	wantError(t, env.Do(t, req{Method: "DELETE", Path: "/data/People/by_criteria.json", Token: u.Token, Body: ""}), 422, "base")
	if n := len(stored(t, env, env.App.ID, "People")); n != 1 {
		t.Errorf("%d records left; want only other's", n)
	}
}

func ages(list []map[string]any) []int {
	var out []int
	for _, it := range list {
		out = append(out, int(it["age"].(float64)))
	}
	return out
}

func TestDataDeleteChildren(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Posts", "title:String")
	newClass(t, env, "Comments", "text:String")
	u := env.NewUser(t)
	post := createRec(t, env, u, "Posts", map[string]any{"title": "p"})
	pid := post["_id"].(string)
	c1 := createRec(t, env, u, "Comments", map[string]any{"text": "c1", "_parent_id": pid})
	createRec(t, env, u, "Comments", map[string]any{"text": "reply", "_parent_id": c1["_id"]})
	createRec(t, env, u, "Comments", map[string]any{"text": "unrelated"})
	if c1["_parent_id"] != pid {
		t.Errorf("_parent_id = %v", c1["_parent_id"])
	}
	if got := listRecs(t, env, u, "Comments", "_parent_id="+pid); len(got) != 1 {
		t.Errorf("children = %v", got)
	}
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: "/data/Posts/" + pid + ".json", Token: u.Token}), 200)
	left := stored(t, env, env.App.ID, "Comments")
	if len(left) != 1 || left[0].Fields["text"] != "unrelated" {
		t.Errorf("comments left = %d; want only the unrelated one", len(left))
	}
}

func TestDataQueryFromSDKSerialization(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "T", "n:Integer,s:String")
	u := env.NewUser(t)
	createRec(t, env, u, "T", map[string]any{"n": 1, "s": "a b"})
	createRec(t, env, u, "T", map[string]any{"n": 2, "s": "c"})
	q := url.PathEscape("n[in]") + "=" + url.QueryEscape("2,1") + "&" + url.PathEscape("s[ctn]") + "=a%20b"
	if got := listRecs(t, env, u, "T", q); len(got) != 1 || got[0]["n"] != 1.0 {
		t.Errorf("encoded query %s = %v", q, got)
	}
	// An application session reads open records.
	resp := env.Do(t, req{Method: "GET", Path: "/data/T.json", Token: env.AppSession(t)})
	wantStatus(t, resp, 200)
	if n := len(items(t, resp)); n != 2 {
		t.Errorf("app session sees %d; want 2", n)
	}
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/data/T.json", Token: env.AppSession(t), Body: map[string]any{"n": 1}}), 403)
}

func TestDataNear(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Places", "name:String,where:Location")
	u := env.NewUser(t)
	for _, p := range []struct {
		name     string
		lng, lat float64
	}{{"munich", 11.58, 48.14}, {"potsdam", 13.06, 52.40}, {"berlin", 13.40, 52.52}, {"nowhere", 0, 0}} {
		createRec(t, env, u, "Places", map[string]any{"name": p.name, "where": []any{p.lng, p.lat}})
	}
	createRec(t, env, u, "Places", map[string]any{"name": "unplaced"})
	names := func(q string) []string {
		var out []string
		for _, it := range listRecs(t, env, u, "Places", q) {
			out = append(out, it["name"].(string))
		}
		return out
	}
	// From Alexanderplatz: Berlin (~1 km), Potsdam (~27 km); Munich is ~500 km.
	if got := names("where[near]=13.41,52.52;50000"); !slices.Equal(got, []string{"berlin", "potsdam"}) {
		t.Errorf("near 50 km = %v; want berlin, potsdam (nearest first)", got)
	}
	if got := names("where[near]=13.41,52.52;600000&sort_asc=name"); !slices.Equal(got, []string{"berlin", "munich", "potsdam"}) {
		t.Errorf("near 600 km sorted by name = %v", got)
	}
	if got := names("where[near]=13.41,52.52;600000&limit=-1"); !slices.Equal(got, []string{"munich"}) {
		t.Errorf("near, last = %v; want the farthest", got)
	}
}

func TestDataAggregation(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Scores", "player:String,score:Integer,won:Boolean")
	u, other := env.NewUser(t), env.NewUser(t)
	for _, r := range []struct {
		player string
		score  int
		won    bool
	}{{"ann", 10, true}, {"ann", 20, false}, {"bob", 5, true}, {"bob", 7, true}, {"cid", 100, false}} {
		createRec(t, env, u, "Scores", map[string]any{"player": r.player, "score": r.score, "won": r.won})
	}
	// Another user's private record is left out of the aggregates.
	createRec(t, env, other, "Scores", map[string]any{"player": "ann", "score": 1000,
		"permissions": map[string]any{"read": map[string]any{"access": "owner"}}})
	resp := env.Do(t, req{Method: "GET", Path: "/data/Scores.json?score[calc]=avg&group_by=player", Token: u.Token})
	wantStatus(t, resp, 200)
	if got := mustJSON(resp.JSON["items"]); got != `[{"player":"ann","score":{"avg":15}},{"player":"bob","score":{"avg":6}},{"player":"cid","score":{"avg":100}}]` {
		t.Errorf("avg by player = %s", got)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/data/Scores.json?score[calc]=sum&score[lt]=50&group_by=won", Token: u.Token})
	wantStatus(t, resp, 200)
	if got := mustJSON(resp.JSON["items"]); got != `[{"score":{"sum":20},"won":false},{"score":{"sum":22},"won":true}]` {
		t.Errorf("sum of score<50 by won = %s", got)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/data/Scores.json?score[calc]=max", Token: u.Token})
	wantStatus(t, resp, 200)
	if got := mustJSON(resp.JSON["items"]); got != `[{"score":{"max":100}}]` {
		t.Errorf("max = %s", got)
	}
}

// Concurrent inc of one record loses none: each update reads and writes
// in one transaction.
func TestDataConcurrentInc(t *testing.T) {
	env := servertest.Start(t)
	newClass(t, env, "Counter", "n:Integer")
	u := env.NewUser(t)
	id := createRec(t, env, u, "Counter", map[string]any{"n": 0})["_id"].(string)
	const workers = 20
	statuses := make(chan int, workers)
	for range workers {
		go func() {
			r, _ := http.NewRequest("PUT", env.URL+"/data/Counter/"+id+".json", strings.NewReader(`{"inc":{"n":1}}`))
			r.Header.Set("CB-Token", u.Token)
			r.Header.Set("Content-Type", "application/json")
			resp, err := env.Client.Do(r)
			if err != nil {
				statuses <- -1
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range workers {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("an inc answered %d", s)
		}
	}
	if got := stored(t, env, env.App.ID, "Counter")[0].Fields["n"]; got != int64(workers) {
		t.Errorf("n = %v after %d concurrent inc; want %d", got, workers, workers)
	}
}
