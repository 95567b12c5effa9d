package form

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestParseQuery(t *testing.T) {
	cases := []struct {
		raw  string
		want Tree
	}{
		{"", Tree{}},
		{"limit=10&skip=0&sort_desc=last_message_date_sent&type%5Bin%5D=2%2C3&updated_at%5Bgt%5D=1700000000",
			Tree{"limit": "10", "skip": "0", "sort_desc": "last_message_date_sent",
				"type": Tree{"in": "2,3"}, "updated_at": Tree{"gt": "1700000000"}}},
		{"occupants_ids[]=100&occupants_ids[]=20&occupants_ids[]=3",
			Tree{"occupants_ids": []any{"100", "20", "3"}}},
		{"id%5Bin%5D%5B%5D=1&id%5Bin%5D%5B%5D=2", Tree{"id": Tree{"in": []any{"1", "2"}}}},
		{"extensions%5Blocation%5D=Sun%20bar", Tree{"extensions": Tree{"location": "Sun bar"}}},
		{"name=a+b", Tree{"name": "a b"}},
		{"b=true&n=null&u=undefined", Tree{"b": "true", "n": "null"}},
		{"a=1&a=2", Tree{"a": []any{"1", "2"}}},
		{"&&a=1&", Tree{"a": "1"}},
		{"flag", Tree{"flag": ""}},
	}
	for _, c := range cases {
		got, err := ParseQuery(c.raw)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", c.raw, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseQuery(%q) = %#v, want %#v", c.raw, got, c.want)
		}
	}
}

func TestParseQueryRejects(t *testing.T) {
	for _, raw := range []string{
		"a=1&a[b]=2", "a[b]=1&a=2", "[x]=1", "a[b=1", "a[][b]=1", "a=%zz", "%zz=1",
		"a[b][c][d][e][f][g][h][i]=1",
	} {
		if _, err := ParseQuery(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseQuery(%q) error = %v, want ErrMalformed", raw, err)
		}
	}
}

func TestParseJSON(t *testing.T) {
	got, err := ParseJSON([]byte(`{"user":{"id":12345678901234567,"tags":["a"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	id := got["user"].(Tree)["id"].(json.Number)
	if id.String() != "12345678901234567" {
		t.Errorf("id = %s, digits lost", id)
	}
	if empty, err := ParseJSON([]byte("  ")); err != nil || len(empty) != 0 {
		t.Errorf("empty body = %v, %v; want empty tree", empty, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":1} {}`, `{"a":`, `nul`} {
		if _, err := ParseJSON([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseJSON(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"limit=10&skip=0&type%5Bin%5D=2%2C3", "occupants_ids[]=1&occupants_ids[]=2", "a[b][c]=d",
		"id%5Bin%5D%5B%5D=1", "x=undefined&y=null", "a=1&a=2&a[]=3", "%5B%5D=1", "a[b]=1&a[b][c]=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tree, err := ParseQuery(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if d := depth(tree, 0); d > MaxDepth+1 {
			t.Fatalf("depth %d over limit for %q", d, raw)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"user":{"login":"a","password":"b"}}`, `{"a":[1,{"b":null}]}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tree, err := ParseJSON(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if tree == nil {
			t.Fatal("nil tree without error")
		}
	})
}
