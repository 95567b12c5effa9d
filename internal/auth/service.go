package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
)

// Config holds the knobs of the auth service.
type Config struct {
	// SessionTTL is how long a session lives after its last use.
	SessionTTL time.Duration
	// PasswordIterations is the PBKDF2 iteration count for new hashes.
	PasswordIterations int
	// LoginFreeFailures is how many logins of one account from one address
	// may fail in a row before the next must wait (1 s, doubling to
	// LoginBackoffMax); an account from all addresses together gets
	// accountFreeFactor times as many. See guard.go.
	LoginFreeFailures int
	// LoginBackoffMax caps that wait.
	LoginBackoffMax time.Duration
	// LoginFailuresPerIP is how many failed logins one address may have
	// a minute (as many at once), over all accounts.
	LoginFailuresPerIP int
	// AppSessionsPerIP is how many application sessions one address may
	// create a minute (as many at once).
	AppSessionsPerIP int
}

// Defaults of the guessing limits (the command line's defaults too).
const (
	DefaultLoginFreeFailures  = 5
	DefaultLoginBackoffMax    = 15 * time.Minute
	DefaultLoginFailuresPerIP = 20
	DefaultAppSessionsPerIP   = 1000
)

// Service implements sessions, users and apps on top of a Store.
type Service struct {
	store  Store
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	touch  time.Duration
	guard  *guard
	events SessionEvents

	// dummy is a hash of the configured cost, verified against when the
	// user does not exist so that the answer takes as long as for one who
	// does (made once, at start: a few milliseconds).
	dummy string
	// onVerify, when set (tests, through export_test.go), sees every hash
	// a password is verified against.
	onVerify atomic.Pointer[func(encoded string)]
}

// NewService returns a Service over store. now may be nil (time.Now).
func NewService(store Store, cfg Config, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 2 * time.Hour
	}
	if cfg.PasswordIterations == 0 {
		cfg.PasswordIterations = DefaultPasswordIterations
	}
	if cfg.LoginFreeFailures <= 0 {
		cfg.LoginFreeFailures = DefaultLoginFreeFailures
	}
	if cfg.LoginBackoffMax <= 0 {
		cfg.LoginBackoffMax = DefaultLoginBackoffMax
	}
	if cfg.LoginFailuresPerIP <= 0 {
		cfg.LoginFailuresPerIP = DefaultLoginFailuresPerIP
	}
	if cfg.AppSessionsPerIP <= 0 {
		cfg.AppSessionsPerIP = DefaultAppSessionsPerIP
	}
	touch := min(sessionTouchEvery, cfg.SessionTTL/10)
	return &Service{store: store, cfg: cfg, log: log, now: now, touch: touch, events: noSessionEvents{},
		guard: newGuard(cfg, log, now), dummy: dummyHash(cfg.PasswordIterations)}
}

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand failed: %v", err)) // never happens on supported platforms
	}
	return hex.EncodeToString(b)
}

// tokenBytes is a session token's size: 160 random bits, 40 hex characters.
const tokenBytes = 20

// tokenShaped reports whether s looks like a session token (40 lowercase
// hex characters), for the guessing guard.
func tokenShaped(s string) bool {
	if len(s) != 2*tokenBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// HashToken is the stored identity of a session token: a leaked database
// does not reveal live tokens.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// MaxDialogExtensions is how many dialog `extensions` fields an app may allow.
const MaxDialogExtensions = 3

// CheckApp validates an application's name and dialog extensions fields;
// the command line calls it before it touches the store.
func CheckApp(name string, dialogExtensions []string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return apperr.Invalid("name", "must be 1 to 100 characters")
	}
	if len(dialogExtensions) > MaxDialogExtensions {
		return apperr.Invalid("dialog-extensions", "allows at most %d fields", MaxDialogExtensions)
	}
	seen := map[string]bool{}
	for _, f := range dialogExtensions {
		if !isFieldName(f) {
			return apperr.Invalid("dialog-extensions", "field %q must be 1 to 64 letters, digits or underscores", f)
		}
		if seen[f] {
			return apperr.Invalid("dialog-extensions", "field %q is listed twice", f)
		}
		seen[f] = true
	}
	return nil
}

// CreateApp creates an application with fresh credentials and the default
// settings.
func (s *Service) CreateApp(ctx context.Context, name string, dialogExtensions []string) (*App, error) {
	return s.CreateAppWith(ctx, AppSettings{Name: name, DialogExtensions: dialogExtensions})
}

// AppSettings is what the operator chooses for a new application.
type AppSettings struct {
	Name             string
	DialogExtensions []string
	NoGroupSubscribe bool // see App
}

// CreateAppWith creates an application with fresh credentials.
func (s *Service) CreateAppWith(ctx context.Context, set AppSettings) (*App, error) {
	if err := CheckApp(set.Name, set.DialogExtensions); err != nil {
		return nil, err
	}
	app := &App{
		Name:             strings.TrimSpace(set.Name),
		AuthKey:          randomHex(16),
		AuthSecret:       randomHex(16),
		DialogExtensions: set.DialogExtensions,
		NoGroupSubscribe: set.NoGroupSubscribe,
		CreatedAt:        s.now().UTC(),
	}
	if err := s.store.CreateApp(ctx, app); err != nil {
		return nil, fmt.Errorf("create app: %w", err)
	}
	return app, nil
}

func isFieldName(f string) bool {
	if f == "" || len(f) > 64 {
		return false
	}
	for _, c := range f {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ListApps returns every app, oldest first.
func (s *Service) ListApps(ctx context.Context) ([]App, error) { return s.store.ListApps(ctx) }

// App returns the app with id.
func (s *Service) App(ctx context.Context, id int64) (*App, error) {
	app, err := s.store.AppByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.NotFound("Application")
	}
	return app, err
}

// BlobLimits are an app's blob limits as the operator set them (zero
// and empty where not set).
func (s *Service) BlobLimits(ctx context.Context, appID int64) (int64, []string, error) {
	app, err := s.App(ctx, appID)
	if err != nil {
		return 0, nil, err
	}
	return app.BlobMaxSize, app.BlobContentTypes, nil
}

// SetBlobLimits changes an app's blob limits; a nil argument keeps the
// current value. The caller validates the content types (internal/blob).
func (s *Service) SetBlobLimits(ctx context.Context, appID int64, maxSize *int64, contentTypes *[]string) (*App, error) {
	app, err := s.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	if maxSize != nil {
		if *maxSize < 0 {
			return nil, apperr.Invalid("blob-max-size", "must not be negative")
		}
		app.BlobMaxSize = *maxSize
	}
	if contentTypes != nil {
		app.BlobContentTypes = *contentTypes
	}
	if err := s.store.SetAppBlobLimits(ctx, app); err != nil {
		return nil, err
	}
	return app, nil
}

// Credentials identify a user by login or email, with a password.
type Credentials struct {
	Login    string
	Email    string
	Password string
}

// SessionRequest is POST /session: the app's credentials and, for a user
// session, the user's.
type SessionRequest struct {
	AppID   int64
	AuthKey string
	User    *Credentials // nil for an application session
	// Addr is the client's address (host or host:port), what the limits
	// on guessing and on session creation count by.
	Addr string
}

// CreateSession checks the app's credentials (and the user's) and starts a
// session. The returned Session carries the token, the only time it exists
// outside the client.
func (s *Service) CreateSession(ctx context.Context, req SessionRequest) (*Session, *User, error) {
	if req.User == nil {
		if err := s.guard.appSession(ctx, req.AppID, req.Addr); err != nil {
			return nil, nil, err
		}
	}
	app, err := s.store.AppByID(ctx, req.AppID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, apperr.Unauthorized()
	}
	if err != nil {
		return nil, nil, err
	}
	if !constantTimeEqual(app.AuthKey, req.AuthKey) {
		return nil, nil, apperr.Unauthorized()
	}
	var user *User
	if req.User != nil {
		if user, err = s.checkCredentials(ctx, app.ID, *req.User, req.Addr); err != nil {
			return nil, nil, err
		}
	}
	now := s.now().UTC()
	token := randomHex(tokenBytes)
	sess := &Session{AppID: app.ID, Token: token, TokenHash: HashToken(token),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if user != nil {
		sess.UserID = user.ID
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, nil, fmt.Errorf("create session: %w", err)
	}
	if user != nil {
		user.LastRequestAt = now
	}
	return sess, user, nil
}

// unknownLogin is the answer to a login or email no user of the app has.
func unknownLogin() *apperr.Error {
	return &apperr.Error{Kind: apperr.KindNotFound, Message: "Not found"}
}

func constantTimeEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return ha == hb
}

// checkCredentials returns the user whose login or email and password match;
// addr is the client's, for the guessing limits. A login or email no user
// has is 404 and a wrong password 401 (REST.md §1.8): ConnectyCube's own
// clients (@connectycube/react's login with force, the chat widget's
// userId login) sign the user up only on 404. That tells a caller which
// logins exist, as the platform does; what still stands against guessing
// is that an unknown login counts toward the guard's limits like a wrong
// password and costs the same hash, so neither the limits nor the timing
// of the two answers differ.
func (s *Service) checkCredentials(ctx context.Context, appID int64, c Credentials, addr string) (*User, error) {
	field, value := "login", c.Login
	if value == "" {
		field, value = "email", strings.ToLower(c.Email)
	}
	if value == "" || c.Password == "" {
		return nil, apperr.Unauthorized()
	}
	u, err := s.store.UserByField(ctx, appID, field, value)
	if errors.Is(err, ErrNotFound) {
		u = nil
	} else if err != nil {
		return nil, err
	}
	a := attempt{account: accountKey{app: appID, name: field + ":" + value}, who: slog.String(field, value), addr: addr, via: "rest"}
	if u != nil {
		a.account.name = "id:" + strconv.FormatInt(u.ID, 10) // the count XMPP logins share
	}
	t, err := s.guard.begin(ctx, a)
	if err != nil {
		return nil, err
	}
	if u == nil {
		// The same cost as a real check, so timing does not tell whether
		// the user exists.
		s.verifyPassword(s.dummy, c.Password)
		t.done(ctx, false, "unknown user")
		return nil, unknownLogin()
	}
	if !s.verifyPassword(u.PasswordHash, c.Password) {
		t.done(ctx, false, "wrong password")
		return nil, apperr.Unauthorized()
	}
	t.done(ctx, true, "")
	return u, nil
}

// verifyPassword is VerifyPassword, seen by the test hook; a malformed
// stored hash is a mismatch.
func (s *Service) verifyPassword(encoded, password string) bool {
	if f := s.onVerify.Load(); f != nil {
		(*f)(encoded)
	}
	ok, err := VerifyPassword(encoded, password)
	return err == nil && ok
}

// dummyHash returns a valid hash of a random password at cost iterations.
func dummyHash(iterations int) string {
	h, err := HashPassword(randomHex(16), iterations)
	if err != nil {
		panic(fmt.Sprintf("auth: dummy hash: %v", err)) // only crypto/rand can fail, and does not
	}
	return h
}

// Authenticate returns the live session of token and slides its expiry.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, apperr.SessionExpired()
	}
	sess, err := s.store.SessionByTokenHash(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.SessionExpired()
	}
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if !now.Before(sess.ExpiresAt) {
		return nil, apperr.SessionExpired()
	}
	sess.Token = token
	if now.Sub(sess.UpdatedAt) >= s.touch {
		sess.UpdatedAt = now
		sess.ExpiresAt = now.Add(s.cfg.SessionTTL)
		if err := s.store.TouchSession(ctx, sess); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return sess, nil
}

// DestroySession ends a session at once, and the chat connections that
// authenticated with its token (REST.md §3.3).
func (s *Service) DestroySession(ctx context.Context, sess *Session) error {
	if err := s.store.DeleteSession(ctx, sess.ID); err != nil {
		return err
	}
	if sess.UserID != 0 {
		s.events.CredentialsEnded(sess.AppID, sess.UserID, [][]byte{sess.TokenHash})
	}
	return nil
}

// Login binds the user named by c to an existing session (POST /login);
// addr is the client's address.
func (s *Service) Login(ctx context.Context, sess *Session, c Credentials, addr string) (*User, error) {
	u, err := s.checkCredentials(ctx, sess.AppID, c, addr)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	prev := sess.UserID
	sess.UserID, sess.UpdatedAt, sess.ExpiresAt = u.ID, now, now.Add(s.cfg.SessionTTL)
	if err := s.store.SetSessionUser(ctx, sess); err != nil {
		return nil, err
	}
	if prev != 0 && prev != u.ID {
		// The token now logs in someone else: the previous user's
		// connections made with it end.
		s.events.CredentialsEnded(sess.AppID, prev, [][]byte{sess.TokenHash})
	}
	u.LastRequestAt = now
	return u, nil
}

// Logout turns a user session back into an application session. The
// token no longer logs the user in, so the chat connections that
// authenticated with it end.
func (s *Service) Logout(ctx context.Context, sess *Session) error {
	if sess.UserID == 0 {
		return apperr.Forbidden("Forbidden. Need user.")
	}
	user := sess.UserID
	sess.UserID = 0
	if err := s.store.SetSessionUser(ctx, sess); err != nil {
		return err
	}
	s.events.CredentialsEnded(sess.AppID, user, [][]byte{sess.TokenHash})
	return nil
}

// CheckPassword verifies a chat login: password is either the user's
// password or a live token of a session of that user (the custom-auth
// case); addr is the client's address, for the guessing limits. It also
// returns the credential the login used (see Credential), which the
// connection keeps so that ending the credential ends it.
func (s *Service) CheckPassword(ctx context.Context, appID, userID int64, password, addr string) (*User, []byte, error) {
	u, err := s.store.UserByID(ctx, appID, userID)
	if errors.Is(err, ErrNotFound) {
		u = nil
	} else if err != nil {
		return nil, nil, err
	}
	t, err := s.guard.begin(ctx, attempt{account: accountKey{app: appID, name: "id:" + strconv.FormatInt(userID, 10)},
		who: userAttr(userID), addr: addr, via: "xmpp", tokenLike: tokenShaped(password)})
	if err != nil {
		return nil, nil, err
	}
	// An unknown user takes the same steps as a known one: a hash of the
	// configured cost and a token lookup, so timing does not tell whether
	// the user exists.
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	if s.verifyPassword(hash, password) && u != nil {
		t.done(ctx, true, "")
		return u, passwordCredential(u.PasswordHash), nil
	}
	if sess, err := s.Authenticate(ctx, password); err == nil && u != nil && sess.AppID == appID && sess.UserID == userID {
		t.done(ctx, true, "")
		return u, sess.TokenHash, nil
	}
	reason := "wrong password"
	if u == nil {
		reason = "unknown user"
	}
	t.done(ctx, false, reason)
	return nil, nil, apperr.Unauthorized()
}

// AppByAuthKey returns the app whose auth key is key (CB-AuthKey, used by
// sign-up without a session); unknown keys are unauthorized.
func (s *Service) AppByAuthKey(ctx context.Context, key string) (*App, error) {
	if key == "" {
		return nil, apperr.Unauthorized()
	}
	app, err := s.store.AppByAuthKey(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.Unauthorized()
	}
	return app, err
}

// DialogExtensions returns the dialog extensions fields app allows (the
// chat domain's view of an app's settings).
func (s *Service) DialogExtensions(ctx context.Context, appID int64) ([]string, error) {
	app, err := s.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	return app.DialogExtensions, nil
}

// GroupSubscribe reports whether the app lets users subscribe to group
// dialogs they are not in (the chat domain's view of an app's settings).
func (s *Service) GroupSubscribe(ctx context.Context, appID int64) (bool, error) {
	app, err := s.App(ctx, appID)
	if err != nil {
		return false, err
	}
	return !app.NoGroupSubscribe, nil
}

// CheckChatPassword is CheckPassword for the XMPP engine, which needs only
// the verdict and the credential.
func (s *Service) CheckChatPassword(ctx context.Context, appID, userID int64, password, addr string) ([]byte, error) {
	_, cred, err := s.CheckPassword(ctx, appID, userID, password, addr)
	return cred, err
}
