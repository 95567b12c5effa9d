package auth

import "time"

// App is a tenant: every user, session, dialog and message belongs to one.
type App struct {
	ID               int64
	Name             string
	AuthKey          string
	AuthSecret       string
	DialogExtensions []string // allowed dialog `extensions` fields, at most 3
	// NoGroupSubscribe turns off subscribing to group dialogs (REST.md
	// §5.6), allowed by default: a non-member's subscribe to a group then
	// gets 404, like any dialog they cannot see.
	NoGroupSubscribe bool
	// BlobMaxSize is the largest blob in bytes (0: the default, see
	// internal/blob); BlobContentTypes the media types blobs may have
	// (empty: any). Set by `parley app update`.
	BlobMaxSize      int64
	BlobContentTypes []string
	CreatedAt        time.Time
}

// User is an account of one app. Optional text fields are empty when unset
// and written as JSON null by the front ends.
type User struct {
	ID             int64
	AppID          int64
	Login          string
	Email          string
	FullName       string
	Phone          string
	Website        string
	CustomData     string
	ExternalUserID int64 // 0 when unset
	ExternalID     string
	FacebookID     string
	TwitterID      string
	BlobID         int64 // 0 when unset
	Avatar         string
	Tags           []string
	Timezone       *int
	PasswordHash   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastRequestAt  time.Time // zero when the user never made an authenticated request
}

// Session is an application session, or a user session when UserID is set.
// The token itself is never stored: TokenHash identifies the session.
type Session struct {
	ID        int64
	AppID     int64
	UserID    int64 // 0 for an application-only session
	Token     string
	TokenHash []byte
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// DisplayName is how a user is named to others: the full name, else the
// login (what ConnectyCube's chat widget shows, and chat alerts say).
func (u *User) DisplayName() string {
	if u.FullName != "" {
		return u.FullName
	}
	return u.Login
}
