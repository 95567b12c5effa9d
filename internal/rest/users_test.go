package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

func signUp(t *testing.T, env *servertest.Env, user map[string]any) *servertest.Response {
	t.Helper()
	return env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": env.App.AuthKey},
		Body: map[string]any{"user": user}})
}

func TestSignUpRoundTripsEveryField(t *testing.T) {
	env := servertest.Start(t)
	resp := signUp(t, env, map[string]any{
		"login": "marvin18", "password": "supersecurepwd", "email": "marvin@example.org", "full_name": "Marvin Simon",
		"phone": "+4930123456", "website": "https://marvin.example", "custom_data": `{"middle_name":"Bartoleo"}`,
		"external_user_id": 52691165, "external_id": "ext-7", "facebook_id": "91234409", "twitter_id": "83510562734",
		"blob_id": 421517, "avatar": "5f2c0e9b", "tag_list": []string{"iphone", "apple"}, "timezone": 60,
	})
	wantStatus(t, resp, http.StatusCreated)
	u := obj(t, resp.JSON, "user")
	checkUserShape(t, u)
	want := map[string]any{"login": "marvin18", "email": "marvin@example.org", "full_name": "Marvin Simon",
		"phone": "+4930123456", "website": "https://marvin.example", "custom_data": `{"middle_name":"Bartoleo"}`,
		"external_user_id": 52691165.0, "external_id": "ext-7", "facebook_id": "91234409", "twitter_id": "83510562734",
		"blob_id": 421517.0, "avatar": "5f2c0e9b", "user_tags": "iphone,apple", "timezone": 60.0, "last_request_at": nil}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %#v, want %#v", k, u[k], v)
		}
	}
	// Sign-up with an application session token works too; tag_list as a string.
	tok := env.AppSession(t)
	resp = env.Do(t, req{Method: "POST", Path: "/users.json", Token: tok,
		Body: map[string]any{"user": map[string]any{"email": "only@example.org", "password": "password1", "tag_list": "a, b"}}})
	wantStatus(t, resp, http.StatusCreated)
	if u := obj(t, resp.JSON, "user"); u["login"] != nil || u["user_tags"] != "a,b" {
		t.Fatalf("email-only user = %v", u)
	}
	// Without a token or an auth key: the SDK's expired-session answer.
	wantExpired(t, env.Do(t, req{Method: "POST", Path: "/users.json",
		Body: map[string]any{"user": map[string]any{"login": "nokey", "password": "password1"}}}))
	wantError(t, env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": "bad"},
		Body: map[string]any{"user": map[string]any{"login": "nokey", "password": "password1"}}}), 401, "base")
}

func TestSignUpRejectsBadInputAndWritesNothing(t *testing.T) {
	env := servertest.Start(t)
	wantStatus(t, signUp(t, env, map[string]any{"login": "taken", "email": "taken@example.org", "password": "password1"}), 201)
	long := strings.Repeat("x", 201)
	cases := []struct {
		name  string
		user  map[string]any
		field string
	}{
		{"duplicate login", map[string]any{"login": "taken", "password": "password1"}, "login"},
		{"duplicate email, other case", map[string]any{"login": "fresh1", "email": "TAKEN@example.org", "password": "password1"}, "email"},
		{"no password", map[string]any{"login": "fresh2"}, "password"},
		{"short password", map[string]any{"login": "fresh3", "password": "short"}, "password"},
		{"long password", map[string]any{"login": "fresh4", "password": strings.Repeat("p", 129)}, "password"},
		{"no login or email", map[string]any{"password": "password1"}, "login"},
		{"invalid email", map[string]any{"login": "fresh5", "email": "not-an-email", "password": "password1"}, "email"},
		{"login with spaces", map[string]any{"login": "fresh 6", "password": "password1"}, "login"},
		{"all-digit login", map[string]any{"login": "123456", "password": "password1"}, "login"},
		{"login too long", map[string]any{"login": strings.Repeat("l", 65), "password": "password1"}, "login"},
		{"login not a string", map[string]any{"login": 42, "password": "password1"}, "login"},
		{"password not a string", map[string]any{"login": "fresh7", "password": map[string]any{"a": 1}}, "password"},
		{"full_name too long", map[string]any{"login": "fresh8", "password": "password1", "full_name": long}, "full_name"},
		{"custom_data too long", map[string]any{"login": "fresh9", "password": "password1", "custom_data": strings.Repeat("c", 16*1024+1)}, "custom_data"},
		{"external_user_id not a number", map[string]any{"login": "fresh10", "password": "password1", "external_user_id": "abc"}, "external_user_id"},
		{"timezone out of range", map[string]any{"login": "fresh11", "password": "password1", "timezone": 5000}, "timezone"},
		{"too many tags", map[string]any{"login": "fresh12", "password": "password1", "tag_list": strings.Split(strings.Repeat("t,", 21)+"x", ",")}, "tag_list"},
		{"tags not strings", map[string]any{"login": "fresh13", "password": "password1", "tag_list": []any{map[string]any{}}}, "tag_list"},
		{"NUL in full_name", map[string]any{"login": "fresh14", "password": "password1", "full_name": "a\x00b"}, "full_name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, signUp(t, env, c.user), 422, c.field)
		})
	}
	wantError(t, env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": env.App.AuthKey},
		Body: map[string]any{}}), 422, "user")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": env.App.AuthKey},
		Body: `{"user": {"login": "x"`, ContentType: "application/json"}), 400, "base")
	// Nothing was written: only the first user exists.
	u := env.NewUser(t)
	resp := env.Do(t, req{Method: "GET", Path: "/users.json?per_page=100", Token: u.Token})
	if n := num(t, resp.JSON, "total_entries"); n != 2 {
		t.Fatalf("%d users exist after rejected sign-ups, want 2: %s", n, resp.Raw)
	}
}

func TestBodyOverLimitIs413(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	big := `{"user":{"full_name":"` + strings.Repeat("x", 1<<20) + `"}}`
	wantError(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", u.ID), Token: u.Token, Body: big,
		ContentType: "application/json"}), http.StatusRequestEntityTooLarge, "base")
	resp := env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", u.ID), Token: u.Token})
	if obj(t, resp.JSON, "user")["full_name"] != nil {
		t.Fatal("oversized update was applied")
	}
}

func TestGetUsersByIDAndFinders(t *testing.T) {
	env := servertest.Start(t)
	resp := signUp(t, env, map[string]any{"login": "dacia", "email": "dacia@example.org", "password": "password1",
		"facebook_id": "fb1", "twitter_id": "tw1", "phone": "+6110797757", "external_user_id": 52691165, "external_id": "ext-d"})
	wantStatus(t, resp, 201)
	id := num(t, obj(t, resp.JSON, "user"), "id")
	me := env.NewUser(t)
	for _, path := range []string{
		fmtPath("/users/%d.json", id), fmtPath("/users/%d", id), fmtPath("//users//%d.json", id),
		"/users/by_login.json?login=dacia", "/users/by_email.json?email=dacia%40example.org",
		"/users/by_facebook_id.json?facebook_id=fb1", "/users/by_twitter_id.json?twitter_id=tw1",
		"/users/phone.json?phone=%2B6110797757", "/users/external/52691165.json", "/users/external/ext-d.json",
		"/users.json?external_user_id=52691165",
	} {
		resp := env.Do(t, req{Method: "GET", Path: path, Token: me.Token})
		wantStatus(t, resp, 200)
		var got int64
		if items, ok := resp.JSON["items"].([]any); ok {
			got = ids(t, items, true)[0]
		} else {
			got = num(t, obj(t, resp.JSON, "user"), "id")
		}
		if got != id {
			t.Errorf("GET %s found user %d, want %d", path, got, id)
		}
	}
	for _, path := range []string{"/users/999999.json", "/users/abc.json", "/users/by_login.json?login=nobody",
		"/users/by_email.json?email=no%40example.org", "/users/external/123.json"} {
		wantError(t, env.Do(t, req{Method: "GET", Path: path, Token: me.Token}), 404, "base")
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/users/by_login.json", Token: me.Token}), 422, "login")
}

func TestListUsersV2(t *testing.T) {
	env := servertest.Start(t)
	var created []int64
	for i, login := range []string{"alpha1", "alpha2", "beta1", "gamma1"} {
		resp := signUp(t, env, map[string]any{"login": login, "password": "password1", "email": login + "@example.org",
			"full_name": strings.ToUpper(login), "tag_list": []string{"t" + login[:1], "all"}, "external_id": fmtPath("e%d", i)})
		wantStatus(t, resp, 201)
		created = append(created, num(t, obj(t, resp.JSON, "user"), "id"))
	}
	me := env.NewUser(t)
	list := func(q string) []int64 {
		t.Helper()
		resp := env.Do(t, req{Method: "GET", Path: "/users/v2.json?" + q, Token: me.Token})
		wantStatus(t, resp, 200)
		for _, k := range []string{"limit", "skip", "total_entries"} {
			num(t, resp.JSON, k)
		}
		return ids(t, resp.JSON["items"].([]any), false)
	}
	sameIDs(t, list(fmtPath("id%%5Bin%%5D%%5B%%5D=%d&id%%5Bin%%5D%%5B%%5D=%d", created[0], created[2])), []int64{created[0], created[2]})
	sameIDs(t, list("login=beta1"), []int64{created[2]})
	sameIDs(t, list("login[start_with]=alph"), []int64{created[0], created[1]})
	sameIDs(t, list("email[in]=alpha2@example.org,gamma1@example.org"), []int64{created[1], created[3]})
	sameIDs(t, list("user_tags=ta"), []int64{created[0], created[1]})
	sameIDs(t, list("user_tags[in]=tb,tg&sort_desc=id"), []int64{created[3], created[2]})
	sameIDs(t, list("user_tags=all&login[nin]=alpha1,beta1"), []int64{created[1], created[3]})
	sameIDs(t, list("user_tags=all&sort_desc=login&limit=2&offset=1"), []int64{created[2], created[1]})
	sameIDs(t, list("user_tags=all&created_at[gt]=0&created_at[lt]=4102444800"), created)
	sameIDs(t, list("user_tags=all&created_at[gt]=4102444800"), []int64{})

	resp := env.Do(t, req{Method: "GET", Path: "/users/v2.json?login[start_with]=alph", Token: me.Token})
	if num(t, resp.JSON, "limit") != 5 {
		t.Fatalf("start_with should force limit 5: %s", resp.Raw)
	}
	for q, field := range map[string]string{
		"":                             "base", // no stand-alone field
		"created_at[gt]=0":             "base", // only an additional field
		"login[gt]=a":                  "base", // compare on a stand-alone field
		"login[start_with]=abc":        "login[start_with]",
		"password=x&login=a":           "base",
		"login[regex]=a":               "base",
		"login=a&limit=101":            "limit",
		"login=a&limit=abc":            "limit",
		"login=a&sort_asc=password":    "base",
		"id=abc":                       "base",
		"login=a&created_at[gt]=never": "base",
	} {
		wantError(t, env.Do(t, req{Method: "GET", Path: "/users/v2.json?" + q, Token: me.Token}), 422, field)
	}
	wantError(t, env.Do(t, req{Method: "GET", Path: "/users/v2.json?a[b=1", Token: me.Token}), 400, "base")
}

func TestListUsersLegacy(t *testing.T) {
	env := servertest.Start(t)
	var created []int64
	for _, u := range []map[string]any{
		{"login": "anna", "full_name": "Anna Kail", "tag_list": "vip,accountant"},
		{"login": "bert", "full_name": "Bert Corcoran", "tag_list": "vip"},
		{"login": "cleo", "full_name": "Cleo Kail"},
	} {
		u["password"] = "password1"
		resp := signUp(t, env, u)
		wantStatus(t, resp, 201)
		created = append(created, num(t, obj(t, resp.JSON, "user"), "id"))
	}
	me := env.NewUser(t)
	page := func(path string) (map[string]any, []int64) {
		t.Helper()
		resp := env.Do(t, req{Method: "GET", Path: path, Token: me.Token})
		wantStatus(t, resp, 200)
		return resp.JSON, ids(t, resp.JSON["items"].([]any), true)
	}
	body, got := page("/users/by_full_name.json?full_name=Kail")
	sameIDs(t, got, []int64{created[0], created[2]})
	if num(t, body, "current_page") != 1 || num(t, body, "per_page") != 10 || num(t, body, "total_entries") != 2 {
		t.Fatalf("page = %v", body)
	}
	_, got = page("/users/by_tags.json?tags[]=accountant")
	sameIDs(t, got, []int64{created[0]})
	_, got = page("/users/by_tags.json?tags=vip")
	sameIDs(t, got, []int64{created[0], created[1]})
	_, got = page(fmtPath("/users.json?filter[]=number+id+in+%d,%d&order=desc+string+id", created[0], created[2]))
	sameIDs(t, got, []int64{created[2], created[0]})
	_, got = page(fmtPath("/users.json?filter[]=number+id+between+%d,%d&filter[]=string+login+ne+bert", created[0], created[2]))
	sameIDs(t, got, []int64{created[0], created[2]})
	body, got = page("/users.json?per_page=2&page=2&order=asc+string+id")
	sameIDs(t, got, []int64{created[2], me.ID})
	if num(t, body, "total_entries") != 4 || num(t, body, "current_page") != 2 {
		t.Fatalf("page = %v", body)
	}
	for _, q := range []string{"filter[]=number+id+zz+1", "filter[]=number+secret+eq+1", "filter[]=oops",
		"order=sideways+string+id", "filter[]=number+id+eq+abc", "per_page=500"} {
		resp := env.Do(t, req{Method: "GET", Path: "/users.json?" + q, Token: me.Token})
		wantStatus(t, resp, 422)
	}
}

func TestUpdateUser(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	other := env.NewUser(t)
	path := fmtPath("/users/%d.json", u.ID)
	resp := env.Do(t, req{Method: "PUT", Path: path, Token: u.Token,
		Body: map[string]any{"user": map[string]any{"full_name": "New Name", "tag_list": []string{"x"}, "website": nil}}})
	wantStatus(t, resp, 200)
	if got := obj(t, resp.JSON, "user"); got["full_name"] != "New Name" || got["user_tags"] != "x" || got["login"] != u.Login {
		t.Fatalf("updated user = %v", got)
	}
	// PUT /users.json (the SDK's URL when it lacks the current id) updates the caller.
	resp = env.Do(t, req{Method: "PUT", Path: "/users.json", Token: u.Token, Body: map[string]any{"user": map[string]any{"phone": "+1"}}})
	wantStatus(t, resp, 200)
	if obj(t, resp.JSON, "user")["phone"] != "+1" {
		t.Fatalf("PUT /users.json = %s", resp.Raw)
	}
	wantError(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/users/%d.json", other.ID), Token: u.Token,
		Body: map[string]any{"user": map[string]any{"full_name": "x"}}}), 403, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: "/users/999999.json", Token: u.Token,
		Body: map[string]any{"user": map[string]any{"full_name": "x"}}}), 404, "base")
	wantError(t, env.Do(t, req{Method: "PUT", Path: path, Token: u.Token,
		Body: map[string]any{"user": map[string]any{"login": other.Login}}}), 422, "login")
	wantError(t, env.Do(t, req{Method: "PUT", Path: path, Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "newpassword1"}}}), 422, "old_password")
	wantError(t, env.Do(t, req{Method: "PUT", Path: path, Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "newpassword1", "old_password": "wrong-one"}}}), 422, "old_password")
	wantError(t, env.Do(t, req{Method: "PUT", Path: path, Token: u.Token,
		Body: map[string]any{"user": map[string]any{"login": ""}}}), 422, "login")
	// Nothing of the rejected updates stuck.
	resp = env.Do(t, req{Method: "GET", Path: path, Token: u.Token})
	if got := obj(t, resp.JSON, "user"); got["login"] != u.Login || got["full_name"] != "New Name" {
		t.Fatalf("after rejected updates user = %v", got)
	}
	env.Login(t, u.Login, u.Password)

	wantStatus(t, env.Do(t, req{Method: "PUT", Path: path, Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "newpassword1", "old_password": u.Password}}}), 200)
	env.Login(t, u.Login, "newpassword1")
	wantError(t, env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{"application_id": env.App.ID,
		"auth_key": env.App.AuthKey, "user": map[string]any{"login": u.Login, "password": u.Password}}}), 401, "base")
}

func TestDeleteUser(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	other := env.NewUser(t)
	second := env.Login(t, u.Login, u.Password)
	wantError(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/users/%d.json", other.ID), Token: u.Token}), 403, "base")
	resp := env.Do(t, req{Method: "DELETE", Path: fmtPath("/users/%d.json", u.ID), Token: u.Token})
	wantStatus(t, resp, 200)
	if len(resp.Raw) != 0 {
		t.Fatalf("delete answered %q", resp.Raw)
	}
	wantExpired(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: u.Token}))
	wantExpired(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: second}))
	wantError(t, env.Do(t, req{Method: "GET", Path: fmtPath("/users/%d.json", u.ID), Token: other.Token}), 404, "base")
	// DELETE /users.json deletes the caller.
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: "/users.json", Token: other.Token}), 200)
	wantExpired(t, env.Do(t, req{Method: "GET", Path: "/session.json", Token: other.Token}))
}

func TestTransportConventions(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	// CORS preflight on any path, and the origin header on real answers.
	resp := env.Do(t, req{Method: "OPTIONS", Path: "/users.json", Header: map[string]string{
		"Origin": "http://app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "cb-token,content-type"}})
	wantStatus(t, resp, 200)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "CB-Token") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Fatalf("preflight headers = %v", resp.Header)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/session.json", Token: u.Token})
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("no Access-Control-Allow-Origin on a real answer")
	}
	// Unknown paths and methods answer JSON errors.
	wantError(t, env.Do(t, req{Method: "GET", Path: "/nope.json", Token: u.Token}), 404, "base")
	resp = env.Do(t, req{Method: "PATCH", Path: "/session.json", Token: u.Token})
	wantError(t, resp, 405, "base")
	if resp.Header.Get("Allow") == "" {
		t.Fatal("405 without Allow")
	}
	// Health needs no session.
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/health"}), 200)
	// A form-encoded body on POST is decoded with the bracket rules.
	resp = env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": env.App.AuthKey},
		Body:        "user%5Blogin%5D=formuser&user%5Bpassword%5D=password1&user%5Btag_list%5D%5B%5D=a&user%5Btag_list%5D%5B%5D=b",
		ContentType: "application/x-www-form-urlencoded"})
	wantStatus(t, resp, 201)
	if obj(t, resp.JSON, "user")["user_tags"] != "a,b" {
		t.Fatalf("form sign-up = %s", resp.Raw)
	}
	// An unsupported body type is refused without a write.
	wantError(t, env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": env.App.AuthKey},
		Body: "<user/>", ContentType: "application/xml"}), 400, "base")
}
