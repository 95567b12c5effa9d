// Package storetest is the backend-independent conformance suite for the
// store interfaces the domain packages declare. Every backend runs the same
// suite from its own tests, so that SQLite today and PostgreSQL later answer
// every call the same way:
//
//	func TestAuthStore(t *testing.T) {
//		storetest.RunAuth(t, func(t *testing.T) auth.Store {
//			// a fresh, empty store, closed by t.Cleanup
//		})
//	}
//
// The suite pins what callers rely on and what a second backend easily gets
// subtly wrong: absent optional values (NULL, not ""), the typed errors
// (auth.ErrNotFound, *auth.DuplicateError), isolation between apps, every
// filter operator with its edge cases (LIKE wildcards, whole tags, NULLs
// under ne/nin), time at microsecond precision, sorting, paging and totals.
// Every time it writes is fixed (time.Date), so every assertion is exact.
//
// RunChat (chat.go) holds the rules of message storage the chat domain
// builds on: how a taken message id is reported, and that messages of one
// second list in the order they arrived.
//
// It imports only the standard library, internal/auth and internal/chat,
// and is imported only by tests.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

// base is the fixed instant every time in the suite is built from. It has
// no sub-second part, so offsets of a microsecond are the only fractions.
var base = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

const (
	sessionTTL = 2 * time.Hour
	// hash is a well-formed but meaningless password hash: stores keep it
	// as an opaque string.
	hash = "pbkdf2-sha256$4096$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"
)

// RunAuth runs the auth.Store conformance suite. open must return a fresh,
// empty store for each call (each subtest opens its own) and arrange its
// closing with t.Cleanup.
func RunAuth(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Helper()
	t.Run("Apps", func(t *testing.T) { testApps(t, open) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("ListUsers", func(t *testing.T) { testListUsers(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
}

// ---------------------------------------------------------------- apps

func testApps(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Run("CreateSetsID", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "one", "a", "b")
		b := newApp(t, s, "two")
		if a.ID == 0 || b.ID == 0 || a.ID == b.ID {
			t.Fatalf("CreateApp ids = %d, %d; want two distinct non-zero ids", a.ID, b.ID)
		}
	})
	t.Run("ByID", func(t *testing.T) {
		s := open(t)
		want := newApp(t, s, "chat", "color", "topic", "level")
		got, err := s.AppByID(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("AppByID(%d): %v", want.ID, err)
		}
		sameApp(t, want, got)
	})
	t.Run("ByIDWithoutDialogExtensions", func(t *testing.T) {
		s := open(t)
		want := newApp(t, s, "plain")
		got, err := s.AppByID(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("AppByID(%d): %v", want.ID, err)
		}
		sameApp(t, want, got)
	})
	t.Run("ByIDWithGroupSubscribeOff", func(t *testing.T) {
		s := open(t)
		want := &auth.App{Name: "closed", AuthKey: "key-closed", AuthSecret: "secret-closed", NoGroupSubscribe: true, CreatedAt: base}
		if err := s.CreateApp(t.Context(), want); err != nil {
			t.Fatalf("CreateApp: %v", err)
		}
		got, err := s.AppByID(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("AppByID(%d): %v", want.ID, err)
		}
		sameApp(t, want, got)
	})
	t.Run("ByAuthKey", func(t *testing.T) {
		s := open(t)
		newApp(t, s, "first")
		want := newApp(t, s, "second", "x")
		got, err := s.AppByAuthKey(t.Context(), want.AuthKey)
		if err != nil {
			t.Fatalf("AppByAuthKey(%q): %v", want.AuthKey, err)
		}
		sameApp(t, want, got)
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "only")
		if _, err := s.AppByID(t.Context(), a.ID+1000); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("AppByID(unknown) error = %v; want auth.ErrNotFound", err)
		}
		if _, err := s.AppByAuthKey(t.Context(), "no-such-key"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("AppByAuthKey(unknown) error = %v; want auth.ErrNotFound", err)
		}
		if _, err := s.AppByAuthKey(t.Context(), ""); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf(`AppByAuthKey("") error = %v; want auth.ErrNotFound`, err)
		}
	})
	t.Run("DuplicateAuthKeyRefused", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "one")
		b := &auth.App{Name: "two", AuthKey: a.AuthKey, AuthSecret: "other", CreatedAt: base}
		if err := s.CreateApp(t.Context(), b); err == nil {
			t.Fatalf("CreateApp with a taken auth key succeeded (id %d); want an error", b.ID)
		}
		apps, err := s.ListApps(t.Context())
		if err != nil {
			t.Fatalf("ListApps: %v", err)
		}
		if len(apps) != 1 {
			t.Errorf("ListApps after a refused duplicate = %d apps; want 1", len(apps))
		}
	})
	t.Run("ListEmpty", func(t *testing.T) {
		s := open(t)
		apps, err := s.ListApps(t.Context())
		if err != nil {
			t.Fatalf("ListApps: %v", err)
		}
		if len(apps) != 0 {
			t.Errorf("ListApps on an empty store = %d apps; want 0", len(apps))
		}
	})
	t.Run("ListOrdered", func(t *testing.T) {
		s := open(t)
		var want []*auth.App
		for i, name := range []string{"c", "a", "b", "d"} {
			a := &auth.App{Name: name, AuthKey: "key-" + name, AuthSecret: "secret-" + name,
				// Created-at deliberately not in creation order: the list is
				// by id, oldest app first.
				CreatedAt: base.Add(time.Duration(10-i) * time.Minute)}
			if err := s.CreateApp(t.Context(), a); err != nil {
				t.Fatalf("CreateApp(%s): %v", name, err)
			}
			want = append(want, a)
		}
		got, err := s.ListApps(t.Context())
		if err != nil {
			t.Fatalf("ListApps: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("ListApps = %d apps; want %d", len(got), len(want))
		}
		for i := range want {
			sameApp(t, want[i], &got[i])
			if i > 0 && got[i].ID <= got[i-1].ID {
				t.Errorf("ListApps ids not ascending: %d after %d", got[i].ID, got[i-1].ID)
			}
		}
	})
}

// newApp creates an app with credentials derived from name, which must be
// unique within the store.
func newApp(t *testing.T, s auth.Store, name string, exts ...string) *auth.App {
	t.Helper()
	a := &auth.App{
		Name:             name,
		AuthKey:          "key-" + name,
		AuthSecret:       "secret-" + name,
		DialogExtensions: exts,
		CreatedAt:        base.Add(time.Duration(len(name)) * time.Microsecond),
	}
	if err := s.CreateApp(t.Context(), a); err != nil {
		t.Fatalf("CreateApp(%s): %v", name, err)
	}
	if a.ID == 0 {
		t.Fatalf("CreateApp(%s) left ID 0", name)
	}
	return a
}

func sameApp(t *testing.T, want, got *auth.App) {
	t.Helper()
	var diffs []string
	check := func(field string, ok bool, w, g any) {
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s = %v; want %v", field, g, w))
		}
	}
	check("ID", want.ID == got.ID, want.ID, got.ID)
	check("Name", want.Name == got.Name, want.Name, got.Name)
	check("AuthKey", want.AuthKey == got.AuthKey, want.AuthKey, got.AuthKey)
	check("AuthSecret", want.AuthSecret == got.AuthSecret, want.AuthSecret, got.AuthSecret)
	check("DialogExtensions", sameStrings(want.DialogExtensions, got.DialogExtensions), want.DialogExtensions, got.DialogExtensions)
	check("NoGroupSubscribe", want.NoGroupSubscribe == got.NoGroupSubscribe, want.NoGroupSubscribe, got.NoGroupSubscribe)
	check("CreatedAt", want.CreatedAt.Equal(got.CreatedAt), want.CreatedAt, got.CreatedAt)
	if len(diffs) > 0 {
		t.Errorf("app %d (%s):\n  %s", want.ID, want.Name, strings.Join(diffs, "\n  "))
	}
}

// sameStrings compares lists treating nil and empty as equal.
func sameStrings(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return slices.Equal(a, b)
}

// ---------------------------------------------------------------- users

func testUsers(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Run("CreateSetsID", func(t *testing.T) {
		s := open(t)
		app := newApp(t, s, "a")
		u1 := newUser(t, s, &auth.User{AppID: app.ID, Login: "one"})
		u2 := newUser(t, s, &auth.User{AppID: app.ID, Login: "two"})
		if u1.ID == u2.ID {
			t.Errorf("two users got the same id %d", u1.ID)
		}
	})
	t.Run("RoundTripEveryField", func(t *testing.T) {
		s := open(t)
		app := newApp(t, s, "a")
		tz := -330
		want := newUser(t, s, fullUser(app.ID, "alice", &tz))
		got := userByID(t, s, app.ID, want.ID)
		sameUser(t, want, got)
	})
	t.Run("RoundTripMinimal", func(t *testing.T) {
		// Every optional field absent: nil tags and timezone, zero times.
		s := open(t)
		app := newApp(t, s, "a")
		want := newUser(t, s, &auth.User{AppID: app.ID, Email: "only@example.com",
			PasswordHash: hash, CreatedAt: base, UpdatedAt: base})
		got := userByID(t, s, app.ID, want.ID)
		sameUser(t, want, got)
		if got.Timezone != nil {
			t.Errorf("Timezone = %d; want nil (never set)", *got.Timezone)
		}
		if !got.LastRequestAt.IsZero() {
			t.Errorf("LastRequestAt = %v; want the zero time (never requested)", got.LastRequestAt)
		}
		if len(got.Tags) != 0 {
			t.Errorf("Tags = %q; want none", got.Tags)
		}
	})
	t.Run("TimezoneZeroIsNotNil", func(t *testing.T) {
		s := open(t)
		app := newApp(t, s, "a")
		zero := 0
		want := newUser(t, s, &auth.User{AppID: app.ID, Login: "utc", Timezone: &zero})
		got := userByID(t, s, app.ID, want.ID)
		if got.Timezone == nil || *got.Timezone != 0 {
			t.Errorf("Timezone = %v; want a pointer to 0 (set to UTC, not unset)", fmtTZ(got.Timezone))
		}
	})
	t.Run("DuplicateLogin", func(t *testing.T) {
		s := open(t)
		app := newApp(t, s, "a")
		newUser(t, s, &auth.User{AppID: app.ID, Login: "alice", Email: "alice@example.com"})
		err := s.CreateUser(t.Context(), &auth.User{AppID: app.ID, Login: "alice", Email: "other@example.com",
			PasswordHash: hash, CreatedAt: base, UpdatedAt: base})
		wantDuplicate(t, err, "login")
		wantTotal(t, s, app.ID, 1)
	})
	t.Run("DuplicateEmail", func(t *testing.T) {
		s := open(t)
		app := newApp(t, s, "a")
		newUser(t, s, &auth.User{AppID: app.ID, Login: "alice", Email: "alice@example.com"})
		err := s.CreateUser(t.Context(), &auth.User{AppID: app.ID, Login: "alice2", Email: "alice@example.com",
			PasswordHash: hash, CreatedAt: base, UpdatedAt: base})
		wantDuplicate(t, err, "email")
		wantTotal(t, s, app.ID, 1)
	})
	t.Run("AbsentLoginOrEmailIsNotADuplicate", func(t *testing.T) {
		// Optional unique fields are absent (NULL), not "": many users of
		// one app may lack a login, or an email.
		s := open(t)
		app := newApp(t, s, "a")
		newUser(t, s, &auth.User{AppID: app.ID, Email: "one@example.com"})
		newUser(t, s, &auth.User{AppID: app.ID, Email: "two@example.com"})
		newUser(t, s, &auth.User{AppID: app.ID, Login: "three"})
		newUser(t, s, &auth.User{AppID: app.ID, Login: "four"})
		wantTotal(t, s, app.ID, 4)
	})
	t.Run("SameLoginAndEmailInTwoApps", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		ua := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", Email: "alice@example.com"})
		ub := newUser(t, s, &auth.User{AppID: b.ID, Login: "alice", Email: "alice@example.com"})
		if ua.ID == ub.ID {
			t.Errorf("users of two apps share id %d", ua.ID)
		}
	})
	t.Run("UserByIDIsolation", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		ua := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		if got := userByID(t, s, a.ID, ua.ID); got.AppID != a.ID || got.Login != "alice" {
			t.Errorf("UserByID(a, %d) = app %d login %q; want app %d alice", ua.ID, got.AppID, got.Login, a.ID)
		}
		if u, err := s.UserByID(t.Context(), b.ID, ua.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByID(other app, %d) = %v, %v; want auth.ErrNotFound", ua.ID, u, err)
		}
		if u, err := s.UserByID(t.Context(), a.ID, ua.ID+1000); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByID(unknown id) = %v, %v; want auth.ErrNotFound", u, err)
		}
	})
	t.Run("UserByField", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		tz := 60
		ua := newUser(t, s, fullUser(a.ID, "alice", &tz))
		// Another user in the same app with different values, and a twin
		// in another app with the same values: neither may answer.
		newUser(t, s, &auth.User{AppID: a.ID, Login: "bob", Email: "bob@example.com", Phone: "+15550002",
			ExternalUserID: 99, ExternalID: "ext-bob", FacebookID: "fb-bob", TwitterID: "tw-bob"})
		twin := fullUser(b.ID, "alice", &tz)
		ub := newUser(t, s, twin)
		values := map[string]string{
			"login":            ua.Login,
			"email":            ua.Email,
			"facebook_id":      ua.FacebookID,
			"twitter_id":       ua.TwitterID,
			"phone":            ua.Phone,
			"external_user_id": fmt.Sprint(ua.ExternalUserID),
			"external_id":      ua.ExternalID,
		}
		for _, field := range auth.UniqueLookupFields {
			v, ok := values[field]
			if !ok {
				t.Errorf("suite has no value for lookup field %q; extend it", field)
				continue
			}
			got, err := s.UserByField(t.Context(), a.ID, field, v)
			if err != nil {
				t.Errorf("UserByField(a, %s, %q): %v", field, v, err)
				continue
			}
			if got.ID != ua.ID || got.AppID != a.ID {
				t.Errorf("UserByField(a, %s, %q) = user %d of app %d; want %d of app %d", field, v, got.ID, got.AppID, ua.ID, a.ID)
			}
			got, err = s.UserByField(t.Context(), b.ID, field, v)
			if err != nil {
				t.Errorf("UserByField(b, %s, %q): %v", field, v, err)
				continue
			}
			if got.ID != ub.ID || got.AppID != b.ID {
				t.Errorf("UserByField(b, %s, %q) = user %d of app %d; want %d of app %d", field, v, got.ID, got.AppID, ub.ID, b.ID)
			}
		}
		got, err := s.UserByField(t.Context(), a.ID, "login", "alice")
		if err != nil {
			t.Fatalf("UserByField(login): %v", err)
		}
		sameUser(t, ua, got)
	})
	t.Run("UserByFieldIsolationAndNotFound", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", Email: "alice@example.com", ExternalUserID: 7})
		for _, c := range []struct{ field, value string }{
			{"login", "alice"}, {"email", "alice@example.com"}, {"external_user_id", "7"},
		} {
			if u, err := s.UserByField(t.Context(), b.ID, c.field, c.value); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("UserByField(other app, %s, %q) = %v, %v; want auth.ErrNotFound", c.field, c.value, u, err)
			}
		}
		if u, err := s.UserByField(t.Context(), a.ID, "login", "nobody"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByField(login, unknown) = %v, %v; want auth.ErrNotFound", u, err)
		}
		// Absent values are not "": looking up the empty string finds no
		// one, even though users without a phone exist.
		if u, err := s.UserByField(t.Context(), a.ID, "phone", ""); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf(`UserByField(phone, "") = %v, %v; want auth.ErrNotFound`, u, err)
		}
	})
	t.Run("UserByFieldRefusesOtherFields", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", PasswordHash: hash})
		for _, field := range []string{"password_hash", "full_name", "id; DROP TABLE users", ""} {
			if u, err := s.UserByField(t.Context(), a.ID, field, "x"); err == nil {
				t.Errorf("UserByField(%q) = %v, nil; want an error", field, u)
			} else if errors.Is(err, auth.ErrNotFound) {
				t.Errorf("UserByField(%q) error = ErrNotFound; want an error refusing the field", field)
			}
		}
		wantTotal(t, s, a.ID, 1)
	})
	t.Run("UpdateUserWritesEveryField", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", Email: "alice@example.com"})
		tz := 540
		want := fullUser(a.ID, "alice2", &tz)
		want.ID = u.ID
		want.Email = "alice2@example.com"
		want.UpdatedAt = base.Add(48*time.Hour + 7*time.Microsecond)
		if err := s.UpdateUser(t.Context(), want); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		sameUser(t, want, userByID(t, s, a.ID, u.ID))
	})
	t.Run("UpdateUserClearsFields", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		tz := 60
		u := newUser(t, s, fullUser(a.ID, "alice", &tz))
		want := &auth.User{ID: u.ID, AppID: a.ID, Login: "alice", PasswordHash: u.PasswordHash,
			CreatedAt: u.CreatedAt, UpdatedAt: base.Add(time.Hour)}
		if err := s.UpdateUser(t.Context(), want); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		got := userByID(t, s, a.ID, u.ID)
		sameUser(t, want, got)
		if got.Timezone != nil {
			t.Errorf("Timezone after clearing = %d; want nil", *got.Timezone)
		}
		// The cleared email is absent, not "": another user may go without
		// one too, and the old address is free again.
		newUser(t, s, &auth.User{AppID: a.ID, Login: "bob"})
		newUser(t, s, &auth.User{AppID: a.ID, Login: "carol", Email: u.Email})
	})
	t.Run("UpdateUserDuplicates", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", Email: "alice@example.com"})
		bob := newUser(t, s, &auth.User{AppID: a.ID, Login: "bob", Email: "bob@example.com"})

		byLogin := *bob
		byLogin.Login = "alice"
		wantDuplicate(t, s.UpdateUser(t.Context(), &byLogin), "login")

		byEmail := *bob
		byEmail.Email = "alice@example.com"
		wantDuplicate(t, s.UpdateUser(t.Context(), &byEmail), "email")

		sameUser(t, bob, userByID(t, s, a.ID, bob.ID))

		// A user keeping its own login and email is not a duplicate of itself.
		same := *bob
		same.FullName = "Bob"
		if err := s.UpdateUser(t.Context(), &same); err != nil {
			t.Fatalf("UpdateUser keeping own login and email: %v", err)
		}
	})
	t.Run("UpdateUserNotFoundOrOtherApp", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})

		unknown := *u
		unknown.ID = u.ID + 1000
		if err := s.UpdateUser(t.Context(), &unknown); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UpdateUser(unknown id) error = %v; want auth.ErrNotFound", err)
		}
		other := *u
		other.AppID = b.ID
		other.Login = "mallory"
		if err := s.UpdateUser(t.Context(), &other); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UpdateUser(user of another app) error = %v; want auth.ErrNotFound", err)
		}
		sameUser(t, u, userByID(t, s, a.ID, u.ID))
	})
	t.Run("DeleteUserRemovesUserAndSessions", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		alice := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", Email: "alice@example.com"})
		bob := newUser(t, s, &auth.User{AppID: a.ID, Login: "bob"})
		s1 := newSession(t, s, a.ID, alice.ID, "alice-1", base)
		s2 := newSession(t, s, a.ID, alice.ID, "alice-2", base)
		sb := newSession(t, s, a.ID, bob.ID, "bob-1", base)
		sa := newSession(t, s, a.ID, 0, "app-1", base)

		if err := s.DeleteUser(t.Context(), a.ID, alice.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if u, err := s.UserByID(t.Context(), a.ID, alice.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByID after delete = %v, %v; want auth.ErrNotFound", u, err)
		}
		for _, gone := range []*auth.Session{s1, s2} {
			if got, err := s.SessionByTokenHash(t.Context(), gone.TokenHash); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("session %d of the deleted user = %v, %v; want auth.ErrNotFound", gone.ID, got, err)
			}
		}
		for _, kept := range []*auth.Session{sb, sa} {
			if _, err := s.SessionByTokenHash(t.Context(), kept.TokenHash); err != nil {
				t.Errorf("session %d of someone else after delete: %v", kept.ID, err)
			}
		}
		wantTotal(t, s, a.ID, 1)
		// The login and email are free again.
		newUser(t, s, &auth.User{AppID: a.ID, Login: "alice", Email: "alice@example.com"})
	})
	t.Run("DeletedUserIDsAreNeverReused", func(t *testing.T) {
		// A deleted account's id may still be named by member rows,
		// messages, offline copies or a client's cached session: a new
		// user must never get it, even when the deleted user was the
		// newest (REST.md §4.6).
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		seen := map[int64]bool{}
		var newest int64
		for i, app := range []int64{a.ID, a.ID, b.ID, a.ID} {
			u := newUser(t, s, &auth.User{AppID: app, Login: fmt.Sprintf("user%d", i)})
			if seen[u.ID] || u.ID <= newest {
				t.Fatalf("user %d got id %d after ids up to %d", i, u.ID, newest)
			}
			seen[u.ID], newest = true, u.ID
			if err := s.DeleteUser(t.Context(), app, u.ID); err != nil {
				t.Fatalf("DeleteUser(%d): %v", u.ID, err)
			}
		}
		wantTotal(t, s, a.ID, 0)
	})
	t.Run("DeleteUserNotFoundOrOtherApp", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		b := newApp(t, s, "b")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		sess := newSession(t, s, a.ID, u.ID, "alice", base)
		if err := s.DeleteUser(t.Context(), a.ID, u.ID+1000); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("DeleteUser(unknown) error = %v; want auth.ErrNotFound", err)
		}
		if err := s.DeleteUser(t.Context(), b.ID, u.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("DeleteUser(user of another app) error = %v; want auth.ErrNotFound", err)
		}
		userByID(t, s, a.ID, u.ID)
		if _, err := s.SessionByTokenHash(t.Context(), sess.TokenHash); err != nil {
			t.Errorf("session survived a refused delete? %v", err)
		}
		if err := s.DeleteUser(t.Context(), a.ID, u.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if err := s.DeleteUser(t.Context(), a.ID, u.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("second DeleteUser error = %v; want auth.ErrNotFound", err)
		}
	})
}

// fullUser returns a user with every field set to a distinct value.
func fullUser(appID int64, login string, tz *int) *auth.User {
	return &auth.User{
		AppID:          appID,
		Login:          login,
		Email:          login + "@example.com",
		FullName:       "Ünïcode Näme 名前",
		Phone:          "+15550001",
		Website:        "https://" + login + ".example/~home?q=1",
		CustomData:     `{"color":"blue","n":[1,2,3],"quote":"it's"}`,
		ExternalUserID: 4200000000123, // beyond 32 bits
		ExternalID:     "ext-" + login,
		FacebookID:     "fb-" + login,
		TwitterID:      "tw-" + login,
		BlobID:         77,
		Avatar:         "https://cdn.example/" + login + ".png",
		Tags:           []string{"red", "blue green", "ünï"},
		Timezone:       tz,
		PasswordHash:   hash,
		CreatedAt:      base.Add(123456 * time.Microsecond),
		UpdatedAt:      base.Add(time.Hour + 654321*time.Microsecond),
		LastRequestAt:  base.Add(2*time.Hour + time.Microsecond),
	}
}

// newUser creates u, filling a password hash and fixed times when unset.
func newUser(t *testing.T, s auth.Store, u *auth.User) *auth.User {
	t.Helper()
	if u.PasswordHash == "" {
		u.PasswordHash = hash
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = base
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(app %d, login %q, email %q): %v", u.AppID, u.Login, u.Email, err)
	}
	if u.ID == 0 {
		t.Fatalf("CreateUser(%q) left ID 0", u.Login)
	}
	return u
}

func userByID(t *testing.T, s auth.Store, appID, id int64) *auth.User {
	t.Helper()
	u, err := s.UserByID(t.Context(), appID, id)
	if err != nil {
		t.Fatalf("UserByID(%d, %d): %v", appID, id, err)
	}
	return u
}

func wantDuplicate(t *testing.T, err error, field string) {
	t.Helper()
	var dup *auth.DuplicateError
	if !errors.As(err, &dup) {
		t.Fatalf("error = %v (%T); want *auth.DuplicateError{Field: %q}", err, err, field)
	}
	if dup.Field != field {
		t.Errorf("DuplicateError.Field = %q; want %q", dup.Field, field)
	}
}

func wantTotal(t *testing.T, s auth.Store, appID int64, want int) {
	t.Helper()
	_, total, err := s.ListUsers(t.Context(), appID, auth.UserQuery{Limit: 1})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if total != want {
		t.Errorf("app %d has %d users; want %d", appID, total, want)
	}
}

func fmtTZ(tz *int) string {
	if tz == nil {
		return "nil"
	}
	return fmt.Sprintf("&%d", *tz)
}

func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.Equal(b)
}

func sameUser(t *testing.T, want, got *auth.User) {
	t.Helper()
	var diffs []string
	check := func(field string, ok bool, w, g any) {
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s = %#v; want %#v", field, g, w))
		}
	}
	check("ID", want.ID == got.ID, want.ID, got.ID)
	check("AppID", want.AppID == got.AppID, want.AppID, got.AppID)
	check("Login", want.Login == got.Login, want.Login, got.Login)
	check("Email", want.Email == got.Email, want.Email, got.Email)
	check("FullName", want.FullName == got.FullName, want.FullName, got.FullName)
	check("Phone", want.Phone == got.Phone, want.Phone, got.Phone)
	check("Website", want.Website == got.Website, want.Website, got.Website)
	check("CustomData", want.CustomData == got.CustomData, want.CustomData, got.CustomData)
	check("ExternalUserID", want.ExternalUserID == got.ExternalUserID, want.ExternalUserID, got.ExternalUserID)
	check("ExternalID", want.ExternalID == got.ExternalID, want.ExternalID, got.ExternalID)
	check("FacebookID", want.FacebookID == got.FacebookID, want.FacebookID, got.FacebookID)
	check("TwitterID", want.TwitterID == got.TwitterID, want.TwitterID, got.TwitterID)
	check("BlobID", want.BlobID == got.BlobID, want.BlobID, got.BlobID)
	check("Avatar", want.Avatar == got.Avatar, want.Avatar, got.Avatar)
	check("Tags", sameStrings(want.Tags, got.Tags), want.Tags, got.Tags)
	check("Timezone", (want.Timezone == nil) == (got.Timezone == nil) &&
		(want.Timezone == nil || *want.Timezone == *got.Timezone), fmtTZ(want.Timezone), fmtTZ(got.Timezone))
	check("PasswordHash", want.PasswordHash == got.PasswordHash, want.PasswordHash, got.PasswordHash)
	check("CreatedAt", sameTime(want.CreatedAt, got.CreatedAt), want.CreatedAt, got.CreatedAt)
	check("UpdatedAt", sameTime(want.UpdatedAt, got.UpdatedAt), want.UpdatedAt, got.UpdatedAt)
	check("LastRequestAt", sameTime(want.LastRequestAt, got.LastRequestAt), want.LastRequestAt, got.LastRequestAt)
	if len(diffs) > 0 {
		t.Errorf("user %d (%s):\n  %s", want.ID, want.Login, strings.Join(diffs, "\n  "))
	}
}

// ---------------------------------------------------------------- list users

// listFixture is five users of one app, chosen so that every operator
// separates them, plus look-alikes in a second app that must never match.
type listFixture struct {
	s     auth.Store
	app   int64
	other int64
	ids   map[string]int64 // login → id, users of app
}

func newListFixture(t *testing.T, s auth.Store) *listFixture {
	t.Helper()
	a := newApp(t, s, "a")
	b := newApp(t, s, "b")
	f := &listFixture{s: s, app: a.ID, other: b.ID, ids: map[string]int64{}}
	tz := 60
	users := []*auth.User{
		{Login: "alice", Email: "alice@example.com", FullName: "Alice Smith", Phone: "+15550001",
			Website: "https://alice.example", ExternalUserID: 30, ExternalID: "x_1", FacebookID: "fb-alice",
			TwitterID: "tw-alice", BlobID: 100, Tags: []string{"red", "blue"}, Timezone: &tz,
			CreatedAt: base, UpdatedAt: base.Add(time.Hour), LastRequestAt: base.Add(2*time.Hour + time.Microsecond)},
		{Login: "bob", Email: "bob@example.com", FullName: "Bob Stone", ExternalUserID: 10, ExternalID: "xa1",
			BlobID: 200, Tags: []string{"blue"},
			CreatedAt: base.Add(time.Second), UpdatedAt: base.Add(time.Second)},
		{Login: "carol", FullName: "Carol Smith", ExternalUserID: 50, ExternalID: "50%off",
			Tags:      []string{"green", "reddish"},
			CreatedAt: base.Add(2 * time.Second), UpdatedAt: base.Add(30 * time.Minute), LastRequestAt: base.Add(time.Hour)},
		{Login: "alfred", Email: "alfred@example.com", FullName: "Alfred Hitch", ExternalUserID: 20, ExternalID: "50 off",
			CreatedAt: base.Add(3 * time.Second), UpdatedAt: base.Add(4*time.Second + time.Microsecond)},
		{Login: "dave", Email: "dave@example.com", FullName: "Dave", ExternalUserID: 40, Tags: []string{"red"},
			CreatedAt: base.Add(3*time.Second + time.Microsecond), UpdatedAt: base.Add(4 * time.Second)},
	}
	for _, u := range users {
		u.AppID = a.ID
		newUser(t, s, u)
		f.ids[u.Login] = u.ID
	}
	// Look-alikes in another app: same values as alice and dave, and a user
	// that exists only there.
	for _, u := range []*auth.User{
		{Login: "alice", Email: "alice@example.com", FullName: "Alice Smith", ExternalUserID: 30, ExternalID: "x_1",
			Tags: []string{"red", "blue"}, CreatedAt: base, LastRequestAt: base.Add(3 * time.Hour)},
		{Login: "dave", Email: "dave@example.com", FullName: "Dave", ExternalUserID: 40, Tags: []string{"red"},
			CreatedAt: base.Add(3*time.Second + time.Microsecond)},
		{Login: "erin", Email: "erin@example.com", FullName: "Erin Smith", ExternalUserID: 60, Tags: []string{"red", "green"},
			CreatedAt: base.Add(10 * time.Second)},
	} {
		u.AppID = b.ID
		newUser(t, s, u)
	}
	return f
}

// byID orders logins of the fixture's app by id, the default sort.
func (f *listFixture) byID(logins ...string) []string {
	out := slices.Clone(logins)
	sort.Slice(out, func(i, j int) bool { return f.ids[out[i]] < f.ids[out[j]] })
	return out
}

// list runs q in appID and returns the logins in order and the total; every
// returned user must belong to appID.
func (f *listFixture) list(t *testing.T, appID int64, q auth.UserQuery) ([]string, int) {
	t.Helper()
	users, total, err := f.s.ListUsers(t.Context(), appID, q)
	if err != nil {
		t.Fatalf("ListUsers(%+v): %v", q, err)
	}
	logins := []string{}
	for _, u := range users {
		if u.AppID != appID {
			t.Errorf("ListUsers(app %d) returned user %d (%s) of app %d", appID, u.ID, u.Login, u.AppID)
		}
		logins = append(logins, u.Login)
	}
	return logins, total
}

func cond(field, op string, values ...any) auth.UserCond {
	return auth.UserCond{Field: field, Op: op, Values: values}
}

func testListUsers(t *testing.T, s auth.Store) {
	f := newListFixture(t, s)
	all := []string{"alice", "bob", "carol", "alfred", "dave"}
	us := time.Microsecond

	t.Run("Operators", func(t *testing.T) {
		cases := []struct {
			name  string
			conds []auth.UserCond
			want  []string
		}{
			{"none", nil, all},
			// eq
			{"eq string", []auth.UserCond{cond("login", "eq", "alice")}, []string{"alice"}},
			{"eq email", []auth.UserCond{cond("email", "eq", "bob@example.com")}, []string{"bob"}},
			{"eq phone", []auth.UserCond{cond("phone", "eq", "+15550001")}, []string{"alice"}},
			{"eq website", []auth.UserCond{cond("website", "eq", "https://alice.example")}, []string{"alice"}},
			{"eq facebook_id", []auth.UserCond{cond("facebook_id", "eq", "fb-alice")}, []string{"alice"}},
			{"eq twitter_id", []auth.UserCond{cond("twitter_id", "eq", "tw-alice")}, []string{"alice"}},
			{"eq full_name", []auth.UserCond{cond("full_name", "eq", "Carol Smith")}, []string{"carol"}},
			{"eq int", []auth.UserCond{cond("external_user_id", "eq", int64(50))}, []string{"carol"}},
			{"eq blob_id", []auth.UserCond{cond("blob_id", "eq", int64(200))}, []string{"bob"}},
			{"eq id", []auth.UserCond{cond("id", "eq", f.ids["dave"])}, []string{"dave"}},
			{"eq time", []auth.UserCond{cond("created_at", "eq", base.Add(2*time.Second))}, []string{"carol"}},
			{"eq time microsecond", []auth.UserCond{cond("last_request_at", "eq", base.Add(2*time.Hour+us))}, []string{"alice"}},
			{"eq updated_at", []auth.UserCond{cond("updated_at", "eq", base.Add(30*time.Minute))}, []string{"carol"}},
			{"eq no match", []auth.UserCond{cond("login", "eq", "zed")}, nil},
			// ne: an absent value is "not equal"
			{"ne string", []auth.UserCond{cond("login", "ne", "alice")}, []string{"bob", "carol", "alfred", "dave"}},
			{"ne absent counts", []auth.UserCond{cond("email", "ne", "alice@example.com")}, []string{"bob", "carol", "alfred", "dave"}},
			{"ne int", []auth.UserCond{cond("external_user_id", "ne", int64(30))}, []string{"bob", "carol", "alfred", "dave"}},
			{"ne time absent counts", []auth.UserCond{cond("last_request_at", "ne", base.Add(time.Hour))}, []string{"alice", "bob", "alfred", "dave"}},
			// in / nin
			{"in string", []auth.UserCond{cond("login", "in", "alice", "carol", "zed")}, []string{"alice", "carol"}},
			{"in int", []auth.UserCond{cond("external_user_id", "in", int64(10), int64(20))}, []string{"bob", "alfred"}},
			{"in time", []auth.UserCond{cond("created_at", "in", base, base.Add(3*time.Second+us))}, []string{"alice", "dave"}},
			{"in one", []auth.UserCond{cond("email", "in", "dave@example.com")}, []string{"dave"}},
			{"nin string", []auth.UserCond{cond("login", "nin", "alice", "carol")}, []string{"bob", "alfred", "dave"}},
			{"nin absent counts", []auth.UserCond{cond("email", "nin", "alice@example.com", "bob@example.com")}, []string{"carol", "alfred", "dave"}},
			{"nin int", []auth.UserCond{cond("external_user_id", "nin", int64(10), int64(50))}, []string{"alice", "alfred", "dave"}},
			// gt lt gte lte on ints
			{"gt int", []auth.UserCond{cond("external_user_id", "gt", int64(30))}, []string{"carol", "dave"}},
			{"lt int", []auth.UserCond{cond("external_user_id", "lt", int64(30))}, []string{"bob", "alfred"}},
			{"gte int", []auth.UserCond{cond("external_user_id", "gte", int64(30))}, []string{"alice", "carol", "dave"}},
			{"lte int", []auth.UserCond{cond("external_user_id", "lte", int64(30))}, []string{"alice", "bob", "alfred"}},
			{"gt id", []auth.UserCond{cond("id", "gt", f.ids["carol"])}, f.idsAfter("carol")},
			// gt lt gte lte on times: alfred and dave are one microsecond apart
			{"gt time", []auth.UserCond{cond("created_at", "gt", base.Add(3*time.Second))}, []string{"dave"}},
			{"lt time", []auth.UserCond{cond("created_at", "lt", base.Add(3*time.Second+us))}, []string{"alice", "bob", "carol", "alfred"}},
			{"gte time", []auth.UserCond{cond("created_at", "gte", base.Add(3*time.Second+us))}, []string{"dave"}},
			{"lte time", []auth.UserCond{cond("created_at", "lte", base.Add(3*time.Second))}, []string{"alice", "bob", "carol", "alfred"}},
			// A nanosecond below a microsecond is not seen: times compare at
			// microsecond precision, as stored.
			{"gte time sub-microsecond", []auth.UserCond{cond("created_at", "gte", base.Add(3*time.Second+time.Nanosecond))}, []string{"alfred", "dave"}},
			{"eq time sub-microsecond", []auth.UserCond{cond("created_at", "eq", base.Add(3*time.Second+time.Nanosecond))}, []string{"alfred"}},
			// absent times never compare
			{"gt time absent never", []auth.UserCond{cond("last_request_at", "gt", base.Add(time.Hour))}, []string{"alice"}},
			{"lte time absent never", []auth.UserCond{cond("last_request_at", "lte", base.Add(2*time.Hour))}, []string{"carol"}},
			{"gt updated_at microsecond", []auth.UserCond{cond("updated_at", "gt", base.Add(4*time.Second))}, []string{"alice", "carol", "alfred"}},
			// between is inclusive at both ends
			{"between int", []auth.UserCond{cond("external_user_id", "between", int64(20), int64(40))}, []string{"alice", "alfred", "dave"}},
			{"between time", []auth.UserCond{cond("created_at", "between", base.Add(time.Second), base.Add(3*time.Second))}, []string{"bob", "carol", "alfred"}},
			{"between time microsecond", []auth.UserCond{cond("created_at", "between", base.Add(3*time.Second+us), base.Add(time.Minute))}, []string{"dave"}},
			{"between string", []auth.UserCond{cond("login", "between", "b", "d")}, []string{"bob", "carol"}},
			// start_with and contains match literally: % and _ are not wildcards
			{"start_with", []auth.UserCond{cond("login", "start_with", "al")}, []string{"alice", "alfred"}},
			{"start_with full", []auth.UserCond{cond("full_name", "start_with", "Alice")}, []string{"alice"}},
			{"start_with underscore literal", []auth.UserCond{cond("external_id", "start_with", "x_")}, []string{"alice"}},
			{"start_with percent literal", []auth.UserCond{cond("external_id", "start_with", "50%")}, []string{"carol"}},
			{"start_with no match", []auth.UserCond{cond("login", "start_with", "lice")}, nil},
			{"contains", []auth.UserCond{cond("full_name", "contains", "Smith")}, []string{"alice", "carol"}},
			{"contains middle", []auth.UserCond{cond("login", "contains", "o")}, []string{"bob", "carol"}},
			{"contains percent literal", []auth.UserCond{cond("external_id", "contains", "0%")}, []string{"carol"}},
			{"contains underscore literal", []auth.UserCond{cond("external_id", "contains", "_")}, []string{"alice"}},
			// tags: eq is "has the tag", in is "has any", nin is "has none";
			// tags match whole, never as a substring
			{"tag eq", []auth.UserCond{cond("user_tags", "eq", "red")}, []string{"alice", "dave"}},
			{"tag eq whole only", []auth.UserCond{cond("user_tags", "eq", "re")}, nil},
			{"tag eq second", []auth.UserCond{cond("user_tags", "eq", "reddish")}, []string{"carol"}},
			{"tag in", []auth.UserCond{cond("user_tags", "in", "green", "blue")}, []string{"alice", "bob", "carol"}},
			{"tag in one", []auth.UserCond{cond("user_tags", "in", "red")}, []string{"alice", "dave"}},
			{"tag nin", []auth.UserCond{cond("user_tags", "nin", "red")}, []string{"bob", "carol", "alfred"}},
			{"tag nin many", []auth.UserCond{cond("user_tags", "nin", "red", "blue")}, []string{"carol", "alfred"}},
			{"tag wildcard literal", []auth.UserCond{cond("user_tags", "in", "re%", "_lue")}, nil},
			// conditions combine with AND
			{"and", []auth.UserCond{cond("user_tags", "in", "red"), cond("created_at", "gt", base)}, []string{"dave"}},
			{"and prefix", []auth.UserCond{cond("login", "start_with", "al"), cond("external_user_id", "lt", int64(30))}, []string{"alfred"}},
			{"and same field", []auth.UserCond{cond("external_user_id", "gt", int64(10)), cond("external_user_id", "lt", int64(50))}, []string{"alice", "alfred", "dave"}},
			{"and empty", []auth.UserCond{cond("login", "eq", "alice"), cond("login", "eq", "bob")}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				want := f.byID(c.want...)
				got, total := f.list(t, f.app, auth.UserQuery{Conds: c.conds, Limit: 100})
				if !slices.Equal(got, want) {
					t.Errorf("ListUsers(%v) = %q; want %q", c.conds, got, want)
				}
				if total != len(want) {
					t.Errorf("ListUsers(%v) total = %d; want %d", c.conds, total, len(want))
				}
			})
		}
	})

	t.Run("Sort", func(t *testing.T) {
		cases := []struct {
			sort string
			desc bool
			want []string
		}{
			{"", false, f.byID(all...)},
			{"", true, reversed(f.byID(all...))},
			{"id", false, f.byID(all...)},
			{"id", true, reversed(f.byID(all...))},
			{"login", false, []string{"alfred", "alice", "bob", "carol", "dave"}},
			{"login", true, []string{"dave", "carol", "bob", "alice", "alfred"}},
			{"full_name", false, []string{"alfred", "alice", "bob", "carol", "dave"}},
			{"external_user_id", false, []string{"bob", "alfred", "alice", "dave", "carol"}},
			{"external_user_id", true, []string{"carol", "dave", "alice", "alfred", "bob"}},
			{"created_at", true, []string{"dave", "alfred", "carol", "bob", "alice"}},
			// dave and alfred are a microsecond apart
			{"updated_at", false, []string{"bob", "dave", "alfred", "carol", "alice"}},
			{"updated_at", true, []string{"alice", "carol", "alfred", "dave", "bob"}},
		}
		for _, c := range cases {
			dir := "asc"
			if c.desc {
				dir = "desc"
			}
			t.Run(c.sort+" "+dir, func(t *testing.T) {
				got, total := f.list(t, f.app, auth.UserQuery{Sort: c.sort, Desc: c.desc, Limit: 100})
				if !slices.Equal(got, c.want) {
					t.Errorf("sorted by %q %s = %q; want %q", c.sort, dir, got, c.want)
				}
				if total != 5 {
					t.Errorf("total = %d; want 5", total)
				}
			})
		}
	})

	t.Run("Paging", func(t *testing.T) {
		cases := []struct {
			name      string
			q         auth.UserQuery
			want      []string
			wantTotal int
		}{
			{"first page", auth.UserQuery{Sort: "login", Limit: 2}, []string{"alfred", "alice"}, 5},
			{"second page", auth.UserQuery{Sort: "login", Limit: 2, Offset: 2}, []string{"bob", "carol"}, 5},
			{"last partial page", auth.UserQuery{Sort: "login", Limit: 2, Offset: 4}, []string{"dave"}, 5},
			{"past the end", auth.UserQuery{Sort: "login", Limit: 2, Offset: 5}, nil, 5},
			{"far past the end", auth.UserQuery{Sort: "login", Limit: 10, Offset: 1000}, nil, 5},
			{"desc window", auth.UserQuery{Sort: "login", Desc: true, Limit: 3, Offset: 1}, []string{"carol", "bob", "alice"}, 5},
			{"filtered page", auth.UserQuery{Conds: []auth.UserCond{cond("user_tags", "in", "red", "blue")}, Sort: "login", Limit: 1, Offset: 1}, []string{"bob"}, 3},
			{"filtered past the end", auth.UserQuery{Conds: []auth.UserCond{cond("user_tags", "eq", "red")}, Limit: 5, Offset: 2}, nil, 2},
			{"limit larger than matches", auth.UserQuery{Sort: "login", Limit: 50}, []string{"alfred", "alice", "bob", "carol", "dave"}, 5},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, total := f.list(t, f.app, c.q)
				want := c.want
				if want == nil {
					want = []string{}
				}
				if !slices.Equal(got, want) {
					t.Errorf("ListUsers(%+v) = %q; want %q", c.q, got, want)
				}
				if total != c.wantTotal {
					t.Errorf("ListUsers(%+v) total = %d; want %d (independent of paging)", c.q, total, c.wantTotal)
				}
			})
		}
	})

	t.Run("OtherAppNeverMatches", func(t *testing.T) {
		// erin exists only in the other app; alice's twin there has the same
		// values as alice here.
		cases := []struct {
			app   int64
			conds []auth.UserCond
			want  []string
		}{
			{f.app, []auth.UserCond{cond("login", "eq", "erin")}, nil},
			{f.app, []auth.UserCond{cond("user_tags", "eq", "red")}, []string{"alice", "dave"}},
			{f.app, []auth.UserCond{cond("full_name", "contains", "Smith")}, []string{"alice", "carol"}},
			{f.app, []auth.UserCond{cond("external_user_id", "gte", int64(60))}, nil},
			{f.app, []auth.UserCond{cond("last_request_at", "gt", base.Add(2*time.Hour+us))}, nil},
			{f.other, []auth.UserCond{cond("login", "in", "bob", "carol", "alfred")}, nil},
			{f.other, []auth.UserCond{cond("login", "eq", "alice")}, []string{"alice"}},
			{f.other, nil, []string{"alice", "dave", "erin"}},
			{f.other + f.app + 1000, nil, nil},
		}
		for i, c := range cases {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				got, total := f.list(t, c.app, auth.UserQuery{Conds: c.conds, Limit: 100})
				want := c.want
				if c.app == f.app {
					want = f.byID(want...)
				}
				if want == nil {
					want = []string{}
				}
				if !slices.Equal(got, want) {
					t.Errorf("ListUsers(app %d, %v) = %q; want %q", c.app, c.conds, got, want)
				}
				if total != len(want) {
					t.Errorf("ListUsers(app %d, %v) total = %d; want %d", c.app, c.conds, total, len(want))
				}
			})
		}
	})

	t.Run("ReturnsEveryField", func(t *testing.T) {
		users, _, err := s.ListUsers(t.Context(), f.app, auth.UserQuery{Conds: []auth.UserCond{cond("login", "eq", "alice")}, Limit: 10})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if len(users) != 1 {
			t.Fatalf("ListUsers(login eq alice) = %d users; want 1", len(users))
		}
		sameUser(t, userByID(t, s, f.app, f.ids["alice"]), &users[0])
	})

	t.Run("RefusesUnknownFieldsAndOperators", func(t *testing.T) {
		for _, q := range []auth.UserQuery{
			{Conds: []auth.UserCond{cond("password_hash", "eq", "x")}, Limit: 10},
			{Conds: []auth.UserCond{cond("login", "like", "x")}, Limit: 10},
			{Conds: []auth.UserCond{cond("login; DROP TABLE users", "eq", "x")}, Limit: 10},
			{Sort: "password_hash", Limit: 10},
			{Sort: "id; DROP TABLE users", Limit: 10},
		} {
			if users, _, err := s.ListUsers(t.Context(), f.app, q); err == nil {
				t.Errorf("ListUsers(%+v) = %d users, nil error; want an error", q, len(users))
			}
		}
		wantTotal(t, s, f.app, 5)
	})
}

// idsAfter returns the fixture's logins whose id is greater than login's.
func (f *listFixture) idsAfter(login string) []string {
	var out []string
	for l, id := range f.ids {
		if id > f.ids[login] {
			out = append(out, l)
		}
	}
	return out
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// ---------------------------------------------------------------- sessions

// newSession creates a session whose token is token, started at at.
func newSession(t *testing.T, s auth.Store, appID, userID int64, token string, at time.Time) *auth.Session {
	t.Helper()
	sess := &auth.Session{AppID: appID, UserID: userID, Token: token, TokenHash: auth.HashToken(token),
		CreatedAt: at, UpdatedAt: at, ExpiresAt: at.Add(sessionTTL)}
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(%q): %v", token, err)
	}
	if sess.ID == 0 {
		t.Fatalf("CreateSession(%q) left ID 0", token)
	}
	return sess
}

func sessionByToken(t *testing.T, s auth.Store, token string) *auth.Session {
	t.Helper()
	got, err := s.SessionByTokenHash(t.Context(), auth.HashToken(token))
	if err != nil {
		t.Fatalf("SessionByTokenHash(%q): %v", token, err)
	}
	return got
}

func sameSession(t *testing.T, want, got *auth.Session) {
	t.Helper()
	var diffs []string
	check := func(field string, ok bool, w, g any) {
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s = %v; want %v", field, g, w))
		}
	}
	check("ID", want.ID == got.ID, want.ID, got.ID)
	check("AppID", want.AppID == got.AppID, want.AppID, got.AppID)
	check("UserID", want.UserID == got.UserID, want.UserID, got.UserID)
	check("TokenHash", string(want.TokenHash) == string(got.TokenHash), want.TokenHash, got.TokenHash)
	check("CreatedAt", want.CreatedAt.Equal(got.CreatedAt), want.CreatedAt, got.CreatedAt)
	check("UpdatedAt", want.UpdatedAt.Equal(got.UpdatedAt), want.UpdatedAt, got.UpdatedAt)
	check("ExpiresAt", want.ExpiresAt.Equal(got.ExpiresAt), want.ExpiresAt, got.ExpiresAt)
	if got.Token != "" {
		diffs = append(diffs, fmt.Sprintf("Token = %q; want \"\" (tokens are never stored)", got.Token))
	}
	if len(diffs) > 0 {
		t.Errorf("session %d:\n  %s", want.ID, strings.Join(diffs, "\n  "))
	}
}

func lastRequest(t *testing.T, s auth.Store, appID, userID int64) time.Time {
	t.Helper()
	return userByID(t, s, appID, userID).LastRequestAt
}

func testSessions(t *testing.T, open func(t *testing.T) auth.Store) {
	t.Run("CreateAndByTokenHash", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		at := base.Add(5*time.Minute + 3*time.Microsecond)
		appSess := newSession(t, s, a.ID, 0, "app-token", at)
		userSess := newSession(t, s, a.ID, u.ID, "user-token", at)
		if appSess.ID == userSess.ID {
			t.Fatalf("two sessions share id %d", appSess.ID)
		}
		sameSession(t, appSess, sessionByToken(t, s, "app-token"))
		sameSession(t, userSess, sessionByToken(t, s, "user-token"))
	})
	t.Run("CreateRecordsLastRequest", func(t *testing.T) {
		// Starting a user session is the user's latest request (the service
		// reports it as last_request_at right away).
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		at := base.Add(time.Hour + 9*time.Microsecond)
		newSession(t, s, a.ID, u.ID, "t", at)
		if got := lastRequest(t, s, a.ID, u.ID); !got.Equal(at) {
			t.Errorf("LastRequestAt after CreateSession = %v; want %v", got, at)
		}
	})
	t.Run("ByTokenHashNotFound", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		newSession(t, s, a.ID, 0, "known", base)
		if got, err := s.SessionByTokenHash(t.Context(), auth.HashToken("unknown")); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("SessionByTokenHash(unknown) = %v, %v; want auth.ErrNotFound", got, err)
		}
		if got, err := s.SessionByTokenHash(t.Context(), nil); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("SessionByTokenHash(nil) = %v, %v; want auth.ErrNotFound", got, err)
		}
	})
	t.Run("DuplicateTokenHashRefused", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		newSession(t, s, a.ID, 0, "same", base)
		dup := &auth.Session{AppID: a.ID, TokenHash: auth.HashToken("same"), CreatedAt: base, UpdatedAt: base, ExpiresAt: base.Add(sessionTTL)}
		if err := s.CreateSession(t.Context(), dup); err == nil {
			t.Errorf("CreateSession with a taken token hash succeeded (id %d); want an error", dup.ID)
		}
	})
	t.Run("TouchSession", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		other := newUser(t, s, &auth.User{AppID: a.ID, Login: "bob"})
		t0 := base
		sess := newSession(t, s, a.ID, u.ID, "alice", t0)
		bobSess := newSession(t, s, a.ID, other.ID, "bob", t0)

		t1 := base.Add(90*time.Minute + 11*time.Microsecond)
		touched := *sess
		touched.UpdatedAt, touched.ExpiresAt = t1, t1.Add(sessionTTL)
		if err := s.TouchSession(t.Context(), &touched); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		want := *sess
		want.UpdatedAt, want.ExpiresAt = t1, t1.Add(sessionTTL)
		sameSession(t, &want, sessionByToken(t, s, "alice"))
		if got := lastRequest(t, s, a.ID, u.ID); !got.Equal(t1) {
			t.Errorf("LastRequestAt after TouchSession = %v; want %v", got, t1)
		}
		// Nobody else moved.
		sameSession(t, bobSess, sessionByToken(t, s, "bob"))
		if got := lastRequest(t, s, a.ID, other.ID); !got.Equal(t0) {
			t.Errorf("other user's LastRequestAt = %v; want %v", got, t0)
		}
	})
	t.Run("TouchAppSession", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		sess := newSession(t, s, a.ID, 0, "app", base)
		t1 := base.Add(time.Hour)
		sess.UpdatedAt, sess.ExpiresAt = t1, t1.Add(sessionTTL)
		if err := s.TouchSession(t.Context(), sess); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		sameSession(t, sess, sessionByToken(t, s, "app"))
		if got := lastRequest(t, s, a.ID, u.ID); !got.IsZero() {
			t.Errorf("touching an app session set a user's LastRequestAt to %v", got)
		}
	})
	t.Run("SetSessionUserBindAndUnbind", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		sess := newSession(t, s, a.ID, 0, "tok", base)

		t1 := base.Add(10*time.Minute + time.Microsecond)
		sess.UserID, sess.UpdatedAt, sess.ExpiresAt = u.ID, t1, t1.Add(sessionTTL)
		if err := s.SetSessionUser(t.Context(), sess); err != nil {
			t.Fatalf("SetSessionUser(bind): %v", err)
		}
		sameSession(t, sess, sessionByToken(t, s, "tok"))
		if got := lastRequest(t, s, a.ID, u.ID); !got.Equal(t1) {
			t.Errorf("LastRequestAt after binding = %v; want %v", got, t1)
		}

		sess.UserID = 0
		if err := s.SetSessionUser(t.Context(), sess); err != nil {
			t.Fatalf("SetSessionUser(unbind): %v", err)
		}
		got := sessionByToken(t, s, "tok")
		sameSession(t, sess, got)
		if got.UserID != 0 {
			t.Errorf("UserID after unbinding = %d; want 0", got.UserID)
		}
		// The user outlives the unbinding.
		userByID(t, s, a.ID, u.ID)

		// Deleting the user afterwards does not take the unbound session.
		if err := s.DeleteUser(t.Context(), a.ID, u.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		sessionByToken(t, s, "tok")
	})
	t.Run("SetSessionUserNotFound", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		sess := newSession(t, s, a.ID, 0, "tok", base)
		ghost := &auth.Session{ID: sess.ID + 1000, AppID: a.ID, UserID: u.ID, UpdatedAt: base.Add(time.Hour), ExpiresAt: base.Add(3 * time.Hour)}
		if err := s.SetSessionUser(t.Context(), ghost); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("SetSessionUser(unknown session) error = %v; want auth.ErrNotFound", err)
		}
		if got := lastRequest(t, s, a.ID, u.ID); !got.IsZero() {
			t.Errorf("a refused SetSessionUser set LastRequestAt to %v", got)
		}
	})
	t.Run("DeleteUserSessionsExceptOne", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		alice := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		bob := newUser(t, s, &auth.User{AppID: a.ID, Login: "bob"})
		keep := newSession(t, s, a.ID, alice.ID, "keep", base)
		g1 := newSession(t, s, a.ID, alice.ID, "gone-1", base)
		g2 := newSession(t, s, a.ID, alice.ID, "gone-2", base)
		other := newSession(t, s, a.ID, bob.ID, "bob", base)
		app := newSession(t, s, a.ID, 0, "app", base)
		hashes, err := s.DeleteUserSessions(t.Context(), a.ID, alice.ID, keep.ID)
		if err != nil {
			t.Fatalf("DeleteUserSessions: %v", err)
		}
		got := []string{}
		for _, h := range hashes {
			got = append(got, string(h))
		}
		want := []string{string(g1.TokenHash), string(g2.TokenHash)}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("DeleteUserSessions returned %d hashes; want the 2 of the ended sessions", len(hashes))
		}
		for _, gone := range []*auth.Session{g1, g2} {
			if _, err := s.SessionByTokenHash(t.Context(), gone.TokenHash); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("session %d survived: %v", gone.ID, err)
			}
		}
		for _, kept := range []*auth.Session{keep, other, app} {
			if _, err := s.SessionByTokenHash(t.Context(), kept.TokenHash); err != nil {
				t.Errorf("session %d was ended too: %v", kept.ID, err)
			}
		}
		// A user of another app is not touched, and nothing left is fine.
		if hs, err := s.DeleteUserSessions(t.Context(), a.ID+1000, bob.ID, 0); err != nil || len(hs) != 0 {
			t.Errorf("DeleteUserSessions(other app) = %d hashes, %v; want none", len(hs), err)
		}
		sessionByToken(t, s, "bob")
	})
	t.Run("DeleteSession", func(t *testing.T) {
		s := open(t)
		a := newApp(t, s, "a")
		u := newUser(t, s, &auth.User{AppID: a.ID, Login: "alice"})
		gone := newSession(t, s, a.ID, u.ID, "gone", base)
		kept := newSession(t, s, a.ID, u.ID, "kept", base)
		if err := s.DeleteSession(t.Context(), gone.ID); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		if got, err := s.SessionByTokenHash(t.Context(), gone.TokenHash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("SessionByTokenHash after delete = %v, %v; want auth.ErrNotFound", got, err)
		}
		sameSession(t, kept, sessionByToken(t, s, "kept"))
		userByID(t, s, a.ID, u.ID) // the user stays
	})
}
