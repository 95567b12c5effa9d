// Package form decodes request parameters into one tree, whatever way the
// ConnectyCube SDK sent them: its own query-string serialization (bracketed
// keys, `k[]` lists, comma-joined arrays) for GET and DELETE, form bodies, and
// JSON bodies for POST and PUT.
//
// A tree is map[string]any whose values are map[string]any, []any or leaves:
// string, json.Number, bool or nil. It imports only the standard library and
// is fuzzed (FuzzParseQuery).
package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Limits on a parameter set; a request over one is malformed.
const (
	MaxParams   = 1000
	MaxDepth    = 8
	MaxKeyBytes = 256
)

// Tree is a decoded parameter set.
type Tree = map[string]any

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("malformed parameters")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// ParseQuery decodes a query string or form body (the SDK's serialization,
// REST.md §1.4). A value of exactly "undefined" is dropped, as the SDK writes
// JavaScript's undefined that way.
func ParseQuery(raw string) (Tree, error) {
	t := Tree{}
	if raw == "" {
		return t, nil
	}
	n := 0
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		if n++; n > MaxParams {
			return nil, malformed("more than %d parameters", MaxParams)
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := unescape(k)
		if err != nil {
			return nil, malformed("bad escape in parameter name")
		}
		val, err := unescape(v)
		if err != nil {
			return nil, malformed("bad escape in value of %s", key)
		}
		if val == "undefined" {
			continue
		}
		if len(key) > MaxKeyBytes {
			return nil, malformed("parameter name longer than %d bytes", MaxKeyBytes)
		}
		path, err := splitKey(key)
		if err != nil {
			return nil, err
		}
		if err := insert(t, path, val, key); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func unescape(s string) (string, error) {
	return url.QueryUnescape(s) // '+' is a space, %XX decoded
}

// splitKey turns a[b][c] into [a b c] and a[] into [a ""]. A key with no
// brackets is one segment.
func splitKey(key string) ([]string, error) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		if key == "" {
			return nil, malformed("empty parameter name")
		}
		return []string{key}, nil
	}
	if i == 0 {
		return nil, malformed("parameter name %q starts with a bracket", key)
	}
	path := []string{key[:i]}
	rest := key[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, malformed("parameter name %q: text after a bracket", key)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, malformed("parameter name %q: unclosed bracket", key)
		}
		seg := rest[1:j]
		if strings.ContainsAny(seg, "[") {
			return nil, malformed("parameter name %q: nested bracket", key)
		}
		path = append(path, seg)
		rest = rest[j+1:]
		if len(path) > MaxDepth {
			return nil, malformed("parameter name %q nests deeper than %d", key, MaxDepth)
		}
	}
	for _, seg := range path[:len(path)-1] {
		if seg == "" {
			return nil, malformed("parameter name %q: [] only at the end", key)
		}
	}
	return path, nil
}

func insert(t Tree, path []string, val, key string) error {
	node := t
	for i, seg := range path {
		last := i == len(path)-1
		if last {
			if existing, ok := node[seg]; ok {
				switch e := existing.(type) {
				case []any:
					node[seg] = append(e, val)
				case string:
					node[seg] = []any{e, val} // repeated key: a list
				default:
					return malformed("parameter %q conflicts with another", key)
				}
			} else {
				node[seg] = val
			}
			return nil
		}
		next := path[i+1]
		if next == "" { // seg[] = val: append to list seg
			if i+1 != len(path)-1 {
				return malformed("parameter name %q: [] only at the end", key)
			}
			switch e := node[seg].(type) {
			case nil:
				node[seg] = []any{val}
			case []any:
				node[seg] = append(e, val)
			case string:
				node[seg] = []any{e, val}
			default:
				return malformed("parameter %q conflicts with another", key)
			}
			return nil
		}
		child, ok := node[seg]
		if !ok {
			m := Tree{}
			node[seg] = m
			node = m
			continue
		}
		m, ok := child.(Tree)
		if !ok {
			return malformed("parameter %q conflicts with another", key)
		}
		node = m
	}
	return nil
}

// ParseJSON decodes a JSON object body; an empty body is an empty tree (the
// SDK sends none for calls without parameters). Numbers stay json.Number so
// that integers keep every digit.
func ParseJSON(body []byte) (Tree, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Tree{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, malformed("invalid JSON: data after the top-level value")
	}
	t, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("the JSON body must be an object")
	}
	if d := depth(t, 0); d > MaxDepth*4 {
		return nil, malformed("JSON nests deeper than %d", MaxDepth*4)
	}
	return t, nil
}

func depth(v any, d int) int {
	max := d
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			max = maxInt(max, depth(c, d+1))
		}
	case []any:
		for _, c := range x {
			max = maxInt(max, depth(c, d+1))
		}
	}
	return max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// Merge copies every key of src into dst that dst lacks (dst wins).
func Merge(dst, src Tree) {
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = v
		}
	}
}
