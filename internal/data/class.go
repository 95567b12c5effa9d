package data

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
)

// Type is a field type of a class (REST.md §9.0).
type Type string

const (
	Integer  Type = "Integer"
	String   Type = "String"
	Float    Type = "Float"
	Boolean  Type = "Boolean"
	Array    Type = "Array"
	File     Type = "File"
	Location Type = "Location"
	Date     Type = "Date"
)

var types = []Type{Integer, String, Float, Boolean, Array, File, Location, Date}

// ParseType reads a type name without regard to case (spec README §6.2:
// `integer` and `Integer` are the same).
func ParseType(s string) (Type, bool) {
	for _, t := range types {
		if strings.EqualFold(s, string(t)) {
			return t, true
		}
	}
	return "", false
}

// Field is a typed field of a class.
type Field struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Access is who a permission lets act.
type Access string

const (
	Open           Access = "open"
	Owner          Access = "owner"
	NotAllowed     Access = "not_allowed"
	OpenForUsers   Access = "open_for_users_ids"
	OpenForGroups  Access = "open_for_groups"
	maxPermEntries        = 100
)

// Perm is one permission: an access and, for the two "open_for" forms, the
// users or groups (user tags) it lists.
type Perm struct {
	Access Access
	Users  []int64  // open_for_users_ids
	Groups []string // open_for_groups
}

// Allows reports whether the user (with its tags) passes p on a record
// owned by owner. The owner always passes: a record's permissions say whom
// else its owner lets in, and an owner locked out of their own record
// could not even repair that. (A class's not_allowed still stops everyone.)
func (p Perm) Allows(userID, owner int64, tags []string) bool {
	if userID != 0 && userID == owner {
		return true
	}
	switch p.Access {
	case Open:
		return true
	case Owner:
		return userID != 0 && userID == owner
	case OpenForUsers:
		for _, u := range p.Users {
			if u == userID && userID != 0 {
				return true
			}
		}
	case OpenForGroups:
		for _, g := range p.Groups {
			for _, t := range tags {
				if g == t {
					return true
				}
			}
		}
	}
	return false
}

// Action is what a caller does to records.
type Action int

const (
	Read Action = iota
	Update
	Delete
)

func (a Action) String() string { return [...]string{"read", "update", "delete"}[a] }

// Perms is a record's permissions (read, update, delete).
type Perms [3]Perm

// ClassPerms is a class's permissions: Create, and the defaults of its
// records' read, update and delete permissions. A not_allowed class
// permission forbids that action to everyone whatever a record says.
type ClassPerms struct {
	Create  Perm
	Records Perms
}

// DefaultClassPerms are the spec's defaults (REST.md §9.0): create and read
// open, update and delete for the owner.
func DefaultClassPerms() ClassPerms {
	return ClassPerms{Create: Perm{Access: Open}, Records: Perms{{Access: Open}, {Access: Owner}, {Access: Owner}}}
}

// Class is a named schema of an application.
type Class struct {
	ID     int64
	AppID  int64
	Name   string
	Fields []Field
	Perms  ClassPerms
	// Indexes are fields the store keeps an index on, for equality
	// filters and sorts on them over large classes (the operator's
	// choice: each index costs every write to the class).
	Indexes   []string
	CreatedAt time.Time
}

// Field returns the field called name.
func (c *Class) Field(name string) (Field, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Limits of classes and records, documented in the README.
const (
	MaxNameLen         = 64  // characters of a class or field name
	MaxFields          = 100 // fields of a class
	MaxClasses         = 100 // classes of an application
	MaxStringLen       = 64 * 1024
	MaxArrayLen        = 1000 // elements of an Array field
	MaxIDsPerRequest   = 100  // ids in one path or list, as for chat
	MaxPage            = 100  // records per list page (REST.md §9.3)
	MaxRecordsPerMulti = 100  // records in one multi create or update
	MaxAffected        = 1000 // records one update or delete by criteria may touch
	MaxIndexes         = 5    // indexed fields of a class
)

// reservedNames may not be field names: the record's own fields, the
// parameters of a list request, the update operators and the bodies'
// wrapper keys would all be read as something else.
var reservedNames = map[string]bool{
	"_id": true, "id": true, "_parent_id": true, "user_id": true, "created_at": true, "updated_at": true,
	"permissions": true, "limit": true, "skip": true, "count": true, "sort_asc": true, "sort_desc": true,
	"output": true, "group_by": true, "near": true, "page": true, "per_page": true, "offset": true,
	"inc": true, "push": true, "add_to_set": true, "pull": true, "pull_all": true, "pop": true,
	"pull_with_filter": true, "search_criteria": true, "record": true, "class_name": true,
}

// ValidName reports whether s is an identifier: a letter, then letters,
// digits or underscores, at most MaxNameLen characters.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !(letter || c == '_' && i > 0 || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// ParseFields reads "name:type,name:type" (the CLI's --fields).
func ParseFields(spec string) ([]Field, error) {
	var out []Field
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, typ, ok := strings.Cut(item, ":")
		if !ok {
			return nil, apperr.Invalid("fields", "%q is not name:type", item)
		}
		t, ok := ParseType(strings.TrimSpace(typ))
		if !ok {
			return nil, apperr.Invalid("fields", "%q: unknown type %q (one of Integer, String, Float, Boolean, Array, File, Location, Date)", item, typ)
		}
		out = append(out, Field{Name: strings.TrimSpace(name), Type: t})
	}
	return out, nil
}

// CheckClass validates a class before it is stored.
func CheckClass(c *Class) error {
	if !ValidName(c.Name) {
		return apperr.Invalid("name", "%q is not a class name (a letter, then letters, digits or _, at most %d)", c.Name, MaxNameLen)
	}
	if len(c.Fields) == 0 {
		return apperr.Invalid("fields", "a class needs at least one field")
	}
	if len(c.Fields) > MaxFields {
		return apperr.Invalid("fields", "at most %d fields", MaxFields)
	}
	seen := map[string]bool{}
	for _, f := range c.Fields {
		if !ValidName(f.Name) {
			return apperr.Invalid("fields", "%q is not a field name (a letter, then letters, digits or _, at most %d)", f.Name, MaxNameLen)
		}
		if reservedNames[f.Name] {
			return apperr.Invalid("fields", "%q is reserved", f.Name)
		}
		if seen[f.Name] {
			return apperr.Invalid("fields", "%q is given twice", f.Name)
		}
		seen[f.Name] = true
	}
	if len(c.Indexes) > MaxIndexes {
		return apperr.Invalid("index", "at most %d indexed fields", MaxIndexes)
	}
	indexed := map[string]bool{}
	for _, name := range c.Indexes {
		f, ok := c.Field(name)
		switch {
		case !ok:
			return apperr.Invalid("index", "%q is not a field of the class", name)
		case f.Type == Array || f.Type == Location:
			return apperr.Invalid("index", "%q is an %s field; only single values are indexed", name, f.Type)
		case indexed[name]:
			return apperr.Invalid("index", "%q is given twice", name)
		}
		indexed[name] = true
	}
	if c.Perms.Create.Access == Owner {
		return apperr.Invalid("create", "owner is not a create permission")
	}
	return nil
}

// ParsePerm reads a permission written as the CLI takes it: open, owner,
// not_allowed, open_for_users_ids:1,2 or open_for_groups:a,b.
func ParsePerm(s string) (Perm, error) {
	access, list, _ := strings.Cut(strings.TrimSpace(s), ":")
	p := Perm{Access: Access(access)}
	var items []string
	for it := range strings.SplitSeq(list, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	switch p.Access {
	case Open, Owner, NotAllowed:
		if len(items) > 0 {
			return Perm{}, fmt.Errorf("%s takes no list", access)
		}
	case OpenForUsers:
		for _, it := range items {
			n, err := strconv.ParseInt(it, 10, 64)
			if err != nil || n <= 0 {
				return Perm{}, fmt.Errorf("%q is not a user id", it)
			}
			p.Users = append(p.Users, n)
		}
	case OpenForGroups:
		p.Groups = items
	default:
		return Perm{}, fmt.Errorf("%q is not a permission (open, owner, not_allowed, open_for_users_ids:IDS, open_for_groups:GROUPS)", access)
	}
	if len(items) > maxPermEntries {
		return Perm{}, fmt.Errorf("at most %d entries", maxPermEntries)
	}
	return p, nil
}
