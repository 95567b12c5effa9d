package data

import (
	"encoding/json"
	"testing"
)

func TestParseTypeAnyCase(t *testing.T) {
	for _, s := range []string{"integer", "Integer", "INTEGER", "iNtEgEr"} {
		if ty, ok := ParseType(s); !ok || ty != Integer {
			t.Errorf("ParseType(%q) = %q %v", s, ty, ok)
		}
	}
	for _, s := range []string{"int", "", "Integers", "Number"} {
		if _, ok := ParseType(s); ok {
			t.Errorf("ParseType(%q) accepted", s)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a", "UserReports", "x_1", "A9"} {
		if !ValidName(s) {
			t.Errorf("%q refused", s)
		}
	}
	long := make([]byte, MaxNameLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, s := range []string{"", "1a", "_a", "a-b", "a b", "é", "a.b", string(long)} {
		if ValidName(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCoerce(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		in   any
		want any
	}{
		{Integer, "41", int64(41)},
		{Integer, json.Number("3.0"), int64(3)},
		{Float, "2.5", 2.5},
		{Boolean, "1", true},
		{Boolean, json.Number("0"), false},
		{String, json.Number("12"), "12"},
		{Date, "2024-01-15T09:41:07Z", int64(1705311667)},
		{Date, "Mon Jan 15 2024 09:41:07 GMT+0000 (Coordinated Universal Time)", int64(1705311667)},
		{Date, json.Number("1705311667"), int64(1705311667)},
		{Location, []any{json.Number("13.4"), json.Number("52.5")}, []any{13.4, 52.5}},
		{Location, "13.4,52.5", []any{13.4, 52.5}},
		{Array, "a,b", []any{"a", "b"}},
	} {
		got, err := coerce(Field{Name: "f", Type: tc.typ}, tc.in)
		if err != nil {
			t.Errorf("%s %v: %v", tc.typ, tc.in, err)
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(tc.want)
		if string(g) != string(w) {
			t.Errorf("%s %v = %s; want %s", tc.typ, tc.in, g, w)
		}
	}
	for _, tc := range []struct {
		typ Type
		in  any
	}{
		{Integer, "x"}, {Integer, json.Number("3.5")}, {Integer, true}, {Float, "NaN"}, {Boolean, "yes"},
		{String, []any{"a"}}, {Date, "soon"}, {Location, []any{1}}, {Location, []any{200, 0}}, {Array, map[string]any{}},
	} {
		if _, err := coerce(Field{Name: "f", Type: tc.typ}, tc.in); err == nil {
			t.Errorf("%s %v accepted", tc.typ, tc.in)
		}
	}
}

func TestParsePermSpellings(t *testing.T) {
	for _, key := range []string{"ids", "users_ids", "user_ids"} {
		p, err := parsePerms(map[string]any{"read": map[string]any{"access": "open_for_users_ids", key: []any{"5", json.Number("6")}}}, DefaultClassPerms().Records)
		if err != nil || len(p[Read].Users) != 2 || p[Read].Users[1] != 6 {
			t.Errorf("%s: %+v %v", key, p[Read], err)
		}
	}
	for _, key := range []string{"groups", "users_groups", "user_groups"} {
		p, err := parsePerms(map[string]any{"delete": map[string]any{"access": "open_for_groups", key: "a, b"}}, DefaultClassPerms().Records)
		if err != nil || len(p[Delete].Groups) != 2 || p[Delete].Groups[1] != "b" {
			t.Errorf("%s: %+v %v", key, p[Delete], err)
		}
	}
	if _, err := parsePerms(map[string]any{"read": map[string]any{"access": "not_allowed"}}, Perms{}); err == nil {
		t.Errorf("not_allowed accepted on a record")
	}
}
