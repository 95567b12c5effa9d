package rest

import (
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

// isoTime writes a time as REST.md §1.10 wants: UTC, truncated (never
// rounded) to the second, with a Z suffix.
func isoTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

func optISO(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := isoTime(t)
	return &s
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optInt(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// userJSON is the User model of REST.md §2.1.
type userJSON struct {
	ID             int64   `json:"id"`
	FullName       *string `json:"full_name"`
	Email          *string `json:"email"`
	Login          *string `json:"login"`
	Phone          *string `json:"phone"`
	Website        *string `json:"website"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	LastRequestAt  *string `json:"last_request_at"`
	ExternalUserID *int64  `json:"external_user_id"`
	ExternalID     *string `json:"external_id"`
	FacebookID     *string `json:"facebook_id"`
	TwitterID      *string `json:"twitter_id"`
	BlobID         *int64  `json:"blob_id"`
	CustomData     *string `json:"custom_data"`
	Avatar         *string `json:"avatar"`
	UserTags       *string `json:"user_tags"`
	Timezone       *int    `json:"timezone"`
}

func toUserJSON(u *auth.User) *userJSON {
	return &userJSON{
		ID: u.ID, FullName: optStr(u.FullName), Email: optStr(u.Email), Login: optStr(u.Login),
		Phone: optStr(u.Phone), Website: optStr(u.Website),
		CreatedAt: isoTime(u.CreatedAt), UpdatedAt: isoTime(u.UpdatedAt), LastRequestAt: optISO(u.LastRequestAt),
		ExternalUserID: optInt(u.ExternalUserID), ExternalID: optStr(u.ExternalID),
		FacebookID: optStr(u.FacebookID), TwitterID: optStr(u.TwitterID), BlobID: optInt(u.BlobID),
		CustomData: optStr(u.CustomData), Avatar: optStr(u.Avatar), UserTags: optStr(strings.Join(u.Tags, ",")),
		Timezone: u.Timezone,
	}
}

type userEnvelope struct {
	User *userJSON `json:"user"`
}

// sessionJSON is the Session model of REST.md §2.2.
type sessionJSON struct {
	ID            int64     `json:"id"`
	UserID        int64     `json:"user_id"`
	ApplicationID int64     `json:"application_id"`
	Token         string    `json:"token"`
	TS            int64     `json:"ts"`
	CreatedAt     string    `json:"created_at"`
	UpdatedAt     string    `json:"updated_at"`
	User          *userJSON `json:"user,omitempty"`
}

type sessionEnvelope struct {
	Session sessionJSON `json:"session"`
}

func toSessionJSON(s *auth.Session, u *auth.User) sessionEnvelope {
	out := sessionJSON{ID: s.ID, UserID: s.UserID, ApplicationID: s.AppID, Token: s.Token,
		TS: s.CreatedAt.Unix(), CreatedAt: isoTime(s.CreatedAt), UpdatedAt: isoTime(s.UpdatedAt)}
	if u != nil {
		out.User = toUserJSON(u)
	}
	return sessionEnvelope{Session: out}
}
