// Package data is custom objects (REST.md §9): classes an operator declares
// per application, with typed fields and permissions, and the records users
// keep in them (the guide's user and message reports).
//
// Classes are read from the store on every request, never cached: the
// operator creates them with `parley class create` while the server runs
// (a second process), and the next request must see them.
package data

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
)

// Store keeps classes and records.
type Store interface {
	// CreateClass stores c and sets its ID; ErrExists when the app has a
	// class of that name (in any case).
	CreateClass(ctx context.Context, c *Class) error
	// Class returns the app's class called name; ErrNotFound when none.
	Class(ctx context.Context, appID int64, name string) (*Class, error)
	Classes(ctx context.Context, appID int64) ([]Class, error)
	InsertRecords(ctx context.Context, recs []*Record) error
	// Records returns the class's records with the given ids (any order;
	// unknown ids are left out).
	Records(ctx context.Context, classID int64, ids []string) ([]*Record, error)
	// QueryRecords lists the class's records matching q that v may act on
	// by a; v nil: every record.
	QueryRecords(ctx context.Context, classID int64, q Query, v *Viewer, a Action) ([]*Record, error)
	// CountRecords counts what QueryRecords would list without a limit.
	CountRecords(ctx context.Context, classID int64, q Query, v *Viewer, a Action) (int, error)
	// AggregateRecords computes agg over the records matching conds that
	// v may read: one row per group (at most MaxGroups), the group's value
	// first, then one value per calc.
	AggregateRecords(ctx context.Context, classID int64, conds []Cond, v *Viewer, agg *Aggregation) ([][]any, error)
	// SaveRecords rewrites the fields, parent, permissions and updated_at
	// of records, in one transaction.
	SaveRecords(ctx context.Context, recs []*Record) error
	// ModifyRecords reads the records sel names and saves those fn
	// returns (as SaveRecords), all in one write transaction; an error
	// from fn saves nothing.
	ModifyRecords(ctx context.Context, classID int64, sel Selection, fn func([]*Record) ([]*Record, error)) error
	// DeleteRecords deletes the class's records with ids and,
	// transitively, the records of the app whose _parent_id names a
	// deleted one.
	DeleteRecords(ctx context.Context, appID, classID int64, ids []string) error
}

// Selection names records to modify: by ids, or by a query with the
// permission filter of Viewer and Action.
type Selection struct {
	IDs    []string
	Query  *Query
	Viewer *Viewer
	Action Action
}

// ErrNotFound and ErrExists are the store's answers.
var (
	ErrNotFound = errors.New("data: not found")
	ErrExists   = errors.New("data: exists")
)

// Users tells the domain a user's tags, which open_for_groups matches.
type Users interface {
	UserTags(ctx context.Context, appID, userID int64) ([]string, error)
}

// Caller is who makes a request: an application and, with a user session,
// a user (0 for an application session).
type Caller struct {
	AppID  int64
	UserID int64
}

// Viewer is a caller as permissions see it.
type Viewer struct {
	UserID int64
	Tags   []string
}

// Service implements custom objects over a Store.
type Service struct {
	store Store
	users Users
	log   *slog.Logger
	now   func() time.Time
}

// NewService returns the service; now nil means time.Now.
func NewService(store Store, users Users, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, users: users, log: log, now: now}
}

// CreateClass validates and stores a class (the operator's command).
func (s *Service) CreateClass(ctx context.Context, c *Class) error {
	if err := CheckClass(c); err != nil {
		return err
	}
	have, err := s.store.Classes(ctx, c.AppID)
	if err != nil {
		return err
	}
	if len(have) >= MaxClasses {
		return apperr.Invalid("name", "the application has %d classes, the most it may have", MaxClasses)
	}
	c.CreatedAt = s.now().UTC()
	if err := s.store.CreateClass(ctx, c); err != nil {
		if errors.Is(err, ErrExists) {
			return apperr.Invalid("name", "class %s already exists in application %d", c.Name, c.AppID)
		}
		return err
	}
	return nil
}

// Classes lists an application's classes by name.
func (s *Service) Classes(ctx context.Context, appID int64) ([]Class, error) {
	return s.store.Classes(ctx, appID)
}

// Class returns the application's class called name: 400 for a name
// that cannot be a class, 404 "Class not found" for one the app lacks.
func (s *Service) Class(ctx context.Context, appID int64, name string) (*Class, error) {
	if !ValidName(name) {
		return nil, apperr.Malformed("Invalid class name: %q", name)
	}
	c, err := s.store.Class(ctx, appID, name)
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.NotFound("Class")
	}
	return c, err
}

func (s *Service) viewer(ctx context.Context, c Caller) (*Viewer, error) {
	v := &Viewer{UserID: c.UserID}
	if c.UserID != 0 && s.users != nil {
		tags, err := s.users.UserTags(ctx, c.AppID, c.UserID)
		if err != nil {
			return nil, err
		}
		v.Tags = tags
	}
	return v, nil
}

// classAllows checks the class-level rule for a: create against the
// class's create permission; read, update and delete only refuse when the
// class says not_allowed (otherwise each record's permission decides).
func classAllows(cls *Class, a Action, v *Viewer) error {
	if cls.Perms.Records[a].Access == NotAllowed {
		return apperr.Forbidden("You are not allowed to %s records of %s", a, cls.Name)
	}
	return nil
}

// Create makes records from inputs (one for §9.1, several for §9.2), all
// or none.
func (s *Service) Create(ctx context.Context, c Caller, className string, inputs []map[string]any) ([]*Record, error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, apperr.Invalid("record", "can't be blank")
	}
	if len(inputs) > MaxRecordsPerMulti {
		return nil, apperr.Invalid("record", "is too long (maximum is %d records)", MaxRecordsPerMulti)
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, err
	}
	if c.UserID == 0 || !cls.Perms.Create.Allows(v.UserID, 0, v.Tags) {
		return nil, apperr.Forbidden("You are not allowed to create records of %s", cls.Name)
	}
	now := s.now().UTC()
	recs := make([]*Record, 0, len(inputs))
	for _, in := range inputs {
		r := &Record{ID: NewID(now), AppID: c.AppID, ClassID: cls.ID, UserID: c.UserID, CreatedAt: now, UpdatedAt: now,
			Fields: map[string]any{}, Perms: cls.Perms.Records}
		// Never not_allowed on a record: the class-level rule says that.
		for a := range r.Perms {
			if r.Perms[a].Access == NotAllowed {
				r.Perms[a] = Perm{Access: Owner}
			}
		}
		if err := s.apply(cls, r, in, true, c.UserID); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if err := s.store.InsertRecords(ctx, recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// ignored are body keys that are not fields: ids (the SDK leaves _id and
// id in update bodies) and the record's own fields, which no client sets.
var ignored = map[string]bool{"_id": true, "id": true, "user_id": true, "created_at": true, "updated_at": true, "class_name": true}

var updateOps = map[string]bool{"inc": true, "push": true, "add_to_set": true, "pull": true, "pull_all": true,
	"pop": true, "pull_with_filter": true, "update_by_index": true}

// apply writes a body's fields and operators to r. Keys are applied in
// sorted order so that one body always means the same thing.
func (s *Service) apply(cls *Class, r *Record, body map[string]any, create bool, by int64) error {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := body[k]
		switch {
		case ignored[k]:
		case k == "permissions":
			if !create && by != r.UserID {
				return apperr.Forbidden("Only the owner may change a record's permissions")
			}
			p, err := parsePerms(v, r.Perms)
			if err != nil {
				return err
			}
			r.Perms = p
		case k == "_parent_id":
			s, _ := v.(string)
			switch {
			case v == nil || s == "":
				r.ParentID = ""
			case ValidID(s):
				r.ParentID = s
			default:
				return apperr.Malformed("Invalid id: %v", v)
			}
		case updateOps[k]:
			if create {
				return apperr.Invalid(k, "is an update operator, not a field of %s", cls.Name)
			}
			if err := applyOp(cls, r, k, v); err != nil {
				return err
			}
		default:
			f, ok := cls.Field(k)
			if !ok {
				return apperr.Invalid(k, "is not a field of %s", cls.Name)
			}
			if m, isMap := v.(map[string]any); isMap && f.Type == Array && !create {
				if err := setByIndex(r, f, m); err != nil {
					return err
				}
				continue
			}
			x, err := coerce(f, v)
			if err != nil {
				return err
			}
			if x == nil {
				delete(r.Fields, f.Name)
			} else {
				r.Fields[f.Name] = x
			}
		}
	}
	return nil
}

// byIDs is what reading or deleting records by ids starts with: the
// class, the id count, the caller and the class's permission for action,
// and the records among ids that exist (malformed ids left out).
func (s *Service) byIDs(ctx context.Context, c Caller, className string, ids []string, action Action) (*Class, *Viewer, []*Record, error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(ids) > MaxIDsPerRequest {
		return nil, nil, nil, apperr.Invalid("base", "at most %d ids per request", MaxIDsPerRequest)
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := classAllows(cls, action, v); err != nil {
		return nil, nil, nil, err
	}
	recs, err := s.records(ctx, cls, validIDs(ids))
	if err != nil {
		return nil, nil, nil, err
	}
	return cls, v, recs, nil
}

// Get returns the records with ids the caller may read (REST.md §9.4);
// unknown, unreadable and malformed ids are left out, in the order asked.
func (s *Service) Get(ctx context.Context, c Caller, className string, ids []string) ([]*Record, error) {
	_, v, recs, err := s.byIDs(ctx, c, className, ids, Read)
	if err != nil {
		return nil, err
	}
	byID := map[string]*Record{}
	for _, r := range recs {
		if r.Perms[Read].Allows(v.UserID, r.UserID, v.Tags) {
			byID[r.ID] = r
		}
	}
	out := make([]*Record, 0, len(byID))
	seen := map[string]bool{}
	for _, id := range ids {
		if r := byID[id]; r != nil && !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if ValidID(id) {
			out = append(out, id)
		}
	}
	return out
}

// List returns a page of the records the caller may read (REST.md §9.3).
func (s *Service) List(ctx context.Context, c Caller, cls *Class, q Query) ([]*Record, error) {
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := classAllows(cls, Read, v); err != nil {
		return nil, err
	}
	return s.query(ctx, cls, q, v, Read)
}

// Count counts the records matching conds the caller may read.
func (s *Service) Count(ctx context.Context, c Caller, cls *Class, conds []Cond) (int, error) {
	v, err := s.viewer(ctx, c)
	if err != nil {
		return 0, err
	}
	if err := classAllows(cls, Read, v); err != nil {
		return 0, err
	}
	return s.store.CountRecords(ctx, cls.ID, Query{Conds: conds, Indexed: cls.Indexes}, v, Read)
}

// Aggregate computes agg over the records matching conds the caller may
// read (REST.md §9.3, `field[calc]` with `group_by`). Each item is
// {"<group_by>": value, "<field>": {"<fn>": result}}.
func (s *Service) Aggregate(ctx context.Context, c Caller, cls *Class, conds []Cond, agg *Aggregation) ([]map[string]any, error) {
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := classAllows(cls, Read, v); err != nil {
		return nil, err
	}
	rows, err := s.store.AggregateRecords(ctx, cls.ID, conds, v, agg)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		item := map[string]any{}
		if agg.GroupBy != "" {
			item[agg.GroupBy] = agg.GroupValue(row[0])
		}
		for i, k := range agg.Calcs {
			m, _ := item[k.Field].(map[string]any)
			if m == nil {
				m = map[string]any{}
				item[k.Field] = m
			}
			v := row[i+1]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			m[k.Fn] = v
		}
		out = append(out, item)
	}
	return out, nil
}

// one returns the record id of the class for an action on it: 404 when it
// does not exist or the caller may not read it, 403 when the caller may
// read it but not do a.
func (s *Service) one(ctx context.Context, cls *Class, v *Viewer, id string, a Action) (*Record, error) {
	if !ValidID(id) {
		return nil, apperr.Malformed("Invalid id: %q", id)
	}
	recs, err := s.records(ctx, cls, []string{id})
	if err != nil {
		return nil, err
	}
	return allowed(recs, v, a)
}

// allowed returns the one record of recs if v may do a to it: 404 when
// there is none or v may not touch it at all, 403 when v may touch it
// some other way.
func allowed(recs []*Record, v *Viewer, a Action) (*Record, error) {
	if len(recs) == 0 {
		return nil, apperr.NotFound("Record")
	}
	r := recs[0]
	if !r.Perms[a].Allows(v.UserID, r.UserID, v.Tags) {
		if !visible(r, v) {
			return nil, apperr.NotFound("Record")
		}
		return nil, apperr.Forbidden("You are not allowed to %s this record", a)
	}
	return r, nil
}

// visible reports whether any permission of r lets v in: a record the
// caller may neither read, update nor delete is answered as if it did not
// exist (404), one it may touch some other way with 403.
func visible(r *Record, v *Viewer) bool {
	for _, p := range r.Perms {
		if p.Allows(v.UserID, r.UserID, v.Tags) {
			return true
		}
	}
	return false
}

// Permissions returns a record for its permissions (REST.md §9.5): its
// owner only.
func (s *Service) Permissions(ctx context.Context, c Caller, className, id string) (*Record, error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return nil, err
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := s.one(ctx, cls, v, id, Read)
	if err != nil {
		return nil, err
	}
	if r.UserID != c.UserID {
		return nil, apperr.Forbidden("Only the owner may read a record's permissions")
	}
	return r, nil
}

// Update changes one record (REST.md §9.6).
func (s *Service) Update(ctx context.Context, c Caller, className, id string, body map[string]any) (*Record, error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return nil, err
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := classAllows(cls, Update, v); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, apperr.Malformed("Invalid id: %q", id)
	}
	var out *Record
	err = s.store.ModifyRecords(ctx, cls.ID, Selection{IDs: []string{id}}, func(recs []*Record) ([]*Record, error) {
		s.normalize(cls, recs)
		r, err := allowed(recs, v, Update)
		if err != nil {
			return nil, err
		}
		if err := s.apply(cls, r, body, false, c.UserID); err != nil {
			return nil, err
		}
		r.UpdatedAt = s.now().UTC()
		out = r
		return []*Record{r}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateByCriteria applies body to every record matching criteria the
// caller may update, at most MaxAffected (REST.md §9.7).
func (s *Service) UpdateByCriteria(ctx context.Context, c Caller, className string, criteria, body map[string]any) ([]*Record, error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return nil, err
	}
	conds, err := ParseCriteria(cls, criteria)
	if err != nil {
		return nil, err
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := classAllows(cls, Update, v); err != nil {
		return nil, err
	}
	var out []*Record
	q := Query{Conds: conds, Limit: MaxAffected, Indexed: cls.Indexes}
	err = s.store.ModifyRecords(ctx, cls.ID, Selection{Query: &q, Viewer: v, Action: Update}, func(recs []*Record) ([]*Record, error) {
		s.normalize(cls, recs)
		now := s.now().UTC()
		for _, r := range recs {
			if err := s.apply(cls, r, body, false, c.UserID); err != nil {
				return nil, err
			}
			r.UpdatedAt = now
		}
		out = recs
		return recs, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateMany applies each body to the record its _id or id names
// (REST.md §9.8), all or none; ids that name no record the caller may
// update are returned in notFound.
func (s *Service) UpdateMany(ctx context.Context, c Caller, className string, bodies []map[string]any) (updated []*Record, notFound []string, err error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return nil, nil, err
	}
	if len(bodies) > MaxRecordsPerMulti {
		return nil, nil, apperr.Invalid("record", "is too long (maximum is %d records)", MaxRecordsPerMulti)
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if err := classAllows(cls, Update, v); err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(bodies))
	for i, b := range bodies {
		id, _ := b["_id"].(string)
		if id == "" {
			id, _ = b["id"].(string)
		}
		if id == "" {
			return nil, nil, apperr.Invalid("record["+strconv.Itoa(i+1)+"]", "needs an _id")
		}
		ids[i] = id
	}
	err = s.store.ModifyRecords(ctx, cls.ID, Selection{IDs: validIDs(ids)}, func(recs []*Record) ([]*Record, error) {
		s.normalize(cls, recs)
		byID := map[string]*Record{}
		for _, r := range recs {
			byID[r.ID] = r
		}
		now := s.now().UTC()
		updated, notFound = nil, nil
		for i, b := range bodies {
			r := byID[ids[i]]
			if r == nil || !r.Perms[Update].Allows(v.UserID, r.UserID, v.Tags) {
				if !slices.Contains(notFound, ids[i]) {
					notFound = append(notFound, ids[i])
				}
				continue
			}
			if err := s.apply(cls, r, b, false, c.UserID); err != nil {
				return nil, err
			}
			r.UpdatedAt = now
			if !slices.Contains(updated, r) {
				updated = append(updated, r)
			}
		}
		return updated, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return updated, notFound, nil
}

// DeleteReport is the outcome of deleting records by id (REST.md §9.10).
type DeleteReport struct {
	Deleted, Forbidden, NotFound []string
}

// Delete deletes the records with ids the caller may delete, and their
// children.
func (s *Service) Delete(ctx context.Context, c Caller, className string, ids []string) (*DeleteReport, error) {
	cls, v, recs, err := s.byIDs(ctx, c, className, ids, Delete)
	if err != nil {
		return nil, err
	}
	byID := map[string]*Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	rep := &DeleteReport{Deleted: []string{}, Forbidden: []string{}, NotFound: []string{}}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		r := byID[id]
		switch {
		case r == nil || !visible(r, v):
			rep.NotFound = append(rep.NotFound, id)
		case !r.Perms[Delete].Allows(v.UserID, r.UserID, v.Tags):
			rep.Forbidden = append(rep.Forbidden, id)
		default:
			rep.Deleted = append(rep.Deleted, id)
		}
	}
	if len(rep.Deleted) > 0 {
		if err := s.store.DeleteRecords(ctx, c.AppID, cls.ID, rep.Deleted); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// DeleteByCriteria deletes the records matching criteria the caller may
// delete, at most MaxAffected a request, and returns how many.
func (s *Service) DeleteByCriteria(ctx context.Context, c Caller, className string, criteria map[string]any) (int, error) {
	cls, err := s.Class(ctx, c.AppID, className)
	if err != nil {
		return 0, err
	}
	conds, err := ParseCriteria(cls, criteria)
	if err != nil {
		return 0, err
	}
	if len(conds) == 0 {
		// An empty body would delete the whole class: a client bug far
		// more often than the intent.
		return 0, apperr.Invalid("base", "Delete by criteria needs at least one criterion")
	}
	v, err := s.viewer(ctx, c)
	if err != nil {
		return 0, err
	}
	if err := classAllows(cls, Delete, v); err != nil {
		return 0, err
	}
	recs, err := s.query(ctx, cls, Query{Conds: conds, Limit: MaxAffected}, v, Delete)
	if err != nil {
		return 0, err
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	if len(ids) > 0 {
		if err := s.store.DeleteRecords(ctx, c.AppID, cls.ID, ids); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// records and query read records and normalize their fields (the store
// decodes numbers as json.Number).
func (s *Service) records(ctx context.Context, cls *Class, ids []string) ([]*Record, error) {
	recs, err := s.store.Records(ctx, cls.ID, ids)
	s.normalize(cls, recs)
	return recs, err
}

func (s *Service) normalize(cls *Class, recs []*Record) {
	for _, r := range recs {
		r.Fields = Normalize(cls, r.Fields)
	}
}

func (s *Service) query(ctx context.Context, cls *Class, q Query, v *Viewer, a Action) ([]*Record, error) {
	q.Indexed = cls.Indexes
	recs, err := s.store.QueryRecords(ctx, cls.ID, q, v, a)
	for _, r := range recs {
		r.Fields = Normalize(cls, r.Fields)
	}
	return recs, err
}

// Scan calls fn with every record of the class in id order, a page at a
// time, whatever its permissions (the operator's `parley class records`).
func (s *Service) Scan(ctx context.Context, cls *Class, fn func(*Record) error) error {
	const page = 500
	after := ""
	for {
		q := Query{Limit: page}
		if after != "" {
			q.Conds = []Cond{{Column: ColID, Op: "gt", Values: []any{after}}}
		}
		recs, err := s.query(ctx, cls, q, nil, Read)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < page {
			return nil
		}
		after = recs[len(recs)-1].ID
	}
}
