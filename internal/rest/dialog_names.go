package rest

import (
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// A private dialog has no name of its own: creating one ignores `name`
// (ConnectyCube's server docs: "Ignored for private chats (type 3)"), and
// the platform's admin API, which answers for no user in particular,
// shows it as null. Yet ConnectyCube's chat widget creates 1-1 dialogs
// without a name and shows `dialog.name` as their title, in the dialog
// list and over the conversation, with no fallback, so the platform fills
// it in for the user who asks: the other participant's name. Parley does
// the same in every dialog it answers to a user (list, create, update,
// subscribe, admins, search): the other participant's full_name, else
// their login (what the widget itself shows for a user without a full
// name). A dialog whose other participant was deleted keeps null. The
// name is per viewer, so filters and sorts on `name` still see the stored
// one (null for private dialogs).

// dialogsJSON renders views for the caller of r, naming private dialogs
// after the other participant with one user lookup per 100 dialogs.
func (a *API) dialogsJSON(r *request, views []chat.View) ([]*dialogJSON, error) {
	items := make([]*dialogJSON, len(views))
	var others []any
	other := make([]int64, len(views))
	for i := range views {
		items[i] = a.toDialogJSON(&views[i])
		if views[i].Type != chat.Private {
			continue
		}
		for _, u := range views[i].Occupants {
			if u != r.sess.UserID {
				other[i] = u
				others = append(others, u)
				break
			}
		}
	}
	names := make(map[int64]string, len(others))
	for len(others) > 0 {
		n := min(len(others), auth.MaxListValues)
		users, _, err := a.auth.Users(r.Context(), r.sess.AppID, auth.UserQuery{
			Conds: []auth.UserCond{{Field: "id", Op: "in", Values: others[:n]}}, Limit: n})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			names[u.ID] = displayName(&u)
		}
		others = others[n:]
	}
	for i, id := range other {
		if name, ok := names[id]; ok && name != "" {
			items[i].Name = &name
		}
	}
	return items, nil
}

// dialogJSON is dialogsJSON for one dialog.
func (a *API) dialogJSON(r *request, v *chat.View) (*dialogJSON, error) {
	items, err := a.dialogsJSON(r, []chat.View{*v})
	if err != nil {
		return nil, err
	}
	return items[0], nil
}

// displayName is how a user is named to others: full name, else login.
func displayName(u *auth.User) string {
	if u.FullName != "" {
		return u.FullName
	}
	return u.Login
}
