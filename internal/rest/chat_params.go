package rest

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/rest/form"
	"github.com/parley-chat/parley/internal/sdktime"
)

// chatQuery turns GET parameters into a filtered, sorted, paged chat.Query
// (REST.md §1.11). Keys in reserved are not filters. Every key is checked:
// an unknown field or operator, or a value of the wrong type, is 422; a
// malformed id on an id field is 400.
func chatQuery(p params, fields map[string]chat.Kind, sorts map[string]string, reserved map[string]bool, defLimit, maxLimit int64) (chat.Query, error) {
	var q chat.Query
	skip, err := p.intIn("skip", 0, 0, 1<<31)
	if err != nil {
		return q, err
	}
	limit, err := p.intIn("limit", defLimit, 0, maxLimit)
	if err != nil {
		return q, err
	}
	q.Skip, q.Limit = int(skip), int(limit)
	asc, err := p.text("sort_asc")
	if err != nil {
		return q, err
	}
	desc, err := p.text("sort_desc")
	if err != nil {
		return q, err
	}
	if asc != "" && desc != "" {
		return q, apperr.Invalid("base", "Invalid filter: give sort_asc or sort_desc, not both")
	}
	if key := asc + desc; key != "" {
		f, ok := sorts[key]
		if !ok {
			name := "sort_asc"
			if desc != "" {
				name = "sort_desc"
			}
			return q, invalidFilter(name + "=" + key)
		}
		q.Sort, q.Desc = f, desc != ""
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if reserved[key] || key == "skip" || key == "limit" || key == "sort_asc" || key == "sort_desc" {
			continue
		}
		v := p[key]
		// Nested fields: extensions[name], attachments[type].
		if sub, ok := v.(form.Tree); ok && (key == "extensions" || key == "attachments") {
			names := make([]string, 0, len(sub))
			for n := range sub {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				field := key + "." + n
				// Present in the table, not merely KindString: a missing
				// key reads as KindString (0), which let extensions[x]
				// through to the messages' store, which has no such
				// column (a 500).
				_, anyExt := fields["extensions.*"]
				if _, ok := fields[field]; !ok && !(key == "extensions" && anyExt && validExtName(n)) {
					return q, invalidFilter(fieldf(key, n))
				}
				conds, err := fieldConds(field, fieldf(key, n), chat.KindString, sub[n])
				if err != nil {
					return q, err
				}
				q.Conds = append(q.Conds, conds...)
			}
			continue
		}
		kind, ok := fields[key]
		if !ok || strings.HasSuffix(key, ".*") {
			return q, invalidFilter(key)
		}
		conds, err := fieldConds(key, key, kind, v)
		if err != nil {
			return q, err
		}
		q.Conds = append(q.Conds, conds...)
	}
	return q, nil
}

func validExtName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// fieldConds types one filter parameter: field=v, field[op]=v or a list.
func fieldConds(field, param string, kind chat.Kind, v any) ([]chat.Cond, error) {
	ops, err := operators(param, v)
	if err != nil {
		return nil, err
	}
	var out []chat.Cond
	for _, o := range ops {
		name := param
		if _, isTree := v.(form.Tree); isTree {
			name = fieldf(param, o.op)
		}
		if !chat.Operators[o.op] || (o.op == "all" && kind != chat.KindIntList) || (o.op == "ctn" && kind != chat.KindString) {
			return nil, invalidFilter(name)
		}
		// The SDK joins an array it does not expand into one value
		// ("_id=a,b", REST.md §1.4): for ids and numbers, which cannot
		// contain a comma, that is a list.
		if s, isText := o.raw.(string); isText && o.op == "eq" && kind != chat.KindString && strings.Contains(s, ",") {
			o.op = "in"
		}
		var raws []string
		switch o.op {
		case "in", "nin", "all":
			list, err := params{name: o.raw}.strList(name)
			if err != nil || list == nil || len(*list) == 0 {
				return nil, invalidFilter(name)
			}
			raws = *list
			if err := listLimit(name, len(raws)); err != nil {
				return nil, err
			}
		default:
			s, err := leafString(name, o.raw)
			if err != nil {
				return nil, invalidFilter(name)
			}
			raws = []string{s}
		}
		c := chat.Cond{Field: field, Op: o.op}
		for _, s := range raws {
			val, err := chatValue(kind, name, s)
			if err != nil {
				return nil, err
			}
			c.Values = append(c.Values, val)
		}
		out = append(out, c)
	}
	return out, nil
}

func chatValue(kind chat.Kind, name, s string) (any, error) {
	s = strings.TrimSpace(s)
	switch kind {
	case chat.KindInt, chat.KindIntList:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, invalidFilter(name)
		}
		return n, nil
	case chat.KindTime:
		t, ok := sdktime.Parse(s)
		if !ok {
			return nil, invalidFilter(name)
		}
		return t, nil
	case chat.KindID:
		if !chat.ValidID(s) {
			return nil, apperr.Malformed("Invalid id: %s", s)
		}
		return s, nil
	}
	return s, nil
}

// idList reads a list of ids (user ids) from a JSON array, an "1, 2"
// string (the SDK's create encoding) or a single number.
func idList(p params, key string) ([]int64, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return nil, nil
	}
	var items []string
	switch x := v.(type) {
	case json.Number:
		items = []string{x.String()}
	default:
		list, err := p.strList(key)
		if err != nil {
			return nil, apperr.Invalid(key, "must be a list of user ids")
		}
		items = *list
	}
	out := make([]int64, 0, len(items))
	for _, s := range items {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.Invalid(key, "must be a list of user ids")
		}
		out = append(out, n)
	}
	if len(out) > chat.MaxOccupants {
		return nil, apperr.Invalid(key, "is too long (maximum is %d)", chat.MaxOccupants)
	}
	return out, nil
}

// listLimit refuses a list of more than MaxIDsPerRequest values (ids, tags,
// types): each value becomes a term of the SQL statement, and SQLite
// refuses statements past a depth of 1,000 terms (that was a 500).
func listLimit(name string, n int) error {
	if n > chat.MaxIDsPerRequest {
		return apperr.Invalid(name, "is too long (maximum is %d values)", chat.MaxIDsPerRequest)
	}
	return nil
}

// pathIDs splits a path segment of comma-separated ids (REST.md §1.1).
func pathIDs(seg string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(seg, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, apperr.Malformed("Invalid id: %q", seg)
	}
	if len(out) > chat.MaxIDsPerRequest {
		return nil, apperr.Invalid("base", "at most %d ids per request", chat.MaxIDsPerRequest)
	}
	return out, nil
}

// flag reads a 0/1 flag (REST.md §1.10): 0, 1, "0", "1", true, false.
func flag(p params, key string) (bool, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case json.Number:
		switch x.String() {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
	case string:
		switch strings.TrimSpace(x) {
		case "0", "false", "":
			return false, nil
		case "1", "true":
			return true, nil
		}
	}
	return false, apperr.Invalid(key, "must be 0 or 1")
}

// textValue casts a JSON leaf to the string the spec stores (5 → "5",
// true → "true"); objects and arrays are refused.
func textValue(key string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", apperr.Invalid(key, "must be a string, number or boolean")
}

// customValue keeps a custom message parameter: leaves as strings, objects
// as nested objects (REST.md §2.4).
func customValue(key string, v any, depth int) (any, error) {
	if depth > 8 {
		return nil, apperr.Invalid(key, "nests too deeply")
	}
	switch x := v.(type) {
	case form.Tree:
		out := make(map[string]any, len(x))
		for k, c := range x {
			cv, err := customValue(key, c, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	case []any:
		out := make(map[string]any, len(x))
		for i, c := range x {
			cv, err := customValue(key, c, depth+1)
			if err != nil {
				return nil, err
			}
			out[strconv.Itoa(i)] = cv
		}
		return out, nil
	}
	return textValue(key, v)
}
