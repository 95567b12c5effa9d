package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/data"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/rest/form"
)

// Config holds the REST front end's limits and options.
type Config struct {
	// MaxBodyBytes caps a request body; larger ones get 413.
	MaxBodyBytes int64
	// CORSOrigin is sent as Access-Control-Allow-Origin.
	CORSOrigin string
	// Domain is the XMPP domain, used in JIDs the API returns.
	Domain string
	// PublicURL is the absolute base URL clients reach the API at, used in
	// the upload and download URLs the API hands out; empty: taken from
	// each request (its Host, and https when it came over TLS).
	PublicURL string
	// Presence answers GET /users/online (nil: 404 Not implemented).
	Presence Presence
}

// Option adds an optional service to the API.
type Option func(*API)

// WithBlobs serves blob storage (REST.md §8) from svc.
func WithBlobs(svc *blob.Service) Option { return func(a *API) { a.blobs = svc } }

// API is the REST front end.
type API struct {
	cfg  Config
	auth *auth.Service
	chat *chat.Service
	data *data.Service // nil: no /data routes
	// blobs is nil when the server was built without blob storage; its
	// routes then answer 404 like any unknown path.
	blobs *blob.Service
	// push is nil when the server was built without it (its routes
	// then answer 404).
	push *push.Service
	log  *slog.Logger
	mux  *http.ServeMux
	// observe is told about every request (observe.go); never nil.
	observe RequestObserver
}

// New returns the REST handler. ready reports whether the server has
// finished starting (GET /health answers 503 until it has).
func New(cfg Config, authSvc *auth.Service, chatSvc *chat.Service, log *slog.Logger, ready func() bool, opts ...Option) http.Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.CORSOrigin == "" {
		cfg.CORSOrigin = "*"
	}
	a := &API{cfg: cfg, auth: authSvc, chat: chatSvc, log: log.With("component", "rest"), mux: http.NewServeMux(),
		observe: noRequestObserver{}}
	for _, o := range opts {
		o(a)
	}
	a.mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil && !ready() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.sessionRoutes()
	a.userRoutes()
	a.dialogRoutes()
	a.messageRoutes()
	a.dataRoutes()
	if a.blobs != nil {
		a.blobRoutes()
	}
	if a.push != nil {
		a.pushRoutes()
	}
	return a.middleware(a.dispatch)
}

// access is what a route requires of the caller.
type access int

const (
	public      access = iota // no session (POST /session)
	appSession                // any live session, app-only or user
	userSession               // a live session with a user logged in
)

// request is what a handler gets: the HTTP request, the caller's session
// (nil on public routes) and the decoded parameters.
type request struct {
	*http.Request
	sess   *auth.Session
	params params
}

// reply is a handler's success: status and a JSON body, or an empty body
// when body is nil (the SDK's TEXT-typed calls, REST.md §1.5).
type reply struct {
	status int
	body   any
}

func ok(body any) (reply, error)      { return reply{http.StatusOK, body}, nil }
func created(body any) (reply, error) { return reply{http.StatusCreated, body}, nil }
func empty() (reply, error)           { return reply{http.StatusOK, nil}, nil }

type handler func(r *request) (reply, error)

// notImplemented answers endpoints Parley does not serve yet (REST.md §11).
func notImplemented(*request) (reply, error) {
	return reply{}, &apperr.Error{Kind: apperr.KindNotFound, Message: "Not implemented"}
}

// route registers h for pattern (a ServeMux pattern on the normalized path:
// no .json suffix, single slashes).
func (a *API) route(pattern string, need access, h handler) {
	a.mux.HandleFunc(pattern, a.wrap(need, h))
}

// wrap turns h into an HTTP handler: authentication by need, parameter
// decoding, and the reply or error written in the house shape.
func (a *API) wrap(need access, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		req := &request{Request: hr}
		if need != public {
			sess, err := a.authenticate(hr)
			if err != nil {
				writeError(w, hr, a.log, err)
				return
			}
			if need == userSession && sess.UserID == 0 {
				writeError(w, hr, a.log, apperr.Forbidden("Forbidden. Need user."))
				return
			}
			req.sess = sess
		}
		p, err := a.decodeParams(hr)
		if err != nil {
			writeError(w, hr, a.log, err)
			return
		}
		req.params = p
		rep, err := h(req)
		if err != nil {
			writeError(w, hr, a.log, err)
			return
		}
		if rep.body == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(rep.status)
			return
		}
		writeJSON(w, rep.status, rep.body)
	}
}

func (a *API) authenticate(r *http.Request) (*auth.Session, error) {
	return a.auth.Authenticate(r.Context(), r.Header.Get("CB-Token"))
}

// decodeParams reads the parameters where the SDK puts them (REST.md §1.3):
// the query for GET, a form body (then the query) for DELETE, a JSON or form
// body for POST and PUT.
func (a *API) decodeParams(r *http.Request) (params, error) {
	query, err := form.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return params(query), nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err // 413, by writeError
		}
		// The client's mistake, not ours: a body shorter than its
		// Content-Length, a broken chunked encoding, a connection that
		// went away. Answered 400 (if anyone still listens).
		return nil, apperr.Malformed("Request body could not be read: %v", err)
	}
	var tree form.Tree
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		// A JSON object whatever the Content-Type says: curl and other
		// clients send JSON as form-urlencoded by default, and no form body
		// starts with a brace.
		tree, err = form.ParseJSON(trimmed)
	case r.Method == http.MethodDelete || ct == "application/x-www-form-urlencoded":
		tree, err = form.ParseQuery(string(trimmed))
	case ct == "" || ct == "application/json" || strings.HasSuffix(ct, "+json") || ct == "text/plain":
		tree, err = form.ParseJSON(trimmed)
	default:
		return nil, apperr.Malformed("Unsupported Content-Type %q", ct)
	}
	if err != nil {
		return nil, err
	}
	form.Merge(tree, query)
	return params(tree), nil
}

type ctxKey int

const jsonSuffixKey ctxKey = 0

// hadJSONSuffix reports whether the request path ended in ".json"; only blob
// downloads care (REST.md §8.4).
func hadJSONSuffix(ctx context.Context) bool {
	v, _ := ctx.Value(jsonSuffixKey).(bool)
	return v
}
