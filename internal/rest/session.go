package rest

import (
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
)

func (a *API) sessionRoutes() {
	a.route("POST /session", public, a.createSession)
	a.route("GET /session", appSession, a.getSession)
	a.route("DELETE /session", appSession, a.destroySession)
	a.route("POST /login", appSession, a.login)
	a.route("DELETE /login", userSession, a.logout)
}

// createSession is POST /session (REST.md §3.1).
func (a *API) createSession(r *request) (reply, error) {
	p := r.params
	appID, err := appIDParam(p)
	if err != nil {
		return reply{}, err
	}
	key, err := p.text("auth_key")
	if err != nil {
		return reply{}, err
	}
	if key == "" {
		return reply{}, apperr.Invalid("auth_key", "can't be blank")
	}
	if p.has("provider") {
		return reply{}, apperr.Invalid("base", "Provider is not supported")
	}
	// The connection's peer: X-Forwarded-For is not trusted, since any
	// client could set it to dodge the limits counted by address.
	req := auth.SessionRequest{AppID: appID, AuthKey: key, Addr: r.RemoteAddr}
	user, err := p.object("user")
	if err != nil {
		return reply{}, err
	}
	if user != nil {
		if user.has("guest") {
			return reply{}, apperr.Invalid("base", "Guest sessions are not supported")
		}
		c, err := credentials(user, "user")
		if err != nil {
			return reply{}, err
		}
		req.User = &c
	}
	sess, u, err := a.auth.CreateSession(r.Context(), req)
	if err != nil {
		return reply{}, err
	}
	return created(toSessionJSON(sess, u))
}

// appIDParam reads application_id, which the SDK sends as given to init:
// a number or a numeric string.
func appIDParam(p params) (int64, error) {
	v, ok := p["application_id"]
	if !ok || v == nil || v == "" {
		return 0, apperr.Invalid("application_id", "can't be blank")
	}
	s, err := leafString("application_id", v)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.Invalid("application_id", "must be a positive integer")
	}
	return id, nil
}

// credentials reads {login|email, password}; prefix names the object in
// error messages.
func credentials(p params, prefix string) (auth.Credentials, error) {
	var c auth.Credentials
	var err error
	name := func(f string) string {
		if prefix == "" {
			return f
		}
		return fieldf(prefix, f)
	}
	if c.Login, err = p.text("login"); err != nil {
		return c, apperr.Invalid(name("login"), "must be a string")
	}
	if c.Email, err = p.text("email"); err != nil {
		return c, apperr.Invalid(name("email"), "must be a string")
	}
	if c.Password, err = p.text("password"); err != nil {
		return c, apperr.Invalid(name("password"), "must be a string")
	}
	if c.Login == "" && c.Email == "" {
		return c, apperr.Invalid(name("login"), "can't be blank when email is blank")
	}
	if c.Password == "" {
		return c, apperr.Invalid(name("password"), "can't be blank")
	}
	return c, nil
}

// getSession is GET /session (REST.md §3.2).
func (a *API) getSession(r *request) (reply, error) {
	var u *auth.User
	if r.sess.UserID != 0 {
		var err error
		if u, err = a.auth.User(r.Context(), r.sess.AppID, r.sess.UserID); err != nil {
			return reply{}, err
		}
	}
	return ok(toSessionJSON(r.sess, u))
}

// destroySession is DELETE /session (REST.md §3.3), TEXT-typed.
func (a *API) destroySession(r *request) (reply, error) {
	if err := a.auth.DestroySession(r.Context(), r.sess); err != nil {
		return reply{}, err
	}
	return empty()
}

// login is POST /login (REST.md §3.4): 202 with the user.
func (a *API) login(r *request) (reply, error) {
	c, err := credentials(r.params, "")
	if err != nil {
		return reply{}, err
	}
	u, err := a.auth.Login(r.Context(), r.sess, c, r.RemoteAddr)
	if err != nil {
		return reply{}, err
	}
	return reply{status: 202, body: userEnvelope{User: toUserJSON(u)}}, nil
}

// logout is DELETE /login (REST.md §3.5), TEXT-typed.
func (a *API) logout(r *request) (reply, error) {
	if err := a.auth.Logout(r.Context(), r.sess); err != nil {
		return reply{}, err
	}
	return empty()
}
