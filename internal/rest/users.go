package rest

import (
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
)

func (a *API) userRoutes() {
	a.route("POST /users", public, a.signUp)
	a.route("GET /users/v2", userSession, a.listUsersV2)
	a.route("GET /users", userSession, a.listUsersLegacy)
	a.route("GET /users/{id}", userSession, a.getUser)
	a.route("GET /users/external/{value}", userSession, a.getUserByExternal)
	for path, field := range map[string]string{
		"by_login": "login", "by_email": "email", "by_facebook_id": "facebook_id",
		"by_twitter_id": "twitter_id", "phone": "phone",
	} {
		a.route("GET /users/"+path, userSession, a.getUserByField(field))
	}
	a.route("GET /users/by_full_name", userSession, a.listUsersByFullName)
	a.route("GET /users/by_tags", userSession, a.listUsersByTags)
	// Named before /users/{id}, so they do not fall through to it. A
	// password reset needs mail delivery: not implemented yet.
	if a.cfg.Presence != nil {
		a.route("GET /users/online", appSession, a.listOnline)
	} else {
		a.route("GET /users/online", appSession, notImplemented)
	}
	a.route("POST /users/password/reset", public, notImplemented)
	a.route("GET /users/password/reset", public, notImplemented)
	a.route("PUT /users/{id}", userSession, a.updateUser)
	a.route("PUT /users", userSession, a.updateUser)
	a.route("DELETE /users/{id}", userSession, a.deleteUser)
	a.route("DELETE /users", userSession, a.deleteUser)
}

// signUp is POST /users (REST.md §4.1): authenticated by a session token or,
// without one, by the app's auth key in CB-AuthKey.
func (a *API) signUp(r *request) (reply, error) {
	var appID int64
	if tok := r.Header.Get("CB-Token"); tok != "" {
		sess, err := a.auth.Authenticate(r.Context(), tok)
		if err != nil {
			return reply{}, err
		}
		appID = sess.AppID
	} else if key := r.Header.Get("CB-AuthKey"); key != "" {
		// A wrong key is wrong credentials, not an expired session: the
		// SDK would otherwise run the app's sessionExpired handler.
		app, err := a.auth.AppByAuthKey(r.Context(), key)
		if err != nil {
			return reply{}, err
		}
		appID = app.ID
	} else {
		return reply{}, apperr.SessionExpired()
	}
	in, err := userInput(r.params)
	if err != nil {
		return reply{}, err
	}
	u, err := a.auth.SignUp(r.Context(), appID, in)
	if err != nil {
		return reply{}, err
	}
	return created(userEnvelope{User: toUserJSON(u)})
}

// userInput reads the "user" object of a sign-up or update body.
func userInput(p params) (auth.UserInput, error) {
	var in auth.UserInput
	u, err := p.object("user")
	if err != nil {
		return in, err
	}
	if u == nil {
		return in, apperr.Invalid("user", "can't be blank")
	}
	for _, f := range []struct {
		key string
		dst **string
	}{
		{"login", &in.Login}, {"email", &in.Email}, {"password", &in.Password}, {"old_password", &in.OldPassword},
		{"full_name", &in.FullName}, {"phone", &in.Phone}, {"website", &in.Website},
		{"custom_data", &in.CustomData}, {"external_id", &in.ExternalID}, {"facebook_id", &in.FacebookID},
		{"twitter_id", &in.TwitterID}, {"avatar", &in.Avatar},
	} {
		if *f.dst, err = u.str(f.key); err != nil {
			return in, err
		}
	}
	if in.ExternalUserID, err = u.int("external_user_id"); err != nil {
		return in, err
	}
	if in.BlobID, err = u.int("blob_id"); err != nil {
		return in, err
	}
	tz, err := u.int("timezone")
	if err != nil {
		return in, err
	}
	if tz != nil {
		if *tz < -720 || *tz > 840 {
			return in, apperr.Invalid("timezone", "must be minutes from UTC between -720 and 840")
		}
		v := int(*tz)
		in.Timezone = &v
	}
	key := "tag_list"
	if !u.has(key) && u.has("user_tags") {
		key = "user_tags"
	}
	if in.Tags, err = u.strList(key); err != nil {
		return in, apperr.Invalid("tag_list", "must be a list of strings or a comma-separated string")
	}
	return in, nil
}

// pathUserID reads {id}; a path without one means the caller (the SDK's
// URL when it does not know the current user id, REST.md §4.5).
func pathUserID(r *request) (int64, error) {
	s := r.PathValue("id")
	if s == "" {
		return r.sess.UserID, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("User")
	}
	return id, nil
}

func (a *API) getUser(r *request) (reply, error) {
	id, err := pathUserID(r)
	if err != nil {
		return reply{}, err
	}
	u, err := a.auth.User(r.Context(), r.sess.AppID, id)
	if err != nil {
		return reply{}, err
	}
	return ok(userEnvelope{User: toUserJSON(u)})
}

func (a *API) getUserByField(field string) handler {
	return func(r *request) (reply, error) {
		v, err := r.params.text(field)
		if err != nil {
			return reply{}, err
		}
		if v == "" {
			return reply{}, apperr.Invalid(field, "can't be blank")
		}
		u, err := a.auth.UserBy(r.Context(), r.sess.AppID, field, v)
		if err != nil {
			return reply{}, err
		}
		return ok(userEnvelope{User: toUserJSON(u)})
	}
}

// getUserByExternal is GET /users/external/{value}: the SDK's
// users.get({external: v}). A numeric value names external_user_id first.
func (a *API) getUserByExternal(r *request) (reply, error) {
	v := r.PathValue("value")
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		u, err := a.auth.UserBy(r.Context(), r.sess.AppID, "external_user_id", v)
		if err == nil {
			return ok(userEnvelope{User: toUserJSON(u)})
		}
		if apperr.KindOf(err) != apperr.KindNotFound {
			return reply{}, err
		}
	}
	u, err := a.auth.UserBy(r.Context(), r.sess.AppID, "external_id", v)
	if err != nil {
		return reply{}, err
	}
	return ok(userEnvelope{User: toUserJSON(u)})
}

func (a *API) updateUser(r *request) (reply, error) {
	id, err := pathUserID(r)
	if err != nil {
		return reply{}, err
	}
	in, err := userInput(r.params)
	if err != nil {
		return reply{}, err
	}
	u, err := a.auth.UpdateUser(r.Context(), r.sess, id, in)
	if err != nil {
		return reply{}, err
	}
	return ok(userEnvelope{User: toUserJSON(u)})
}

func (a *API) deleteUser(r *request) (reply, error) {
	id, err := pathUserID(r)
	if err != nil {
		return reply{}, err
	}
	// The account and its sessions go first (its connections end with
	// them), then its place in the chat domain (REST.md §4.6).
	if err := a.auth.DeleteUser(r.Context(), r.sess, id); err != nil {
		return reply{}, err
	}
	if err := a.chat.RemoveUser(r.Context(), r.sess.AppID, id); err != nil {
		return reply{}, err
	}
	return empty()
}
