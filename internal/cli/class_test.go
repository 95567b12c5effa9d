package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// classCreate runs `class create` and decodes its one JSON line.
func classCreate(t *testing.T, dir string, args ...string) map[string]any {
	t.Helper()
	r := run(t, nil, append([]string{"class", "create", "--data-dir", dir}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("class create %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	ls := lines(t, "stdout", r.stdout)
	if len(ls) != 1 {
		t.Fatalf("class create printed %d lines %q; want one", len(ls), r.stdout)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(ls[0]), &out); err != nil {
		t.Fatalf("class create output %q: %v", ls[0], err)
	}
	return out
}

func classList(t *testing.T, dir string, app string) []string {
	t.Helper()
	r := run(t, nil, "class", "list", "--data-dir", dir, "--app", app)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("class list: exit %d, stderr %q", r.code, r.stderr)
	}
	return lines(t, "class list stdout", r.stdout)
}

func TestClassCreateListRecords(t *testing.T) {
	dir := t.TempDir()
	parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "a"))
	c := classCreate(t, dir, "--app", "1", "--name", "UserReports", "--fields", "reportedUserId:integer, reason:STRING")
	if c["name"] != "UserReports" {
		t.Errorf("name = %v", c["name"])
	}
	fields, _ := json.Marshal(c["fields"])
	if string(fields) != `[{"name":"reportedUserId","type":"Integer"},{"name":"reason","type":"String"}]` {
		t.Errorf("fields = %s; want the two, types spelled as the spec does", fields)
	}
	perms, _ := json.Marshal(c["permissions"])
	if want := `{"create":{"access":"open"},"delete":{"access":"owner"},"read":{"access":"open"},"update":{"access":"owner"}}`; string(perms) != want {
		t.Errorf("permissions = %s; want the spec's defaults %s", perms, want)
	}
	c2 := classCreate(t, dir, "--app", "1", "--name", "Notes", "--fields", "body:String,tags:Array,at:Date,where:Location,ok:Boolean,score:Float,file:File",
		"--read", "owner", "--update", "open_for_users_ids:5,6", "--delete", "open_for_groups:mods")
	perms, _ = json.Marshal(c2["permissions"])
	if want := `{"create":{"access":"open"},"delete":{"access":"open_for_groups","users_groups":["mods"]},"read":{"access":"owner"},"update":{"access":"open_for_users_ids","users_ids":["5","6"]}}`; string(perms) != want {
		t.Errorf("permissions = %s; want %s", perms, want)
	}
	c3 := classCreate(t, dir, "--app", "1", "--name", "Big", "--fields", "score:Integer,who:Integer", "--index", "score, who")
	if idx, _ := json.Marshal(c3["index"]); string(idx) != `["score","who"]` {
		t.Errorf("index = %s; want [score who]", idx)
	}
	if ls := classList(t, dir, "1"); len(ls) != 3 || !strings.Contains(ls[0], `"name":"Big"`) || !strings.Contains(ls[1], `"name":"Notes"`) || !strings.Contains(ls[2], `"name":"UserReports"`) {
		t.Errorf("class list = %q; want Big, Notes, UserReports", ls)
	}
	r := run(t, nil, "class", "records", "--data-dir", dir, "--app", "1", "--name", "UserReports")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("class records of an empty class: %+v; want exit 0 and no output", r)
	}
}

func TestClassCreateRefusals(t *testing.T) {
	dir := t.TempDir()
	parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "a"))
	classCreate(t, dir, "--app", "1", "--name", "UserReports", "--fields", "reason:String")
	for _, tc := range []struct {
		args  []string
		names []string
	}{
		{[]string{"--app", "1", "--fields", "a:String"}, []string{"--name"}},
		{[]string{"--app", "1", "--name", "X"}, []string{"--fields"}},
		{[]string{"--name", "X", "--fields", "a:String"}, []string{"--app"}},
		{[]string{"--app", "7", "--name", "X", "--fields", "a:String"}, []string{"--app", "7"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:Int"}, []string{"--fields", "Int"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a"}, []string{"--fields", "name:type"}},
		{[]string{"--app", "1", "--name", "1X", "--fields", "a:String"}, []string{"--name", "1X"}},
		{[]string{"--app", "1", "--name", "X-Y", "--fields", "a:String"}, []string{"--name"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a b:String"}, []string{"--fields"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "user_id:Integer"}, []string{"--fields", "reserved"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:String,a:Integer"}, []string{"--fields", "twice"}},
		{[]string{"--app", "1", "--name", "userreports", "--fields", "a:String"}, []string{"--name", "exists"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:String", "--create", "owner"}, []string{"--create"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:String", "--read", "everyone"}, []string{"--read"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:String", "--update", "open_for_users_ids:x"}, []string{"--update"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:String", "--index", "b"}, []string{"--index", "b"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:Array", "--index", "a"}, []string{"--index", "Array"}},
		{[]string{"--app", "1", "--name", "X", "--fields", "a:String,b:String,c:String,d:String,e:String,f:String", "--index", "a,b,c,d,e,f"}, []string{"--index"}},
	} {
		r := run(t, nil, append([]string{"class", "create", "--data-dir", dir}, tc.args...)...)
		wantUsageError(t, r, tc.names...)
	}
	if ls := classList(t, dir, "1"); len(ls) != 1 {
		t.Errorf("classes after refusals = %q; want only UserReports", ls)
	}
	wantUsageError(t, run(t, nil, "class", "records", "--data-dir", dir, "--app", "1", "--name", "Nope"), "--name", "Nope")
	wantUsageError(t, run(t, nil, "class", "list", "--data-dir", dir, "--app", "2"), "--app")
	wantUsageError(t, run(t, nil, "class"), "create")
	wantUsageError(t, run(t, nil, "class", "drop"), "drop")
}

// An operator creates a class while the server runs (the command does not
// take the serve lock), a user files a report at once, and the operator
// reads it with `class records`.
func TestClassBesideRunningServer(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir)
	waitFor(t, "the welcome text", 10*time.Second, func() bool {
		srv.exited(t)
		return strings.Contains(srv.stdout.String(), "ConnectyCube.init(")
	})
	m := apiURL.FindStringSubmatch(srv.stdout.String())
	if m == nil {
		t.Fatalf("no api_url in the welcome text")
	}
	api := m[1]
	// With an index: the command changes the schema under the running
	// server (SQLite re-prepares the server's statements).
	classCreate(t, dir, "--app", "1", "--name", "UserReports", "--fields", "reportedUserId:Integer,reason:String", "--index", "reportedUserId")

	var app struct {
		AuthKey string `json:"auth_key"`
	}
	r := run(t, nil, "app", "list", "--data-dir", dir)
	if err := json.Unmarshal([]byte(lines(t, "app list", r.stdout)[0]), &app); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path, token string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", api+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("CB-Token", token)
		} else {
			req.Header.Set("CB-AuthKey", app.AuthKey)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	post("/users.json", "", map[string]any{"user": map[string]any{"login": "reporter", "password": "password-1"}})
	sess := post("/session.json", "", map[string]any{"application_id": 1, "auth_key": app.AuthKey,
		"user": map[string]any{"login": "reporter", "password": "password-1"}})
	token := sess["session"].(map[string]any)["token"].(string)
	rec := post("/data/UserReports.json", token, map[string]any{"reportedUserId": "45", "reason": "spam"})

	// The server reads by the index the command made.
	req, _ := http.NewRequest("GET", api+"/data/UserReports.json?reportedUserId=45", nil)
	req.Header.Set("CB-Token", token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(page.Items) != 1 || page.Items[0]["_id"] != rec["_id"] {
		t.Errorf("GET ?reportedUserId=45: %d %v; want the report", resp.StatusCode, page.Items)
	}

	r = run(t, nil, "class", "records", "--data-dir", dir, "--app", "1", "--name", "UserReports")
	ls := lines(t, "class records", r.stdout)
	if r.code != 0 || len(ls) != 1 {
		t.Fatalf("class records: exit %d, %q, stderr %q; want the one report", r.code, r.stdout, r.stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(ls[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got["_id"] != rec["_id"] || got["reportedUserId"] != float64(45) || got["reason"] != "spam" {
		t.Errorf("class records line = %v; want the report %v", got, rec)
	}
}
