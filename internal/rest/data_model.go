package rest

import (
	"strconv"

	"github.com/parley-chat/parley/internal/data"
)

// RecordJSON is a record in the REST model (REST.md §2.6): the class's
// fields (null when unset), the record's own fields with Unix-second
// dates, and its permissions. The CLI prints records this way too.
func RecordJSON(cls *data.Class, r *data.Record) map[string]any {
	out := make(map[string]any, len(cls.Fields)+6)
	for _, f := range cls.Fields {
		out[f.Name] = r.Fields[f.Name] // nil when unset
	}
	var parent any
	if r.ParentID != "" {
		parent = r.ParentID
	}
	out["_id"] = r.ID
	out["_parent_id"] = parent
	out["user_id"] = r.UserID
	out["created_at"] = r.CreatedAt.Unix()
	out["updated_at"] = r.UpdatedAt.Unix()
	out["permissions"] = PermsJSON(r.Perms)
	return out
}

// PermsJSON renders record permissions with the lists named users_ids and
// users_groups (REST.md §9.5), user ids as strings as the docs show them.
func PermsJSON(p data.Perms) map[string]any {
	out := map[string]any{}
	for a, name := range []string{"read", "update", "delete"} {
		out[name] = PermJSON(p[a])
	}
	return out
}

// PermJSON renders one permission.
func PermJSON(p data.Perm) map[string]any {
	m := map[string]any{"access": string(p.Access)}
	switch p.Access {
	case data.OpenForUsers:
		ids := make([]string, len(p.Users))
		for i, u := range p.Users {
			ids[i] = strconv.FormatInt(u, 10)
		}
		m["users_ids"] = ids
	case data.OpenForGroups:
		groups := p.Groups
		if groups == nil {
			groups = []string{}
		}
		m["users_groups"] = groups
	}
	return m
}

// ClassJSON is a class as `parley class create` and `class list` print it.
func ClassJSON(c *data.Class) map[string]any {
	fields := c.Fields
	if fields == nil {
		fields = []data.Field{}
	}
	indexes := c.Indexes
	if indexes == nil {
		indexes = []string{}
	}
	return map[string]any{
		"id":     c.ID,
		"app_id": c.AppID,
		"name":   c.Name,
		"fields": fields,
		"index":  indexes,
		"permissions": map[string]any{
			"create": PermJSON(c.Perms.Create),
			"read":   PermJSON(c.Perms.Records[data.Read]),
			"update": PermJSON(c.Perms.Records[data.Update]),
			"delete": PermJSON(c.Perms.Records[data.Delete]),
		},
		"created_at": c.CreatedAt.Format("2006-01-02T15:04:05Z"),
	}
}
