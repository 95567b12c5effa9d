package rest

import (
	"sort"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/rest/form"
)

func (a *API) dialogRoutes() {
	a.route("GET /chat/Dialog", userSession, a.listDialogs)
	a.route("POST /chat/Dialog", userSession, a.createDialog)
	a.route("PUT /chat/Dialog/{id}", userSession, a.updateDialog)
	a.route("DELETE /chat/Dialog/{ids}", userSession, a.deleteDialogs)
	// clearHistory/{id} and {id}/subscribe share a shape; one pattern
	// routes both (ServeMux refuses two overlapping ones).
	a.route("DELETE /chat/Dialog/{a}/{b}", userSession, a.deleteDialogSub)
	a.route("POST /chat/Dialog/{id}/subscribe", userSession, a.subscribe)
	a.route("GET /chat/Dialog/{id}/occupants", userSession, a.occupants)
	a.route("PUT /chat/Dialog/{id}/admins", userSession, a.admins)
	a.route("GET /chat/Dialog/{id}/notifications", userSession, a.getNotifications)
	a.route("PUT /chat/Dialog/{id}/notifications", userSession, a.setNotifications)
}

func caller(r *request) chat.Caller { return chat.Caller{AppID: r.sess.AppID, UserID: r.sess.UserID} }

var dialogReserved = map[string]bool{"count": true}

type dialogPage struct {
	TotalEntries int           `json:"total_entries"`
	Skip         int           `json:"skip"`
	Limit        int           `json:"limit"`
	Items        []*dialogJSON `json:"items"`
}

// listDialogs is GET /chat/Dialog (REST.md §5.1).
func (a *API) listDialogs(r *request) (reply, error) {
	count, err := flag(r.params, "count")
	if err != nil {
		return reply{}, err
	}
	q, err := chatQuery(r.params, chat.DialogFields, chat.DialogSorts, dialogReserved, chat.MaxPageSize, chat.MaxPageSize)
	if err != nil {
		return reply{}, err
	}
	if count {
		q.Limit = 0
	}
	views, total, err := a.chat.ListDialogs(r.Context(), caller(r), q)
	if err != nil {
		return reply{}, err
	}
	items := make([]*dialogJSON, len(views))
	for i := range views {
		items[i] = a.toDialogJSON(&views[i])
	}
	if count {
		return ok(dialogPage{TotalEntries: total, Items: items})
	}
	return ok(dialogPage{TotalEntries: total, Skip: q.Skip, Limit: q.Limit, Items: items})
}

// extensionsParam reads an extensions object; values are cast to strings.
// Keys are taken in alphabetical order (JSON objects carry no order here).
func extensionsParam(p params) ([]chat.KV, bool, error) {
	v, ok := p["extensions"]
	if !ok {
		return nil, false, nil
	}
	if v == nil {
		return nil, true, nil
	}
	m, isObj := v.(form.Tree)
	if !isObj {
		return nil, false, apperr.Invalid("extensions", "must be an object")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]chat.KV, 0, len(keys))
	for _, k := range keys {
		if !validExtName(k) {
			continue // no app can allow such a field: dropped like any unknown one
		}
		s, err := textValue("extensions", m[k])
		if err != nil {
			return nil, false, err
		}
		out = append(out, chat.KV{Key: k, Value: s})
	}
	return out, true, nil
}

// allowPreview reads permissions.allow_preview.
func allowPreview(p params) (*bool, bool, error) {
	v, ok := p["permissions"]
	if !ok {
		return nil, false, nil
	}
	if v == nil {
		f := false
		return &f, true, nil
	}
	perm, isObj := v.(form.Tree)
	if !isObj {
		return nil, false, apperr.Invalid("permissions", "must be an object")
	}
	if _, has := perm["allow_preview"]; !has {
		return nil, false, nil
	}
	b, err := flag(params(perm), "allow_preview")
	if err != nil {
		return nil, false, apperr.Invalid("permissions", "allow_preview must be a boolean")
	}
	return &b, true, nil
}

// createDialog is POST /chat/Dialog (REST.md §5.2): 201 for a new dialog,
// 200 for the existing private dialog of the pair.
func (a *API) createDialog(r *request) (reply, error) {
	p := r.params
	typ, err := p.int("type")
	if err != nil {
		return reply{}, apperr.Invalid("type", "must be 1, 2, 3 or 4")
	}
	if typ == nil {
		return reply{}, apperr.Invalid("type", "can't be blank")
	}
	in := chat.DialogInput{Type: chat.Type(*typ)}
	for _, f := range []struct {
		key string
		dst **string
	}{{"name", &in.Name}, {"description", &in.Description}, {"photo", &in.Photo}} {
		if *f.dst, err = p.str(f.key); err != nil {
			return reply{}, err
		}
	}
	if in.Occupants, err = idList(p, "occupants_ids"); err != nil {
		return reply{}, err
	}
	if in.Admins, err = idList(p, "admins_ids"); err != nil {
		return reply{}, err
	}
	if in.Extensions, _, err = extensionsParam(p); err != nil {
		return reply{}, err
	}
	if in.AllowPreview, _, err = allowPreview(p); err != nil {
		return reply{}, err
	}
	v, isNew, err := a.chat.CreateDialog(r.Context(), caller(r), in)
	if err != nil {
		return reply{}, err
	}
	if isNew {
		return created(a.toDialogJSON(v))
	}
	return ok(a.toDialogJSON(v))
}

// pushPull reads push_all / pull_all objects.
func pushPull(p params, key string) (occupants, admins []int64, pinned []string, err error) {
	o, err := p.object(key)
	if err != nil || o == nil {
		return nil, nil, nil, err
	}
	for k := range o {
		switch k {
		case "occupants_ids", "admins_ids", "pinned_messages_ids":
		default:
			return nil, nil, nil, apperr.Invalid(key, "unknown field %s", k)
		}
	}
	if occupants, err = idList(o, "occupants_ids"); err != nil {
		return nil, nil, nil, err
	}
	if admins, err = idList(o, "admins_ids"); err != nil {
		return nil, nil, nil, err
	}
	list, err := o.strList("pinned_messages_ids")
	if err != nil {
		return nil, nil, nil, apperr.Invalid("pinned_messages_ids", "must be a list of message ids")
	}
	if list != nil {
		pinned = *list
	}
	return occupants, admins, pinned, nil
}

// updateDialog is PUT /chat/Dialog/{id} (REST.md §5.3).
func (a *API) updateDialog(r *request) (reply, error) {
	p := r.params
	var u chat.DialogUpdate
	var err error
	for _, f := range []struct {
		key string
		dst **string
	}{{"name", &u.Name}, {"description", &u.Description}, {"photo", &u.Photo}} {
		if *f.dst, err = p.str(f.key); err != nil {
			return reply{}, err
		}
	}
	if u.Extensions, u.ExtensionsSet, err = extensionsParam(p); err != nil {
		return reply{}, err
	}
	if u.AllowPreview, _, err = allowPreview(p); err != nil {
		return reply{}, err
	}
	if u.PushOccupants, u.PushAdmins, u.PushPinned, err = pushPull(p, "push_all"); err != nil {
		return reply{}, err
	}
	if u.PullOccupants, u.PullAdmins, u.PullPinned, err = pushPull(p, "pull_all"); err != nil {
		return reply{}, err
	}
	v, err := a.chat.UpdateDialog(r.Context(), caller(r), r.PathValue("id"), u)
	if err != nil {
		return reply{}, err
	}
	return ok(a.toDialogJSON(v))
}

type idsJSON struct {
	IDs []string `json:"ids"`
}

type deleteReportJSON struct {
	SuccessfullyDeleted idsJSON `json:"SuccessfullyDeleted"`
	NotFound            idsJSON `json:"NotFound"`
	WrongPermissions    idsJSON `json:"WrongPermissions"`
}

func toReportJSON(rep *chat.DeleteReport) deleteReportJSON {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return deleteReportJSON{idsJSON{nonNil(rep.Deleted)}, idsJSON{nonNil(rep.NotFound)}, idsJSON{nonNil(rep.WrongPermissions)}}
}

// deleteDialogs is DELETE /chat/Dialog/{ids} (REST.md §5.4): TEXT-typed
// for one id, a JSON report for several.
func (a *API) deleteDialogs(r *request) (reply, error) {
	ids, err := pathIDs(r.PathValue("ids"))
	if err != nil {
		return reply{}, err
	}
	force, err := flag(r.params, "force")
	if err != nil {
		return reply{}, err
	}
	rep, err := a.chat.DeleteDialogs(r.Context(), caller(r), ids, force)
	if err != nil {
		return reply{}, err
	}
	if len(ids) == 1 {
		return empty()
	}
	return ok(toReportJSON(rep))
}

func (a *API) deleteDialogSub(r *request) (reply, error) {
	switch first, second := r.PathValue("a"), r.PathValue("b"); {
	case first == "clearHistory":
		force, err := flag(r.params, "force")
		if err != nil {
			return reply{}, err
		}
		if err := a.chat.ClearHistory(r.Context(), caller(r), second, force); err != nil {
			return reply{}, err
		}
		return empty()
	case second == "subscribe":
		if err := a.chat.Unsubscribe(r.Context(), caller(r), first); err != nil {
			return reply{}, err
		}
		return empty()
	}
	return reply{}, &apperr.Error{Kind: apperr.KindNotFound, Message: "Not found"}
}

func (a *API) subscribe(r *request) (reply, error) {
	v, err := a.chat.Subscribe(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(a.toDialogJSON(v))
}

type usersItems struct {
	Items []*userJSON `json:"items"`
}

// occupants is GET /chat/Dialog/{id}/occupants (REST.md §5.8).
func (a *API) occupants(r *request) (reply, error) {
	skip, err := r.params.intIn("skip", 0, 0, 1<<31)
	if err != nil {
		return reply{}, err
	}
	limit, err := r.params.intIn("limit", chat.MaxPageSize, 1, chat.MaxPageSize)
	if err != nil {
		return reply{}, err
	}
	ids, err := a.chat.Occupants(r.Context(), caller(r), r.PathValue("id"), int(skip), int(limit))
	if err != nil {
		return reply{}, err
	}
	users, err := a.usersByID(r, ids)
	if err != nil {
		return reply{}, err
	}
	return ok(usersItems{Items: users})
}

// usersByID loads users in the order of ids, skipping deleted ones.
func (a *API) usersByID(r *request, ids []int64) ([]*userJSON, error) {
	out := []*userJSON{}
	if len(ids) == 0 {
		return out, nil
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	users, _, err := a.auth.Users(r.Context(), r.sess.AppID, auth.UserQuery{
		Conds: []auth.UserCond{{Field: "id", Op: "in", Values: vals}}, Limit: len(ids)})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*auth.User, len(users))
	for i := range users {
		byID[users[i].ID] = &users[i]
	}
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			out = append(out, toUserJSON(u))
		}
	}
	return out, nil
}

// admins is PUT /chat/Dialog/{id}/admins (REST.md §5.9).
func (a *API) admins(r *request) (reply, error) {
	_, push, _, err := pushPull(r.params, "push_all")
	if err != nil {
		return reply{}, err
	}
	_, pull, _, err := pushPull(r.params, "pull_all")
	if err != nil {
		return reply{}, err
	}
	if len(push)+len(pull) == 0 {
		return reply{}, apperr.Invalid("admins_ids", "can't be blank")
	}
	v, err := a.chat.SetAdmins(r.Context(), caller(r), r.PathValue("id"), push, pull)
	if err != nil {
		return reply{}, err
	}
	return ok(a.toDialogJSON(v))
}

type notificationsJSON struct {
	Notifications struct {
		Enabled int `json:"enabled"`
	} `json:"notifications"`
}

func notificationsBody(enabled bool) notificationsJSON {
	var out notificationsJSON
	if enabled {
		out.Notifications.Enabled = 1
	}
	return out
}

func (a *API) getNotifications(r *request) (reply, error) {
	on, err := a.chat.Notifications(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(notificationsBody(on))
}

func (a *API) setNotifications(r *request) (reply, error) {
	if !r.params.has("enabled") {
		return reply{}, apperr.Invalid("enabled", "can't be blank")
	}
	on, err := flag(r.params, "enabled")
	if err != nil {
		return reply{}, err
	}
	if err := a.chat.SetNotifications(r.Context(), caller(r), r.PathValue("id"), on); err != nil {
		return reply{}, err
	}
	return ok(notificationsBody(on))
}
