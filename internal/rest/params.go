package rest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/rest/form"
)

// params is a decoded parameter tree with typed accessors. Each accessor
// returns (nil, nil) when the key is absent and a 422 naming the field when
// the value has the wrong type, so handlers never guess.
type params form.Tree

func (p params) has(key string) bool { _, ok := p[key]; return ok }

// object returns the nested object at key (e.g. the "user" of a body).
func (p params) object(key string) (params, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(form.Tree)
	if !ok {
		return nil, apperr.Invalid(key, "must be an object")
	}
	return params(m), nil
}

// str returns a string value. JSON numbers and booleans are refused: a
// login sent as 42 is a client bug worth naming.
func (p params) str(key string) (*string, error) {
	v, ok := p[key]
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return &x, nil
	case nil:
		s := ""
		return &s, nil
	}
	return nil, apperr.Invalid(key, "must be a string")
}

// text is str with "" for absent.
func (p params) text(key string) (string, error) {
	s, err := p.str(key)
	if s == nil || err != nil {
		return "", err
	}
	return *s, nil
}

// int returns an integer given as a JSON number or a decimal string.
func (p params) int(key string) (*int64, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return nil, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
		if s == "" || s == "null" {
			return nil, nil
		}
	default:
		return nil, apperr.Invalid(key, "must be an integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, apperr.Invalid(key, "must be an integer")
	}
	return &n, nil
}

// intIn returns an integer in [lo, hi], or def when absent.
func (p params) intIn(key string, def, lo, hi int64) (int64, error) {
	n, err := p.int(key)
	if err != nil {
		return 0, err
	}
	if n == nil {
		return def, nil
	}
	if *n < lo || *n > hi {
		return 0, apperr.Invalid(key, "must be between %d and %d", lo, hi)
	}
	return *n, nil
}

// strList returns a list of strings given as a JSON array, repeated k[]
// parameters, or one comma-separated string (REST.md §1.4 rule 3).
func (p params) strList(key string) (*[]string, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return nil, nil
	}
	var out []string
	switch x := v.(type) {
	case string:
		for item := range strings.SplitSeq(x, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	case []any:
		for _, e := range x {
			switch s := e.(type) {
			case string:
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			case json.Number:
				out = append(out, s.String())
			default:
				return nil, apperr.Invalid(key, "must be a list of strings")
			}
		}
	default:
		return nil, apperr.Invalid(key, "must be a list or a comma-separated string")
	}
	return &out, nil
}

// leafString renders a leaf (string or number) as text.
func leafString(key string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", apperr.Invalid(key, "must be a single value")
}

func invalidFilter(param string) error {
	return apperr.Invalid("base", "Invalid filter: %s", param)
}

func fieldf(parent, child string) string { return fmt.Sprintf("%s[%s]", parent, child) }

// strListRaw returns the items of a list parameter without splitting
// strings on commas (filter[] values contain commas of their own).
func (p params) strListRaw(key string) ([]string, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := leafString(key, e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, apperr.Invalid(key, "must be a list")
}
