package rest

import (
	"context"

	"github.com/parley-chat/parley/internal/auth"
)

// Presence is what GET /users/online asks of the presence domain
// (internal/presence.Service): the available users of an app that the
// caller may see (those whose privacy list hides their presence from the
// caller are left out of the list and the count), in ascending id order.
type Presence interface {
	Online(ctx context.Context, appID, caller int64, skip, limit int) ([]int64, error)
	OnlineCount(ctx context.Context, appID, caller int64) (int, error)
}

type onlineUsers struct {
	Users []*userJSON `json:"users"`
}

type onlineCount struct {
	Count int `json:"count"`
}

// listOnline is GET /users/online (REST.md §4.8): the SDK's
// users.listOnline({limit, offset}) and, with count=true,
// users.getOnlineCount(). "Online" is an available XMPP session (initial
// presence sent), as for last activity.
func (a *API) listOnline(r *request) (reply, error) {
	p := r.params
	count, err := flag(p, "count")
	if err != nil {
		return reply{}, err
	}
	if count {
		n, err := a.cfg.Presence.OnlineCount(r.Context(), r.sess.AppID, r.sess.UserID)
		if err != nil {
			return reply{}, err
		}
		return ok(onlineCount{Count: n})
	}
	offset, err := p.intIn("offset", 0, 0, 1<<31)
	if err != nil {
		return reply{}, err
	}
	limit, err := p.intIn("limit", maxUsersPage, 1, maxUsersPage)
	if err != nil {
		return reply{}, err
	}
	ids, err := a.cfg.Presence.Online(r.Context(), r.sess.AppID, r.sess.UserID, int(offset), int(limit))
	if err != nil {
		return reply{}, err
	}
	out := onlineUsers{Users: []*userJSON{}}
	if len(ids) == 0 {
		return ok(out)
	}
	values := make([]any, len(ids))
	for i, id := range ids {
		values[i] = id
	}
	// One read for the page, in id order (the users' order); a user
	// deleted since is left out.
	users, _, err := a.auth.Users(r.Context(), r.sess.AppID, auth.UserQuery{
		Conds: []auth.UserCond{{Field: "id", Op: "in", Values: values}}, Limit: len(ids)})
	if err != nil {
		return reply{}, err
	}
	for i := range users {
		out.Users = append(out.Users, toUserJSON(&users[i]))
	}
	return ok(out)
}
