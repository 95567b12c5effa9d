package data

import (
	"sort"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sdktime"
)

// Column names the record columns a filter or sort may use; "" is a field
// of the class (in the record's JSON document).
const (
	ColID      = "id"
	ColParent  = "parent_id"
	ColUser    = "user_id"
	ColCreated = "created_at"
	ColUpdated = "updated_at"
)

// systemFields maps the record's own fields to their columns.
var systemFields = map[string]string{
	"_id": ColID, "_parent_id": ColParent, "user_id": ColUser, "created_at": ColCreated, "updated_at": ColUpdated,
}

// Cond is one filter, its values converted for the store: int64, float64
// or string; Boolean fields compare as 1 and 0 (how SQLite reads JSON
// booleans), dates of created_at/updated_at as Unix microseconds.
type Cond struct {
	Column string // a system column, or "" for Field
	Field  string // the class field when Column is ""
	Array  bool   // an Array field: eq means "contains"
	Op     string // eq ne lt lte gt gte in nin all ctn near (or is stored as in)
	Values []any  // one for the comparisons; the list for in, nin, all; near: longitude, latitude, meters
}

// parseNear reads a Location filter `field[near]=lng,lat;radius` (radius
// in meters, REST.md §9.3).
func parseNear(c *Class, field, param string, v any) (Cond, error) {
	f, ok := c.Field(field)
	if !ok || f.Type != Location {
		return Cond{}, apperr.Invalid("base", "Invalid filter: %s: near works on a Location field", param)
	}
	s, ok := v.(string)
	point, radius, hasRadius := strings.Cut(s, ";")
	if !ok || !hasRadius {
		return Cond{}, apperr.Invalid("base", "Invalid filter: %s: write longitude,latitude;meters", param)
	}
	ll, err := coerce(f, point)
	r, rerr := strconv.ParseFloat(strings.TrimSpace(radius), 64)
	if err != nil || rerr != nil || !(r > 0) || r > 2e7 {
		return Cond{}, apperr.Invalid("base", "Invalid filter: %s: write longitude,latitude;meters", param)
	}
	pair := ll.([]any)
	return Cond{Field: f.Name, Op: "near", Values: []any{pair[0], pair[1], r}}, nil
}

// Sort is the order of a listing: a column or a class field.
type Sort struct {
	Column string
	Field  string
	Desc   bool
}

// Query is a listing (REST.md §9.3).
type Query struct {
	Conds []Cond
	Sort  Sort
	Skip  int
	Limit int
	// Last: limit=-1, only the last record of the order.
	Last bool
	// Indexed are the class's indexed fields (Class.Indexes), for the
	// store to pick an index.
	Indexed []string
}

var operators = map[string]bool{
	"eq": true, "ne": true, "lt": true, "lte": true, "gt": true, "gte": true,
	"in": true, "nin": true, "all": true, "or": true, "ctn": true,
}

// ParseCriteria turns a filter tree into conditions: each key is a field,
// its value a value (equals) or an object of operator → value, as a query
// string (`age[lt]=30`) or a JSON body (`{"age": {"lt": 30}}`) gives it.
// Keys are visited in sorted order, so the first bad one is named the same
// way every time.
func ParseCriteria(c *Class, tree map[string]any) ([]Cond, error) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Cond
	for _, k := range keys {
		v := tree[k]
		if m, ok := v.(map[string]any); ok {
			ops := make([]string, 0, len(m))
			for op := range m {
				ops = append(ops, op)
			}
			sort.Strings(ops)
			for _, op := range ops {
				cond, err := parseCond(c, k, op, m[op])
				if err != nil {
					return nil, err
				}
				out = append(out, cond)
			}
			continue
		}
		cond, err := parseCond(c, k, "eq", v)
		if err != nil {
			return nil, err
		}
		out = append(out, cond)
	}
	return out, nil
}

func invalidFilter(param string) error {
	return apperr.Invalid("base", "Invalid filter: %s", param)
}

func parseCond(c *Class, field, op string, v any) (Cond, error) {
	param := field
	if op != "eq" {
		param = field + "[" + op + "]"
	}
	if op == "near" {
		return parseNear(c, field, param, v)
	}
	if op == "calc" {
		return Cond{}, apperr.Invalid("base", "Invalid filter: %s: calc (aggregation) is not supported", param)
	}
	if !operators[op] {
		return Cond{}, apperr.Invalid("base", "Invalid filter: %s: unknown operator %s", param, op)
	}
	if op == "or" {
		op = "in"
	}
	cond := Cond{Op: op}
	var conv func(any) (any, error)
	if col, ok := systemFields[field]; ok {
		cond.Column = col
		switch col {
		case ColID, ColParent:
			if sv, isStr := v.(string); isStr && op == "eq" && strings.Contains(sv, ",") {
				// The SDK joins an array after an object with commas
				// (`_id=a,b`, REST.md §1.4): a list of ids.
				op, cond.Op = "in", "in"
			}
			if op == "lt" || op == "lte" || op == "gt" || op == "gte" || op == "all" || op == "ctn" {
				return Cond{}, invalidFilter(param)
			}
			conv = func(v any) (any, error) {
				s, ok := scalarText(v)
				if !ok || !ValidID(s) {
					return nil, apperr.Malformed("Invalid id: %v", v)
				}
				return s, nil
			}
		case ColUser:
			conv = func(v any) (any, error) { return coerce(Field{Name: field, Type: Integer}, v) }
		default:
			conv = func(v any) (any, error) {
				s, ok := scalarText(v)
				t, ok2 := sdktime.Parse(s)
				if !ok || !ok2 {
					return nil, invalidFilter(param)
				}
				return t.UnixMicro(), nil
			}
		}
	} else {
		f, ok := c.Field(field)
		if !ok {
			return Cond{}, apperr.Invalid("base", "Invalid filter: %s: %s is not a field of %s", param, field, c.Name)
		}
		cond.Field = f.Name
		switch f.Type {
		case Location:
			return Cond{}, invalidFilter(param)
		case Boolean:
			if op != "eq" && op != "ne" && op != "in" && op != "nin" {
				return Cond{}, invalidFilter(param)
			}
		case Array:
			cond.Array = true
			if op != "eq" && op != "ne" && op != "in" && op != "nin" && op != "all" {
				return Cond{}, invalidFilter(param)
			}
		}
		if op == "ctn" && f.Type != String && f.Type != File {
			return Cond{}, invalidFilter(param)
		}
		if op == "all" && f.Type != Array {
			return Cond{}, invalidFilter(param)
		}
		conv = func(v any) (any, error) {
			if f.Type == Array {
				s, ok := scalarText(v)
				if !ok {
					if b, isBool := v.(bool); isBool {
						return boolInt(b), nil
					}
					return nil, invalidFilter(param)
				}
				return s, nil
			}
			x, err := coerce(f, v)
			if err != nil || x == nil {
				return nil, invalidFilter(param)
			}
			if b, ok := x.(bool); ok {
				return boolInt(b), nil
			}
			return x, nil
		}
	}
	var raw []any
	switch op {
	case "in", "nin", "all":
		switch x := v.(type) {
		case []any:
			raw = x
		case string:
			for it := range strings.SplitSeq(x, ",") {
				if it = strings.TrimSpace(it); it != "" {
					raw = append(raw, it)
				}
			}
		case nil:
			return Cond{}, invalidFilter(param)
		default:
			raw = []any{x}
		}
		if len(raw) == 0 {
			return Cond{}, invalidFilter(param)
		}
		if len(raw) > MaxIDsPerRequest {
			return Cond{}, apperr.Invalid(field, "is too long (maximum is %d values)", MaxIDsPerRequest)
		}
	default:
		if _, isList := v.([]any); isList || v == nil {
			return Cond{}, invalidFilter(param)
		}
		raw = []any{v}
	}
	for _, r := range raw {
		x, err := conv(r)
		if err != nil {
			return Cond{}, err
		}
		if cond.Array {
			// A query string cannot say whether "5" is a number or a
			// string: an element matches either.
			cond.Values = append(cond.Values, arrayCandidates(x)...)
			continue
		}
		cond.Values = append(cond.Values, x)
	}
	if cond.Array && (op == "eq" || op == "ne") {
		// Every candidate of the one value: contains any of them.
		if op == "eq" {
			cond.Op = "in"
		} else {
			cond.Op = "nin"
		}
	}
	if cond.Array && op == "all" {
		// Each listed value must be present; keep one group per value.
		cond.Values = nil
		for _, r := range raw {
			x, _ := conv(r)
			cond.Values = append(cond.Values, arrayCandidates(x))
		}
	}
	return cond, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// arrayCandidates are the stored forms an Array element given as text
// may have: the text, and the number it spells.
func arrayCandidates(x any) []any {
	s, ok := x.(string)
	if !ok {
		return []any{x}
	}
	out := []any{s}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		out = append(out, n)
	} else if f, err := strconv.ParseFloat(s, 64); err == nil {
		out = append(out, f)
	}
	switch s {
	case "true":
		out = append(out, int64(1))
	case "false":
		out = append(out, int64(0))
	}
	return out
}

// ParseSort resolves a sort_asc/sort_desc field.
func ParseSort(c *Class, field string, desc bool) (Sort, error) {
	if col, ok := systemFields[field]; ok {
		return Sort{Column: col, Desc: desc}, nil
	}
	f, ok := c.Field(field)
	if !ok || f.Type == Array || f.Type == Location {
		key := "sort_asc"
		if desc {
			key = "sort_desc"
		}
		return Sort{}, apperr.Invalid(key, "%q is not a sortable field of %s", field, c.Name)
	}
	return Sort{Field: f.Name, Desc: desc}, nil
}

// ValidID reports whether s is a record id: 24 lowercase hex characters,
// like dialog and message ids (REST.md §1.10).
func ValidID(s string) bool { return chat.ValidID(s) }

// Calc is one aggregation of a listing: `field[calc]=avg|min|max|sum`.
type Calc struct {
	Field string
	Fn    string
}

// Aggregation is a listing's calcs, grouped by a field or by nothing.
type Aggregation struct {
	Calcs []Calc
	// GroupBy is a class field, or a record column (user_id, _parent_id);
	// "" aggregates every match into one item.
	GroupBy       string
	GroupByColumn string
	groupType     Type
}

// MaxGroups caps the items of an aggregation.
const MaxGroups = 1000

// ParseAggregation checks calcs and group_by against the class.
func ParseAggregation(c *Class, calcs []Calc, groupBy string) (*Aggregation, error) {
	agg := &Aggregation{}
	for _, k := range calcs {
		param := k.Field + "[calc]"
		f, ok := c.Field(k.Field)
		if !ok {
			return nil, apperr.Invalid("base", "Invalid filter: %s: %s is not a field of %s", param, k.Field, c.Name)
		}
		switch k.Fn {
		case "avg", "sum":
			if f.Type != Integer && f.Type != Float {
				return nil, apperr.Invalid("base", "Invalid filter: %s: %s works on Integer and Float fields", param, k.Fn)
			}
		case "min", "max":
			if f.Type == Array || f.Type == Location || f.Type == Boolean {
				return nil, apperr.Invalid("base", "Invalid filter: %s: %s works on numbers, strings and dates", param, k.Fn)
			}
		default:
			return nil, apperr.Invalid("base", "Invalid filter: %s: %q is not avg, min, max or sum", param, k.Fn)
		}
		agg.Calcs = append(agg.Calcs, k)
	}
	if groupBy == "" {
		return agg, nil
	}
	switch groupBy {
	case "user_id":
		agg.GroupBy, agg.GroupByColumn = groupBy, ColUser
		return agg, nil
	case "_parent_id":
		agg.GroupBy, agg.GroupByColumn = groupBy, ColParent
		return agg, nil
	}
	f, ok := c.Field(groupBy)
	if !ok || f.Type == Array || f.Type == Location {
		return nil, apperr.Invalid("group_by", "%q is not a single-value field of %s", groupBy, c.Name)
	}
	agg.GroupBy, agg.groupType = f.Name, f.Type
	return agg, nil
}

// GroupValue converts a group's value as the store read it to the field's
// type (SQLite reads JSON booleans as 1 and 0).
func (a *Aggregation) GroupValue(v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if a.groupType == Boolean {
		if n, ok := v.(int64); ok {
			return n != 0
		}
	}
	return v
}
