package rest

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/rest/form"
	"github.com/parley-chat/parley/internal/sdktime"
)

// Paging limits of the user lists (REST.md §4.2, §4.4).
const (
	maxUsersPage      = 100
	startWithMinLen   = 4
	startWithPageSize = 5
)

// v2 field classes (REST.md §4.2): stand-alone fields take the primary
// operators (eq, in, start_with) and nin; additional fields take comparisons.
var (
	v2Standalone = map[string]bool{"id": true, "login": true, "email": true, "full_name": true, "phone": true,
		"external_id": true, "facebook_id": true, "twitter_id": true, "user_tags": true}
	v2Additional = map[string]bool{"last_request_at": true, "created_at": true, "updated_at": true, "user_tags": true}
)

type usersPageV2 struct {
	Limit        int64       `json:"limit"`
	Skip         int64       `json:"skip"`
	TotalEntries int         `json:"total_entries"`
	Items        []*userJSON `json:"items"`
}

// listUsersV2 is GET /users/v2 (REST.md §4.2).
func (a *API) listUsersV2(r *request) (reply, error) {
	p := r.params
	offset, err := p.intIn("offset", 0, 0, 1<<31)
	if err != nil {
		return reply{}, err
	}
	limit, err := p.intIn("limit", maxUsersPage, 1, maxUsersPage)
	if err != nil {
		return reply{}, err
	}
	q := auth.UserQuery{Offset: int(offset)}
	if q.Sort, q.Desc, err = sortParam(p); err != nil {
		return reply{}, err
	}
	primary, startWith := false, false
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic: the first bad parameter is named
	for _, field := range keys {
		switch field {
		case "offset", "limit", "sort_asc", "sort_desc":
			continue
		}
		if !v2Standalone[field] && !v2Additional[field] {
			return reply{}, invalidFilter(field)
		}
		ops, err := operators(field, p[field])
		if err != nil {
			return reply{}, err
		}
		for _, o := range ops {
			switch o.op {
			case "eq", "in", "start_with", "nin":
				if !v2Standalone[field] && !(field == "user_tags" && o.op == "eq") {
					return reply{}, invalidFilter(fieldf(field, o.op))
				}
				if o.op != "nin" {
					primary = true
				}
			case "gt", "lt", "gte", "lte":
				if !v2Additional[field] || field == "user_tags" {
					return reply{}, invalidFilter(fieldf(field, o.op))
				}
			default:
				return reply{}, invalidFilter(fieldf(field, o.op))
			}
			cond, err := userCond(field, o)
			if err != nil {
				return reply{}, err
			}
			if o.op == "start_with" {
				if len([]rune(cond.Values[0].(string))) < startWithMinLen {
					return reply{}, apperr.Invalid(fieldf(field, "start_with"), "must be at least %d characters", startWithMinLen)
				}
				startWith = true
			}
			q.Conds = append(q.Conds, cond)
		}
	}
	if !primary {
		return reply{}, apperr.Invalid("base", "At least one of %s is required with eq, in or start_with", strings.Join(sortedKeys(v2Standalone), ", "))
	}
	if startWith {
		limit = startWithPageSize
	}
	q.Limit = int(limit)
	users, total, err := a.auth.Users(r.Context(), r.sess.AppID, q)
	if err != nil {
		return reply{}, err
	}
	items := make([]*userJSON, len(users))
	for i := range users {
		items[i] = toUserJSON(&users[i])
	}
	return ok(usersPageV2{Limit: limit, Skip: offset, TotalEntries: total, Items: items})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// opValue is one operator applied to a field: field=v is {eq, v}, field[in]=...
// is {in, ...}.
type opValue struct {
	op  string
	raw any
}

// operators splits a filter parameter into its operators.
func operators(field string, v any) ([]opValue, error) {
	switch x := v.(type) {
	case form.Tree:
		var out []opValue
		ops := make([]string, 0, len(x))
		for op := range x {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, op := range ops {
			out = append(out, opValue{op: op, raw: x[op]})
		}
		return out, nil
	case []any:
		return []opValue{{op: "in", raw: x}}, nil
	default:
		return []opValue{{op: "eq", raw: x}}, nil
	}
}

// userCond types the values of one operator for field.
func userCond(field string, o opValue) (auth.UserCond, error) {
	name := fieldf(field, o.op)
	var raws []string
	if o.op == "in" || o.op == "nin" || o.op == "between" {
		list, err := params{name: o.raw}.strList(name)
		if err != nil || list == nil || len(*list) == 0 {
			return auth.UserCond{}, invalidFilter(name)
		}
		raws = *list
		if err := listLimit(name, len(raws)); err != nil {
			return auth.UserCond{}, err
		}
	} else {
		s, err := leafString(name, o.raw)
		if err != nil {
			return auth.UserCond{}, invalidFilter(name)
		}
		raws = []string{s}
	}
	cond := auth.UserCond{Field: field, Op: o.op}
	for _, s := range raws {
		if err := filterText(name, s); err != nil {
			return auth.UserCond{}, err
		}
		v, ok := typedValue(auth.UserFieldTypes[field], s)
		if !ok {
			return auth.UserCond{}, invalidFilter(name)
		}
		cond.Values = append(cond.Values, v)
	}
	return cond, nil
}

func typedValue(t auth.FieldType, s string) (any, bool) {
	switch t {
	case auth.TypeInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	case auth.TypeTime:
		tm, ok := sdktime.Parse(s)
		return tm, ok
	}
	return s, true
}

// sortParam reads sort_asc / sort_desc (one key).
func sortParam(p params) (string, bool, error) {
	asc, err := p.text("sort_asc")
	if err != nil {
		return "", false, err
	}
	desc, err := p.text("sort_desc")
	if err != nil {
		return "", false, err
	}
	switch {
	case asc != "" && desc != "":
		return "", false, apperr.Invalid("base", "Invalid filter: give sort_asc or sort_desc, not both")
	case asc != "":
		if _, ok := auth.UserFieldTypes[asc]; !ok {
			return "", false, invalidFilter("sort_asc")
		}
		return asc, false, nil
	case desc != "":
		if _, ok := auth.UserFieldTypes[desc]; !ok {
			return "", false, invalidFilter("sort_desc")
		}
		return desc, true, nil
	}
	return "", false, nil
}

type legacyItem struct {
	User *userJSON `json:"user"`
}

type usersPageLegacy struct {
	CurrentPage  int64        `json:"current_page"`
	PerPage      int64        `json:"per_page"`
	TotalEntries int          `json:"total_entries"`
	Items        []legacyItem `json:"items"`
}

// legacyPage runs q with page/per_page paging (REST.md §4.4).
func (a *API) legacyPage(r *request, q auth.UserQuery) (reply, error) {
	page, err := r.params.intIn("page", 1, 1, 1<<31)
	if err != nil {
		return reply{}, err
	}
	per, err := r.params.intIn("per_page", 10, 1, maxUsersPage)
	if err != nil {
		return reply{}, err
	}
	q.Limit, q.Offset = int(per), int((page-1)*per)
	users, total, err := a.auth.Users(r.Context(), r.sess.AppID, q)
	if err != nil {
		return reply{}, err
	}
	items := make([]legacyItem, len(users))
	for i := range users {
		items[i] = legacyItem{User: toUserJSON(&users[i])}
	}
	return ok(usersPageLegacy{CurrentPage: page, PerPage: per, TotalEntries: total, Items: items})
}

// listUsersLegacy is GET /users with filter[] and order (REST.md §4.4).
func (a *API) listUsersLegacy(r *request) (reply, error) {
	var q auth.UserQuery
	filters, err := r.params.strListRaw("filter")
	if err != nil {
		return reply{}, err
	}
	for _, f := range filters {
		cond, err := legacyFilter(f)
		if err != nil {
			return reply{}, err
		}
		q.Conds = append(q.Conds, cond)
	}
	for _, field := range []string{"external_user_id", "login", "email", "facebook_id", "twitter_id", "phone", "external_id"} {
		v, err := r.params.text(field)
		if err != nil {
			return reply{}, err
		}
		if v != "" {
			cond, err := userCond(field, opValue{op: "eq", raw: v})
			if err != nil {
				return reply{}, err
			}
			q.Conds = append(q.Conds, cond)
		}
	}
	order, err := r.params.text("order")
	if err != nil {
		return reply{}, err
	}
	if order != "" {
		// "{asc|desc} {type} {field}"; the SDK always writes "string" as the
		// type, so the type word is ignored and the field's real type used.
		parts := strings.Fields(order)
		if len(parts) != 3 || (parts[0] != "asc" && parts[0] != "desc") {
			return reply{}, invalidFilter("order")
		}
		if _, ok := auth.UserFieldTypes[parts[2]]; !ok {
			return reply{}, invalidFilter("order")
		}
		q.Sort, q.Desc = parts[2], parts[0] == "desc"
	}
	return a.legacyPage(r, q)
}

// legacyFilter parses "{type} {field} {op} {value}" (REST.md §4.4).
func legacyFilter(f string) (auth.UserCond, error) {
	parts := strings.SplitN(strings.TrimSpace(f), " ", 4)
	if len(parts) != 4 {
		return auth.UserCond{}, invalidFilter("filter[] " + f)
	}
	field, op, value := parts[1], parts[2], parts[3]
	if _, ok := auth.UserFieldTypes[field]; !ok {
		return auth.UserCond{}, invalidFilter("filter[] " + f)
	}
	ops := map[string]string{"gt": "gt", "lt": "lt", "ge": "gte", "le": "lte", "eq": "eq", "ne": "ne", "in": "in", "between": "between"}
	mapped, ok := ops[op]
	if !ok {
		return auth.UserCond{}, invalidFilter("filter[] " + f)
	}
	if mapped == "in" {
		// Named apart from the other mistakes, which echo the filter
		// (too long to echo here).
		if list, _ := (params{"v": value}).strList("v"); list != nil {
			if err := listLimit("filter[]", len(*list)); err != nil {
				return auth.UserCond{}, err
			}
		}
	}
	cond, err := userCond(field, opValue{op: mapped, raw: value})
	if err != nil {
		return auth.UserCond{}, invalidFilter("filter[] " + f)
	}
	if mapped == "between" && len(cond.Values) != 2 {
		return auth.UserCond{}, invalidFilter("filter[] " + f)
	}
	return cond, nil
}

// listUsersByFullName is GET /users/by_full_name: a substring search.
func (a *API) listUsersByFullName(r *request) (reply, error) {
	name, err := r.params.text("full_name")
	if err != nil {
		return reply{}, err
	}
	if name == "" {
		return reply{}, apperr.Invalid("full_name", "can't be blank")
	}
	if err := filterText("full_name", name); err != nil {
		return reply{}, err
	}
	return a.legacyPage(r, auth.UserQuery{Conds: []auth.UserCond{{Field: "full_name", Op: "contains", Values: []any{name}}}})
}

// filterText refuses a filter value longer than any field it could match
// (it becomes a LIKE pattern, which SQLite refuses past 50,000 bytes).
func filterText(name, s string) error {
	if utf8.RuneCountInString(s) > auth.MaxFilterText {
		return apperr.Invalid(name, "is too long (maximum is %d characters)", auth.MaxFilterText)
	}
	return nil
}

// listUsersByTags is GET /users/by_tags: users having any of the tags.
func (a *API) listUsersByTags(r *request) (reply, error) {
	tags, err := r.params.strList("tags")
	if err != nil {
		return reply{}, err
	}
	if tags == nil || len(*tags) == 0 {
		return reply{}, apperr.Invalid("tags", "can't be blank")
	}
	if err := listLimit("tags", len(*tags)); err != nil {
		return reply{}, err
	}
	for _, tag := range *tags {
		if err := filterText("tags", tag); err != nil {
			return reply{}, err
		}
	}
	vals := make([]any, len(*tags))
	for i, t := range *tags {
		vals[i] = t
	}
	return a.legacyPage(r, auth.UserQuery{Conds: []auth.UserCond{{Field: "user_tags", Op: "in", Values: vals}}})
}
