package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/rest"
	"github.com/parley-chat/parley/internal/servertest"
)

// The fuzz targets here send arbitrary input through the real REST
// handlers of an in-process server on a real SQLite store, so that input
// which reaches SQL building (IN lists, LIKE patterns, FTS5 MATCH strings,
// ORDER BY fields) and comes back as a 500 is found by a machine (issue
// 10, item 10). A 4xx of any kind is a pass: the target is "never a 5xx".
// The seeds of testdata/fuzz hold the cases that were 500s.

// fuzzWorld is one server with a little data: two users sharing a group
// and a private dialog, messages with a reaction.
type fuzzWorld struct {
	env     *servertest.Env
	a, b    *servertest.User
	group   string
	message string
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	// The search rate limit would turn most fuzzed searches into 429s.
	env := servertest.Start(f, func(c *config.Config) { c.SearchRate = 0 })
	w := &fuzzWorld{env: env, a: env.NewUser(f), b: env.NewUser(f)}
	for _, body := range []map[string]any{
		{"type": 2, "name": "fuzz group", "occupants_ids": fmt.Sprint(w.b.ID)},
		{"type": 3, "occupants_ids": w.b.ID},
	} {
		resp := env.Do(f, req{Method: "POST", Path: "/chat/Dialog.json", Token: w.a.Token, Body: body})
		if resp.Status != http.StatusCreated {
			f.Fatalf("seed dialog: %d %s", resp.Status, resp.Raw)
		}
		if w.group == "" {
			w.group = resp.JSON["_id"].(string)
		}
	}
	for _, text := range []string{"dinner tonight?", "coffee tomorrow", "100% sure_thing", `quote " and \ back`} {
		resp := env.Do(f, req{Method: "POST", Path: "/chat/Message.json", Token: w.a.Token,
			Body: map[string]any{"chat_dialog_id": w.group, "message": text}})
		if resp.Status != http.StatusCreated {
			f.Fatalf("seed message: %d %s", resp.Status, resp.Raw)
		}
		w.message = resp.JSON["_id"].(string)
	}
	resp := env.Do(f, req{Method: "PUT", Path: "/chat/Message/" + w.message + "/reactions.json", Token: w.b.Token,
		Body: map[string]any{"add": "👍"}})
	if resp.Status != http.StatusOK {
		f.Fatalf("seed reaction: %d %s", resp.Status, resp.Raw)
	}
	return w
}

// queryEndpoints are the GET handlers whose query string builds SQL.
var queryEndpoints = []string{
	"/chat/Dialog.json?",
	"/chat/Message.json?chat_dialog_id={group}&",
	"/users/v2.json?",
	"/users.json?",
	"/users/by_tags.json?",
	"/chat/search.json?",
	"/users/by_full_name.json?",
	"/chat/Message/unread.json?",
}

// escapeQuery makes raw sendable as a request line's query: bytes an HTTP
// client cannot send (controls, spaces, '#', non-ASCII) are percent-encoded;
// everything else, '%' included, goes as it is, so malformed escapes reach
// the server's own decoder.
func escapeQuery(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// FuzzRESTQuery sends an arbitrary query string to one of the list and
// search handlers; any 5xx fails.
func FuzzRESTQuery(f *testing.F) {
	for i := range queryEndpoints {
		f.Add(uint8(i), "")
	}
	for _, s := range rest.ChatQuerySeeds {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	for _, s := range []string{
		"search_text=dinner", "search_text=hello%00world", "search_text=%22%22%22%22%22", "search_text=a%20OR%20b%20NEAR(c)",
		"search_text=100%25%20sure&chat_dialog_ids=65a1f0c2e4b0a1b2c3d4e5f6", "search_text=*****&limit=0",
	} {
		f.Add(uint8(5), s)
	}
	for _, s := range []string{"login[in]=a,b", "user_tags[in]=a%25,_b", "id[in]=1,2&sort_desc=created_at", "full_name[start_with]=abcd%25"} {
		f.Add(uint8(2), s)
	}
	for _, s := range []string{"filter[]=string+user_tags+in+a,b", "filter[]=number+id+between+1,5&order=desc+string+login", "login=x%00"} {
		f.Add(uint8(3), s)
	}
	f.Add(uint8(4), "tags=a,b%25,c_")
	f.Add(uint8(6), "full_name=%25_%5C")
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, endpoint uint8, raw string) {
		path := strings.ReplaceAll(queryEndpoints[int(endpoint)%len(queryEndpoints)], "{group}", w.group) + escapeQuery(raw)
		resp := w.env.Do(t, req{Method: "GET", Path: path, Token: w.a.Token})
		if resp.Status >= 500 {
			t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Raw)
		}
	})
}

// bodyEndpoints are the handlers reading a body; {group} and {message} are
// the world's.
var bodyEndpoints = []struct{ method, path string }{
	{"POST", "/chat/Dialog.json"},
	{"PUT", "/chat/Dialog/{group}.json"},
	{"POST", "/chat/Message.json"},
	{"PUT", "/chat/Message/{message}/reactions.json"},
	{"PUT", "/chat/Message/{message}.json"},
}

var contentTypes = []string{"application/json", "application/x-www-form-urlencoded", "text/plain", ""}

// FuzzRESTBody sends an arbitrary body, as JSON or as a form, to the
// handlers that write; any 5xx fails. (The body is sent whole: the cut
// short ones are TestBodyCutShort's, which needs a raw connection.)
func FuzzRESTBody(f *testing.F) {
	for i := range bodyEndpoints {
		f.Add(uint8(i), uint8(0), `{}`)
		f.Add(uint8(i), uint8(1), ``)
	}
	f.Add(uint8(0), uint8(0), `{"type":2,"name":"x","occupants_ids":[1,2,3]}`)
	f.Add(uint8(0), uint8(1), `type=2&name=x&occupants_ids=1,2`)
	f.Add(uint8(0), uint8(0), `{"type":2,"name":"x`)
	f.Add(uint8(1), uint8(0), `{"push_all":{"occupants_ids":[1]},"name":"a\u0000b"}`)
	f.Add(uint8(2), uint8(0), `{"chat_dialog_id":"{group}","message":"hi","attachments":[{"type":"photo"}]}`)
	f.Add(uint8(3), uint8(0), `{"add":"a\u0000b"}`)
	f.Add(uint8(3), uint8(1), `add=%00&remove=x`)
	f.Add(uint8(4), uint8(1), `message=new%20text&read=1`)
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, endpoint, ct uint8, body string) {
		e := bodyEndpoints[int(endpoint)%len(bodyEndpoints)]
		path := strings.NewReplacer("{group}", w.group, "{message}", w.message).Replace(e.path)
		body = strings.NewReplacer("{group}", w.group, "{message}", w.message).Replace(body)
		resp := w.env.Do(t, req{Method: e.method, Path: path, Token: w.a.Token, Body: body,
			ContentType: contentTypes[int(ct)%len(contentTypes)]})
		if resp.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", e.method, path, body, resp.Status, resp.Raw)
		}
	})
}
