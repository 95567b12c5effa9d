package data

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/sdktime"
)

// Record is one object of a class. Fields holds the class's fields that
// are set, as Integer int64, Float float64, Boolean bool, String and File
// string, Date int64 Unix seconds, Array []any of scalars, Location
// []any{lng, lat} (float64).
type Record struct {
	ID        string
	AppID     int64
	ClassID   int64
	ParentID  string // "" when none
	UserID    int64
	CreatedAt time.Time
	UpdatedAt time.Time
	Fields    map[string]any
	Perms     Perms
}

// coerce converts a request value to field f's type (REST.md §9.0: "41"
// becomes 41 for an Integer). nil clears the field. The error names the
// field, for {"errors":{"age":["is not a number"]}}.
func coerce(f Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func(msg string) (any, error) { return nil, apperr.Invalid(f.Name, "%s", msg) }
	switch f.Type {
	case Integer:
		s, ok := scalarText(v)
		if !ok {
			return bad("is not a number")
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			// 3.0 is an integer; 3.5 is not.
			fl, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || fl != math.Trunc(fl) || math.Abs(fl) > 1<<53 {
				if ferr == nil {
					return bad("must be an integer")
				}
				return bad("is not a number")
			}
			n = int64(fl)
		}
		return n, nil
	case Float:
		s, ok := scalarText(v)
		if !ok {
			return bad("is not a number")
		}
		fl, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(fl) || math.IsInf(fl, 0) {
			return bad("is not a number")
		}
		return fl, nil
	case Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string, json.Number:
			s, _ := scalarText(x)
			switch strings.ToLower(s) {
			case "true", "1":
				return true, nil
			case "false", "0":
				return false, nil
			}
		}
		return bad("is not a boolean")
	case String, File:
		switch x := v.(type) {
		case string:
			if len(x) > MaxStringLen {
				return bad("is too long (maximum is 65536 bytes)")
			}
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
		return bad("is not a string")
	case Date:
		s, ok := scalarText(v)
		if !ok {
			return bad("is not a date")
		}
		t, ok := sdktime.Parse(s)
		if !ok {
			return bad("is not a date")
		}
		return t.Unix(), nil
	case Array:
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case string:
			// A form body's comma-joined array (REST.md §1.4 rule 4).
			items = []any{}
			for it := range strings.SplitSeq(x, ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, it)
				}
			}
		default:
			return bad("is not an array")
		}
		if len(items) > MaxArrayLen {
			return bad("is too long (maximum is 1000 elements)")
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			e, err := arrayElem(f, it)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case Location:
		var parts []any
		switch x := v.(type) {
		case []any:
			parts = x
		case string:
			for it := range strings.SplitSeq(x, ",") {
				parts = append(parts, strings.TrimSpace(it))
			}
		default:
			return bad("is not a location ([longitude, latitude])")
		}
		if len(parts) != 2 {
			return bad("is not a location ([longitude, latitude])")
		}
		var ll [2]float64
		for i, p := range parts {
			s, ok := scalarText(p)
			fl, err := strconv.ParseFloat(s, 64)
			if !ok || err != nil {
				return bad("is not a location ([longitude, latitude])")
			}
			ll[i] = fl
		}
		if math.Abs(ll[0]) > 180 || math.Abs(ll[1]) > 90 {
			return bad("is out of range (longitude -180..180, latitude -90..90)")
		}
		return []any{ll[0], ll[1]}, nil
	}
	return bad("has an unknown type")
}

// arrayElem keeps an Array element a JSON scalar: filters match elements
// by value, and nested objects would make "contains" ambiguous.
func arrayElem(f Field, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		fl, err := x.Float64()
		if err != nil {
			return nil, apperr.Invalid(f.Name, "is not an array of numbers, strings or booleans")
		}
		return fl, nil
	case bool:
		return x, nil
	case int64, float64:
		return x, nil
	}
	return nil, apperr.Invalid(f.Name, "is not an array of numbers, strings or booleans")
}

// scalarText renders a scalar (string or number) as text.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return x.String(), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// parsePerms reads a record's "permissions" object (REST.md §9.0), on top
// of base. The user list may be spelled ids, users_ids or user_ids, the
// group list groups, users_groups or user_groups.
func parsePerms(v any, base Perms) (Perms, error) {
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return base, nil
		}
		return base, apperr.Invalid("permissions", "must be an object")
	}
	out := base
	for key, pv := range m {
		var a Action
		switch key {
		case "read":
			a = Read
		case "update":
			a = Update
		case "delete":
			a = Delete
		default:
			return base, apperr.Invalid("permissions", "%q is not read, update or delete", key)
		}
		field := "permissions[" + key + "]"
		pm, ok := pv.(map[string]any)
		if !ok {
			return base, apperr.Invalid(field, "must be an object with access")
		}
		access, _ := pm["access"].(string)
		p := Perm{Access: Access(access)}
		list := func(names ...string) ([]string, error) {
			for _, n := range names {
				lv, ok := pm[n]
				if !ok || lv == nil {
					continue
				}
				var items []string
				switch x := lv.(type) {
				case string:
					for it := range strings.SplitSeq(x, ",") {
						if it = strings.TrimSpace(it); it != "" {
							items = append(items, it)
						}
					}
				case []any:
					for _, e := range x {
						s, ok := scalarText(e)
						if !ok {
							return nil, apperr.Invalid(field, "%s must be a list", n)
						}
						if s != "" {
							items = append(items, s)
						}
					}
				case json.Number:
					items = []string{x.String()}
				default:
					return nil, apperr.Invalid(field, "%s must be a list", n)
				}
				if len(items) > maxPermEntries {
					return nil, apperr.Invalid(field, "%s is too long (maximum is %d)", n, maxPermEntries)
				}
				return items, nil
			}
			return nil, nil
		}
		switch p.Access {
		case Open, Owner:
		case OpenForUsers:
			items, err := list("ids", "users_ids", "user_ids")
			if err != nil {
				return base, err
			}
			for _, it := range items {
				n, err := strconv.ParseInt(it, 10, 64)
				if err != nil || n <= 0 {
					return base, apperr.Invalid(field, "%q is not a user id", it)
				}
				p.Users = append(p.Users, n)
			}
		case OpenForGroups:
			items, err := list("groups", "users_groups", "user_groups")
			if err != nil {
				return base, err
			}
			p.Groups = items
		default:
			return base, apperr.Invalid(field, "access must be open, owner, open_for_users_ids or open_for_groups")
		}
		out[a] = p
	}
	return out, nil
}
