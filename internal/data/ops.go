package data

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
)

// NewID returns a fresh record id: the ObjectId shape of message ids
// (REST.md §1.10), from their generator, whose ids increase within a
// second: a class's records, kept in id order, are listed in the order
// they were made, and new ones land at the end of the table.
func NewID(now time.Time) string { return chat.NewMessageID(now) }

// applyOp applies one special update operator (REST.md §9.6) to r. The
// operator's value is an object of field → argument.
func applyOp(cls *Class, r *Record, op string, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return apperr.Invalid(op, "must be an object of field names")
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		arg := m[name]
		f, ok := cls.Field(name)
		if !ok {
			return apperr.Invalid(name, "is not a field of %s", cls.Name)
		}
		if op == "inc" {
			if err := inc(r, f, arg); err != nil {
				return err
			}
			continue
		}
		if f.Type != Array {
			return apperr.Invalid(name, "is not an Array field (%s works on arrays)", op)
		}
		cur, _ := r.Fields[name].([]any)
		var next []any
		switch op {
		case "push", "add_to_set":
			items, err := elems(f, arg)
			if err != nil {
				return err
			}
			next = append([]any{}, cur...)
			for _, it := range items {
				if op == "add_to_set" && indexOf(next, it) >= 0 {
					continue
				}
				next = append(next, it)
			}
		case "pull", "pull_with_filter":
			if fm, isMap := arg.(map[string]any); isMap {
				keep, err := pullFilter(f, cur, fm)
				if err != nil {
					return err
				}
				next = keep
				break
			}
			if op == "pull_with_filter" {
				return apperr.Invalid(name, "pull_with_filter needs an object of operators, e.g. {\"lt\": 10}")
			}
			items, err := elems(f, arg)
			if err != nil {
				return err
			}
			next = without(cur, items)
		case "pull_all":
			items, err := elems(f, arg)
			if err != nil {
				return err
			}
			next = without(cur, items)
		case "pop":
			s, _ := scalarText(arg)
			next = append([]any{}, cur...)
			switch s {
			case "1":
				if len(next) > 0 {
					next = next[:len(next)-1]
				}
			case "-1":
				if len(next) > 0 {
					next = next[1:]
				}
			default:
				return apperr.Invalid(name, "pop takes 1 (the last element) or -1 (the first)")
			}
		case "update_by_index":
			im, isMap := arg.(map[string]any)
			if !isMap {
				return apperr.Invalid(name, "update_by_index needs an object of index → value")
			}
			if err := setByIndex(r, f, im); err != nil {
				return err
			}
			continue
		}
		if len(next) > MaxArrayLen {
			return apperr.Invalid(name, "is too long (maximum is %d elements)", MaxArrayLen)
		}
		r.Fields[name] = next
	}
	return nil
}

func inc(r *Record, f Field, arg any) error {
	if f.Type != Integer && f.Type != Float {
		return apperr.Invalid(f.Name, "is not a number field (inc works on Integer and Float)")
	}
	d, err := coerce(f, arg)
	if err != nil || d == nil {
		return apperr.Invalid(f.Name, "inc needs a number")
	}
	switch f.Type {
	case Integer:
		cur, _ := r.Fields[f.Name].(int64)
		r.Fields[f.Name] = cur + d.(int64)
	case Float:
		cur, _ := r.Fields[f.Name].(float64)
		r.Fields[f.Name] = cur + d.(float64)
	}
	return nil
}

// setByIndex sets elements of an Array field: {"0": "x"} sets the first.
// An index one past the end appends; further is refused.
func setByIndex(r *Record, f Field, m map[string]any) error {
	cur, _ := r.Fields[f.Name].([]any)
	next := append([]any{}, cur...)
	keys := make([]int, 0, len(m))
	for k := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 {
			return apperr.Invalid(f.Name, "%q is not an array index", k)
		}
		keys = append(keys, i)
	}
	sort.Ints(keys)
	for _, i := range keys {
		e, err := arrayElem(f, m[strconv.Itoa(i)])
		if err != nil {
			return err
		}
		switch {
		case i < len(next):
			next[i] = e
		case i == len(next):
			next = append(next, e)
		default:
			return apperr.Invalid(f.Name, "index %d is past the end (%d elements)", i, len(next))
		}
	}
	if len(next) > MaxArrayLen {
		return apperr.Invalid(f.Name, "is too long (maximum is %d elements)", MaxArrayLen)
	}
	r.Fields[f.Name] = next
	return nil
}

// elems reads an operator's argument as Array elements: a list, or one
// value.
func elems(f Field, arg any) ([]any, error) {
	list, ok := arg.([]any)
	if !ok {
		list = []any{arg}
	}
	out := make([]any, 0, len(list))
	for _, it := range list {
		e, err := arrayElem(f, it)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// same compares two Array elements: numbers by value (5 and 5.0 are one),
// anything else by type and value.
func same(a, b any) bool {
	fa, aNum := num(a)
	fb, bNum := num(b)
	if aNum || bNum {
		return aNum && bNum && fa == fb
	}
	return a == b
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func indexOf(list []any, v any) int {
	for i, e := range list {
		if same(e, v) {
			return i
		}
	}
	return -1
}

func without(list, remove []any) []any {
	out := []any{}
	for _, e := range list {
		if indexOf(remove, e) < 0 {
			out = append(out, e)
		}
	}
	return out
}

// pullFilter removes the elements matching every operator of fm (lt lte
// gt gte eq ne in nin).
func pullFilter(f Field, list []any, fm map[string]any) ([]any, error) {
	type test func(any) bool
	var tests []test
	for op, arg := range fm {
		switch op {
		case "lt", "lte", "gt", "gte":
			s, ok := scalarText(arg)
			x, err := strconv.ParseFloat(s, 64)
			if !ok || err != nil {
				return nil, apperr.Invalid(f.Name, "pull %s needs a number", op)
			}
			tests = append(tests, func(e any) bool {
				v, ok := num(e)
				if !ok {
					return false
				}
				switch op {
				case "lt":
					return v < x
				case "lte":
					return v <= x
				case "gt":
					return v > x
				}
				return v >= x
			})
		case "eq", "ne":
			e0, err := arrayElem(f, arg)
			if err != nil {
				return nil, err
			}
			tests = append(tests, func(e any) bool { return same(e, e0) == (op == "eq") })
		case "in", "nin":
			items, err := elems(f, arg)
			if err != nil {
				return nil, err
			}
			tests = append(tests, func(e any) bool { return (indexOf(items, e) >= 0) == (op == "in") })
		default:
			return nil, apperr.Invalid(f.Name, "pull: unknown operator %s", op)
		}
	}
	out := []any{}
	for _, e := range list {
		match := len(tests) > 0
		for _, t := range tests {
			if !t(e) {
				match = false
				break
			}
		}
		if !match {
			out = append(out, e)
		}
	}
	return out, nil
}

// Normalize converts a record's fields as decoded from JSON (numbers as
// json.Number) to the types of Record.Fields; fields the class no longer
// has are dropped.
func Normalize(cls *Class, fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		f, ok := cls.Field(k)
		if !ok {
			continue
		}
		if x, err := coerce(f, v); err == nil && x != nil {
			out[k] = x
		}
	}
	return out
}
