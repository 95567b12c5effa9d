package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/apperr"
)

// Limits on user fields, in characters (runes). They are documented in the
// README; a value over its limit is refused with 422 naming the field.
const (
	MaxLoginLen      = 64
	MaxEmailLen      = 254
	MinPasswordLen   = 8
	MaxPasswordLen   = 128
	MaxFullNameLen   = 200
	MaxPhoneLen      = 32
	MaxURLLen        = 2048 // website, avatar
	MaxCustomDataLen = 16 * 1024
	MaxIDFieldLen    = 128 // external_id, facebook_id, twitter_id
	MaxTags          = 20
	MaxTagLen        = 64
	// MaxListValues bounds an in/nin/between list of a user filter: each
	// value is a term of the statement (a tag an OR of LIKEs), and SQLite
	// refuses statements past a depth of 1,000 terms.
	MaxListValues = 100
	// MaxFilterText bounds a text value of a user filter: longer than any
	// field it could match (URLs, 2,048), and well under SQLite's limit on
	// a LIKE pattern (50,000 bytes; past it the query fails).
	MaxFilterText = 2048
)

// UserInput is a sign-up or an update. A nil field is absent from the
// request; for optional text fields a pointer to "" clears the value.
type UserInput struct {
	Login          *string
	Email          *string
	Password       *string
	OldPassword    *string
	FullName       *string
	Phone          *string
	Website        *string
	CustomData     *string
	ExternalUserID *int64
	ExternalID     *string
	FacebookID     *string
	TwitterID      *string
	BlobID         *int64
	Avatar         *string
	Tags           *[]string
	Timezone       *int
}

// SignUp creates a user in app.
func (s *Service) SignUp(ctx context.Context, appID int64, in UserInput) (*User, error) {
	if in.Password == nil {
		return nil, apperr.Invalid("password", "can't be blank")
	}
	if (in.Login == nil || *in.Login == "") && (in.Email == nil || *in.Email == "") {
		return nil, apperr.Invalid("login", "can't be blank when email is blank")
	}
	now := s.now().UTC()
	u := &User{AppID: appID, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(u, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, mapDuplicate(err)
	}
	return u, nil
}

func mapDuplicate(err error) error {
	var dup *DuplicateError
	if errors.As(err, &dup) {
		return apperr.Invalid(dup.Field, "has already been taken")
	}
	return err
}

// User returns user id of app.
func (s *Service) User(ctx context.Context, appID, id int64) (*User, error) {
	u, err := s.store.UserByID(ctx, appID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.NotFound("User")
	}
	return u, err
}

// UserBy returns the user of app whose unique field equals value.
func (s *Service) UserBy(ctx context.Context, appID int64, field, value string) (*User, error) {
	if field == "email" {
		value = strings.ToLower(value)
	}
	u, err := s.store.UserByField(ctx, appID, field, value)
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.NotFound("User")
	}
	return u, err
}

// Users lists users of app.
func (s *Service) Users(ctx context.Context, appID int64, q UserQuery) ([]User, int, error) {
	for _, c := range q.Conds {
		if len(c.Values) > MaxListValues {
			return nil, 0, apperr.Invalid(c.Field, "is too long (maximum is %d values)", MaxListValues)
		}
		for _, v := range c.Values {
			if text, ok := v.(string); ok && utf8.RuneCountInString(text) > MaxFilterText {
				return nil, 0, apperr.Invalid(c.Field, "is too long (maximum is %d characters)", MaxFilterText)
			}
		}
	}
	return s.store.ListUsers(ctx, appID, q)
}

// UpdateUser changes the caller's own account (id must be the session's user).
func (s *Service) UpdateUser(ctx context.Context, sess *Session, id int64, in UserInput) (*User, error) {
	if sess.UserID == 0 {
		return nil, apperr.Forbidden("Forbidden. Need user.")
	}
	if id != sess.UserID {
		if _, err := s.User(ctx, sess.AppID, id); err != nil {
			return nil, err
		}
		return nil, apperr.Forbidden("You can update only your own account")
	}
	u, err := s.User(ctx, sess.AppID, id)
	if err != nil {
		return nil, err
	}
	if in.Password != nil {
		if in.OldPassword == nil {
			return nil, apperr.Invalid("old_password", "can't be blank when changing the password")
		}
		if ok, _ := VerifyPassword(u.PasswordHash, *in.OldPassword); !ok {
			return nil, apperr.Invalid("old_password", "is incorrect")
		}
	}
	oldHash := u.PasswordHash
	if err := s.apply(u, in); err != nil {
		return nil, err
	}
	if u.Login == "" && u.Email == "" {
		return nil, apperr.Invalid("login", "can't be blank when email is blank")
	}
	u.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return nil, mapDuplicate(err)
	}
	if in.Password != nil {
		if err := s.passwordChanged(ctx, sess, oldHash); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// passwordChanged ends what the old password let in, except the session
// that changed it: every other session of the user (their tokens stop
// working at once) and every chat connection that authenticated with one
// of those tokens or with the old password. Connections that authenticated
// with the caller's own token stay: the caller proved the old password
// and holds the new one.
func (s *Service) passwordChanged(ctx context.Context, sess *Session, oldHash string) error {
	hashes, err := s.store.DeleteUserSessions(ctx, sess.AppID, sess.UserID, sess.ID)
	if err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	s.events.CredentialsEnded(sess.AppID, sess.UserID, append(hashes, passwordCredential(oldHash)))
	return nil
}

// DeleteUser deletes the caller's own account and every session of it, and
// ends its chat connections. The account's place in dialogs is the chat
// domain's (chat.Service.RemoveUser), which the caller runs next.
func (s *Service) DeleteUser(ctx context.Context, sess *Session, id int64) error {
	if sess.UserID == 0 {
		return apperr.Forbidden("Forbidden. Need user.")
	}
	if id != sess.UserID {
		if _, err := s.User(ctx, sess.AppID, id); err != nil {
			return err
		}
		return apperr.Forbidden("You can delete only your own account")
	}
	if err := s.store.DeleteUser(ctx, sess.AppID, id); err != nil {
		return err
	}
	// The store removed the user's sessions with it; its chat connections
	// end now, before the caller goes on to take it out of its dialogs.
	s.events.UserDeleted(sess.AppID, id)
	return nil
}

// apply validates in and copies it onto u. Nothing is written when any
// field is invalid.
func (s *Service) apply(u *User, in UserInput) error {
	text := []struct {
		field string
		in    *string
		out   *string
		max   int
	}{
		{"login", in.Login, &u.Login, MaxLoginLen},
		{"full_name", in.FullName, &u.FullName, MaxFullNameLen},
		{"phone", in.Phone, &u.Phone, MaxPhoneLen},
		{"website", in.Website, &u.Website, MaxURLLen},
		{"custom_data", in.CustomData, &u.CustomData, MaxCustomDataLen},
		{"external_id", in.ExternalID, &u.ExternalID, MaxIDFieldLen},
		{"facebook_id", in.FacebookID, &u.FacebookID, MaxIDFieldLen},
		{"twitter_id", in.TwitterID, &u.TwitterID, MaxIDFieldLen},
		{"avatar", in.Avatar, &u.Avatar, MaxURLLen},
	}
	for _, t := range text {
		if t.in == nil {
			continue
		}
		if err := checkText(t.field, *t.in, t.max); err != nil {
			return err
		}
	}
	if in.Login != nil && *in.Login != "" {
		if strings.TrimSpace(*in.Login) != *in.Login || strings.ContainsAny(*in.Login, " \t\r\n") {
			return apperr.Invalid("login", "must not contain whitespace")
		}
		if isDigits(*in.Login) {
			// An all-digit login would be indistinguishable from an id in
			// the SDK's finders.
			return apperr.Invalid("login", "must contain a character that is not a digit")
		}
	}
	var email string
	if in.Email != nil {
		email = strings.ToLower(strings.TrimSpace(*in.Email))
		if email != "" {
			if err := checkText("email", email, MaxEmailLen); err != nil {
				return err
			}
			if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email[strings.IndexByte(email, '@'):], ".") {
				return apperr.Invalid("email", "is invalid")
			}
		}
	}
	if in.Password != nil {
		n := utf8.RuneCountInString(*in.Password)
		if n < MinPasswordLen {
			return apperr.Invalid("password", "is too short (minimum is %d characters)", MinPasswordLen)
		}
		if n > MaxPasswordLen || !utf8.ValidString(*in.Password) {
			return apperr.Invalid("password", "is too long (maximum is %d characters)", MaxPasswordLen)
		}
	}
	var tags []string
	if in.Tags != nil {
		for _, t := range *in.Tags {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if utf8.RuneCountInString(t) > MaxTagLen || strings.Contains(t, ",") || !utf8.ValidString(t) {
				return apperr.Invalid("tag_list", "each tag must be at most %d characters without commas", MaxTagLen)
			}
			tags = append(tags, t)
		}
		if len(tags) > MaxTags {
			return apperr.Invalid("tag_list", "is too long (maximum is %d tags)", MaxTags)
		}
	}
	if in.Timezone != nil && (*in.Timezone < -720 || *in.Timezone > 840) {
		return apperr.Invalid("timezone", "must be minutes from UTC between -720 and 840")
	}
	if in.ExternalUserID != nil && *in.ExternalUserID < 0 {
		return apperr.Invalid("external_user_id", "must be a positive integer")
	}
	if in.BlobID != nil && *in.BlobID < 0 {
		return apperr.Invalid("blob_id", "must be a positive integer")
	}
	// All valid: copy.
	var hash string
	if in.Password != nil {
		h, err := HashPassword(*in.Password, s.cfg.PasswordIterations)
		if err != nil {
			return fmt.Errorf("hash password: %w", err)
		}
		hash = h
	}
	for _, t := range text {
		if t.in != nil {
			*t.out = *t.in
		}
	}
	if in.Email != nil {
		u.Email = email
	}
	if hash != "" {
		u.PasswordHash = hash
	}
	if in.Tags != nil {
		u.Tags = tags
	}
	if in.Timezone != nil {
		tz := *in.Timezone
		u.Timezone = &tz
	}
	if in.ExternalUserID != nil {
		u.ExternalUserID = *in.ExternalUserID
	}
	if in.BlobID != nil {
		u.BlobID = *in.BlobID
	}
	return nil
}

func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return apperr.Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(v) > max {
		return apperr.Invalid(field, "is too long (maximum is %d characters)", max)
	}
	if strings.ContainsRune(v, 0) {
		return apperr.Invalid(field, "must not contain NUL characters")
	}
	return nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// UserNames returns the display names of the users of app among ids, in
// one query per MaxListValues ids; ids that are no user are absent.
func (s *Service) UserNames(ctx context.Context, appID int64, ids []int64) (map[int64]string, error) {
	names := make(map[int64]string, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), MaxListValues)
		values := make([]any, n)
		for i, id := range ids[:n] {
			values[i] = id
		}
		users, _, err := s.Users(ctx, appID, UserQuery{Conds: []UserCond{{Field: "id", Op: "in", Values: values}}, Limit: n})
		if err != nil {
			return nil, err
		}
		for i := range users {
			names[users[i].ID] = users[i].DisplayName()
		}
		ids = ids[n:]
	}
	return names, nil
}
