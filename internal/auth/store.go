package auth

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store when a looked-up row does not exist.
var ErrNotFound = errors.New("auth: not found")

// DuplicateError is returned by a Store when a unique field is taken.
type DuplicateError struct{ Field string }

func (e *DuplicateError) Error() string { return "auth: duplicate " + e.Field }

// Store persists apps, users and sessions. Every method is scoped to one
// app where the data is app-owned, so isolation between apps is a property
// of the queries, not of the callers.
type Store interface {
	CreateApp(ctx context.Context, app *App) error
	AppByID(ctx context.Context, id int64) (*App, error)
	AppByAuthKey(ctx context.Context, key string) (*App, error)
	ListApps(ctx context.Context) ([]App, error)
	// SetAppBlobLimits writes the app's BlobMaxSize and BlobContentTypes.
	SetAppBlobLimits(ctx context.Context, a *App) error

	// CreateUser inserts u and sets u.ID; a taken login or email yields
	// *DuplicateError naming the field.
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, appID, id int64) (*User, error)
	// UserByField finds the user whose field (one of UniqueLookupFields)
	// equals value.
	UserByField(ctx context.Context, appID int64, field, value string) (*User, error)
	// UpdateUser writes every field of u; duplicates as in CreateUser.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes the user and all of its sessions.
	DeleteUser(ctx context.Context, appID, id int64) error
	// ListUsers returns one page of the users matching q, and the total
	// number of matches.
	ListUsers(ctx context.Context, appID int64, q UserQuery) ([]User, int, error)

	CreateSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession extends a session and records the user's last request.
	TouchSession(ctx context.Context, s *Session) error
	// SetSessionUser binds (or with userID 0 unbinds) a user to a session.
	SetSessionUser(ctx context.Context, s *Session) error
	DeleteSession(ctx context.Context, id int64) error
	// DeleteUserSessions removes every session of a user except the one
	// with id except (0: none) and returns the token hashes of those it
	// removed, so that what authenticated with them can be ended too.
	DeleteUserSessions(ctx context.Context, appID, userID, except int64) ([][]byte, error)
}

// UniqueLookupFields are the user fields UserByField accepts.
var UniqueLookupFields = []string{"login", "email", "facebook_id", "twitter_id", "phone", "external_user_id", "external_id"}

// UserQuery selects and pages users. Conditions combine with AND.
type UserQuery struct {
	Conds  []UserCond
	Sort   string // a field of UserSortFields; "" means by id
	Desc   bool
	Limit  int
	Offset int
}

// UserCond is one filter: Field Op Values. Values hold strings, int64s or
// time.Times as suits the field (see UserFieldTypes).
type UserCond struct {
	Field  string
	Op     string // eq ne in nin gt lt gte lte start_with contains between; on user_tags eq/in/nin match tags
	Values []any
}

// FieldType says how a user field's filter values are typed.
type FieldType int

const (
	TypeString FieldType = iota
	TypeInt
	TypeTime
	TypeTags
)

// UserFieldTypes lists the user fields that may be filtered and sorted on.
var UserFieldTypes = map[string]FieldType{
	"id":               TypeInt,
	"login":            TypeString,
	"email":            TypeString,
	"full_name":        TypeString,
	"phone":            TypeString,
	"website":          TypeString,
	"external_user_id": TypeInt,
	"external_id":      TypeString,
	"facebook_id":      TypeString,
	"twitter_id":       TypeString,
	"blob_id":          TypeInt,
	"user_tags":        TypeTags,
	"created_at":       TypeTime,
	"updated_at":       TypeTime,
	"last_request_at":  TypeTime,
}

// sessionTouchEvery bounds how often an in-use session is written back:
// the sliding expiry is exact to within this interval (or a tenth of the
// session lifetime, when that is shorter).
const sessionTouchEvery = time.Minute
