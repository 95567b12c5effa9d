package rest

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/data"
)

// WithData serves custom objects (/data, REST.md §9) from svc.
func WithData(svc *data.Service) Option { return func(a *API) { a.data = svc } }

func (a *API) dataRoutes() {
	if a.data == nil {
		return
	}
	a.route("POST /data/{class}", userSession, a.createRecord)
	a.route("POST /data/{class}/multi", userSession, a.createRecords)
	a.route("GET /data/{class}", appSession, a.listRecords)
	a.route("GET /data/{class}/{ids}", appSession, a.getRecords)
	a.route("PUT /data/{class}/by_criteria", userSession, a.updateByCriteria)
	a.route("PUT /data/{class}/multi", userSession, a.updateRecords)
	a.route("PUT /data/{class}/{id}", userSession, a.updateRecord)
	a.route("DELETE /data/{class}/by_criteria", userSession, a.deleteByCriteria)
	a.route("DELETE /data/{class}/{ids}", userSession, a.deleteRecords)
}

func dataCaller(r *request) data.Caller {
	return data.Caller{AppID: r.sess.AppID, UserID: r.sess.UserID}
}

func recordsJSON(cls *data.Class, recs []*data.Record) []map[string]any {
	out := make([]map[string]any, len(recs))
	for i, rec := range recs {
		out[i] = RecordJSON(cls, rec)
	}
	return out
}

// createRecord is POST /data/{class} (REST.md §9.1).
func (a *API) createRecord(r *request) (reply, error) {
	recs, cls, err := a.create(r, []map[string]any{map[string]any(r.params)})
	if err != nil {
		return reply{}, err
	}
	return created(RecordJSON(cls, recs[0]))
}

// createRecords is POST /data/{class}/multi (REST.md §9.2).
func (a *API) createRecords(r *request) (reply, error) {
	bodies, err := numbered(r.params)
	if err != nil {
		return reply{}, err
	}
	recs, cls, err := a.create(r, bodies)
	if err != nil {
		return reply{}, err
	}
	return created(map[string]any{"class_name": cls.Name, "items": recordsJSON(cls, recs)})
}

func (a *API) create(r *request, bodies []map[string]any) ([]*data.Record, *data.Class, error) {
	name := r.PathValue("class")
	recs, err := a.data.Create(r.Context(), dataCaller(r), name, bodies)
	if err != nil {
		return nil, nil, err
	}
	cls, err := a.data.Class(r.Context(), r.sess.AppID, name)
	return recs, cls, err
}

// numbered reads the "record" of a multi request: an object keyed by
// numbers (the SDK counts from 1, the docs from 0; any non-negative keys,
// in numeric order, REST.md §9.2) or an array.
func numbered(p params) ([]map[string]any, error) {
	v, ok := p["record"]
	if !ok || v == nil {
		return nil, apperr.Invalid("record", "can't be blank")
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		if len(x) > data.MaxRecordsPerMulti {
			return nil, apperr.Invalid("record", "is too long (maximum is %d records)", data.MaxRecordsPerMulti)
		}
		keys := make([]int, 0, len(x))
		for k := range x {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 {
				return nil, apperr.Invalid("record", "%q is not a record number", k)
			}
			keys = append(keys, n)
		}
		sort.Ints(keys)
		for _, k := range keys {
			items = append(items, x[strconv.Itoa(k)])
		}
	default:
		return nil, apperr.Invalid("record", "must be an object of numbered records")
	}
	if len(items) > data.MaxRecordsPerMulti {
		return nil, apperr.Invalid("record", "is too long (maximum is %d records)", data.MaxRecordsPerMulti)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, apperr.Invalid("record", "item %d is not an object", i)
		}
		out[i] = m
	}
	return out, nil
}

// dataReserved are list parameters that are not filters (REST.md §1.11).
var dataReserved = map[string]bool{"limit": true, "skip": true, "count": true, "sort_asc": true, "sort_desc": true,
	"output": true, "page": true, "per_page": true, "offset": true}

type recordPage struct {
	ClassName string           `json:"class_name"`
	Skip      int              `json:"skip"`
	Limit     int              `json:"limit"`
	Items     []map[string]any `json:"items"`
}

// listRecords is GET /data/{class} (REST.md §9.3).
func (a *API) listRecords(r *request) (reply, error) {
	p := r.params
	cls, err := a.data.Class(r.Context(), r.sess.AppID, r.PathValue("class"))
	if err != nil {
		return reply{}, err
	}
	criteria := map[string]any{}
	var calcs []data.Calc
	for k, v := range p {
		if dataReserved[k] || k == "group_by" {
			continue
		}
		// field[calc]=fn is an aggregation, not a filter.
		if m, isMap := v.(map[string]any); isMap {
			if fn, has := m["calc"]; has {
				s, err := leafString(k+"[calc]", fn)
				if err != nil {
					return reply{}, err
				}
				calcs = append(calcs, data.Calc{Field: k, Fn: s})
				rest := map[string]any{}
				for op, x := range m {
					if op != "calc" {
						rest[op] = x
					}
				}
				if len(rest) == 0 {
					continue
				}
				v = rest
			}
		}
		criteria[k] = v
	}
	conds, err := data.ParseCriteria(cls, criteria)
	if err != nil {
		return reply{}, err
	}
	groupBy, err := p.text("group_by")
	if err != nil {
		return reply{}, err
	}
	if groupBy != "" && len(calcs) == 0 {
		return reply{}, apperr.Invalid("group_by", "needs a field[calc]=avg|min|max|sum")
	}
	if len(calcs) > 0 {
		sort.Slice(calcs, func(i, j int) bool { return calcs[i].Field < calcs[j].Field })
		agg, err := data.ParseAggregation(cls, calcs, groupBy)
		if err != nil {
			return reply{}, err
		}
		items, err := a.data.Aggregate(r.Context(), dataCaller(r), cls, conds, agg)
		if err != nil {
			return reply{}, err
		}
		return ok(map[string]any{"class_name": cls.Name, "skip": 0, "limit": data.MaxGroups, "items": items})
	}
	count, err := flag(p, "count")
	if err != nil {
		return reply{}, err
	}
	if count {
		n, err := a.data.Count(r.Context(), dataCaller(r), cls, conds)
		if err != nil {
			return reply{}, err
		}
		return ok(map[string]any{"class_name": cls.Name, "skip": 0, "limit": 0, "count": n})
	}
	q := data.Query{Conds: conds}
	skip, err := p.intIn("skip", 0, 0, 1<<31-1)
	if err != nil {
		return reply{}, err
	}
	limit, err := p.intIn("limit", data.MaxPage, -1, data.MaxPage)
	if err != nil {
		return reply{}, err
	}
	q.Skip, q.Limit = int(skip), int(limit)
	if limit == -1 {
		q.Last, q.Skip = true, 0
	}
	asc, err := p.text("sort_asc")
	if err != nil {
		return reply{}, err
	}
	desc, err := p.text("sort_desc")
	if err != nil {
		return reply{}, err
	}
	switch {
	case asc != "" && desc != "":
		return reply{}, apperr.Invalid("base", "Invalid filter: sort_asc and sort_desc together")
	case asc != "":
		q.Sort, err = data.ParseSort(cls, asc, false)
	case desc != "":
		q.Sort, err = data.ParseSort(cls, desc, true)
	}
	if err != nil {
		return reply{}, err
	}
	project, err := projection(cls, p)
	if err != nil {
		return reply{}, err
	}
	recs, err := a.data.List(r.Context(), dataCaller(r), cls, q)
	if err != nil {
		return reply{}, err
	}
	items := recordsJSON(cls, recs)
	for _, it := range items {
		project(it)
	}
	return ok(recordPage{ClassName: cls.Name, Skip: q.Skip, Limit: q.Limit, Items: items})
}

// projection reads output[include] / output[exclude] (REST.md §9.3). An
// included list always keeps _id, so a client can still address what it
// got.
func projection(cls *data.Class, p params) (func(map[string]any), error) {
	out, err := p.object("output")
	if err != nil || out == nil {
		return func(map[string]any) {}, err
	}
	known := func(key, name string) error {
		switch name {
		case "_id", "_parent_id", "user_id", "created_at", "updated_at", "permissions":
			return nil
		}
		if _, ok := cls.Field(name); !ok {
			return apperr.Invalid(key, "%q is not a field of %s", name, cls.Name)
		}
		return nil
	}
	include, err := out.strList("include")
	if err != nil {
		return nil, err
	}
	exclude, err := out.strList("exclude")
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	if include != nil {
		for _, n := range *include {
			if err := known("output[include]", n); err != nil {
				return nil, err
			}
			keep[n] = true
		}
		keep["_id"] = true
	}
	drop := map[string]bool{}
	if exclude != nil {
		for _, n := range *exclude {
			if err := known("output[exclude]", n); err != nil {
				return nil, err
			}
			drop[n] = true
		}
	}
	return func(m map[string]any) {
		for k := range m {
			if (include != nil && !keep[k]) || drop[k] {
				delete(m, k)
			}
		}
	}, nil
}

// getRecords is GET /data/{class}/{ids} (REST.md §9.4), and with
// permissions=1 a record's permissions (§9.5).
func (a *API) getRecords(r *request) (reply, error) {
	ids, err := pathIDs(r.PathValue("ids"))
	if err != nil {
		return reply{}, err
	}
	if len(ids) == 1 && !data.ValidID(ids[0]) {
		return reply{}, apperr.Malformed("Invalid id: %q", ids[0])
	}
	perms, err := flag(r.params, "permissions")
	if err != nil {
		return reply{}, err
	}
	if perms {
		if len(ids) != 1 {
			return reply{}, apperr.Invalid("permissions", "are read for one record at a time")
		}
		rec, err := a.data.Permissions(r.Context(), dataCaller(r), r.PathValue("class"), ids[0])
		if err != nil {
			return reply{}, err
		}
		return ok(map[string]any{"permissions": PermsJSON(rec.Perms), "record_id": rec.ID})
	}
	recs, err := a.data.Get(r.Context(), dataCaller(r), r.PathValue("class"), ids)
	if err != nil {
		return reply{}, err
	}
	cls, err := a.data.Class(r.Context(), r.sess.AppID, r.PathValue("class"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"class_name": cls.Name, "items": recordsJSON(cls, recs)})
}

// updateRecord is PUT /data/{class}/{id} (REST.md §9.6).
func (a *API) updateRecord(r *request) (reply, error) {
	id := r.PathValue("id")
	if !data.ValidID(id) {
		return reply{}, apperr.Malformed("Invalid id: %q", id)
	}
	rec, err := a.data.Update(r.Context(), dataCaller(r), r.PathValue("class"), id, map[string]any(r.params))
	if err != nil {
		return reply{}, err
	}
	cls, err := a.data.Class(r.Context(), r.sess.AppID, r.PathValue("class"))
	if err != nil {
		return reply{}, err
	}
	return ok(RecordJSON(cls, rec))
}

// updateByCriteria is PUT /data/{class}/by_criteria (REST.md §9.7).
func (a *API) updateByCriteria(r *request) (reply, error) {
	criteria, err := r.params.object("search_criteria")
	if err != nil {
		return reply{}, err
	}
	if criteria == nil {
		return reply{}, apperr.Invalid("search_criteria", "can't be blank")
	}
	body := map[string]any{}
	for k, v := range r.params {
		if k != "search_criteria" {
			body[k] = v
		}
	}
	recs, err := a.data.UpdateByCriteria(r.Context(), dataCaller(r), r.PathValue("class"), map[string]any(criteria), body)
	if err != nil {
		return reply{}, err
	}
	cls, err := a.data.Class(r.Context(), r.sess.AppID, r.PathValue("class"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"class_name": cls.Name, "skip": 0, "limit": data.MaxAffected, "total_found": len(recs),
		"items": recordsJSON(cls, recs)})
}

// updateRecords is PUT /data/{class}/multi (REST.md §9.8).
func (a *API) updateRecords(r *request) (reply, error) {
	bodies, err := numbered(r.params)
	if err != nil {
		return reply{}, err
	}
	recs, notFound, err := a.data.UpdateMany(r.Context(), dataCaller(r), r.PathValue("class"), bodies)
	if err != nil {
		return reply{}, err
	}
	cls, err := a.data.Class(r.Context(), r.sess.AppID, r.PathValue("class"))
	if err != nil {
		return reply{}, err
	}
	if notFound == nil {
		notFound = []string{}
	}
	return ok(map[string]any{"class_name": cls.Name, "not_found": map[string]any{"ids": notFound}, "items": recordsJSON(cls, recs)})
}

// deleteRecords is DELETE /data/{class}/{id}[,{id}…] (REST.md §9.9,
// §9.10): one id answers an empty 200 (the SDK reads it as text) or the
// error; several answer the report.
func (a *API) deleteRecords(r *request) (reply, error) {
	ids, err := pathIDs(r.PathValue("ids"))
	if err != nil {
		return reply{}, err
	}
	if len(ids) == 1 && !data.ValidID(ids[0]) {
		return reply{}, apperr.Malformed("Invalid id: %q", ids[0])
	}
	rep, err := a.data.Delete(r.Context(), dataCaller(r), r.PathValue("class"), ids)
	if err != nil {
		return reply{}, err
	}
	if len(ids) == 1 {
		switch {
		case len(rep.NotFound) > 0:
			return reply{}, apperr.NotFound("Record")
		case len(rep.Forbidden) > 0:
			return reply{}, apperr.Forbidden("You are not allowed to delete this record")
		}
		return empty()
	}
	return reply{http.StatusOK, map[string]any{
		"SuccessfullyDeleted": map[string]any{"ids": rep.Deleted},
		"WrongPermissions":    map[string]any{"ids": rep.Forbidden},
		"NotFound":            map[string]any{"ids": rep.NotFound},
	}}, nil
}

// deleteByCriteria is DELETE /data/{class}/by_criteria (REST.md §9.11):
// the criteria are the form-encoded body.
func (a *API) deleteByCriteria(r *request) (reply, error) {
	n, err := a.data.DeleteByCriteria(r.Context(), dataCaller(r), r.PathValue("class"), map[string]any(r.params))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"total_deleted": n})
}
