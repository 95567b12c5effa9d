// Package config is Parley's configuration: every setting with its default,
// read from flags, then PARLEY_* environment variables, then defaults, and
// validated all at once. It is the only package that reads the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"github.com/parley-chat/parley/internal/blob"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is everything `parley serve` can be told.
type Config struct {
	DataDir   string
	HTTPAddr  string
	WSAddr    string
	XMPPAddr  string
	XMPPSAddr string
	// DebugAddr serves Go's profiler (/debug/pprof/) when set; keep it on
	// a loopback address.
	DebugAddr string
	// MetricsAddr serves Prometheus metrics (/metrics) when set, on a
	// listener of its own like DebugAddr.
	MetricsAddr string

	Domain    string
	TLSCert   string
	TLSKey    string
	LogFormat string
	LogLevel  string

	// SessionTTL is how long a REST session lives after its last use.
	SessionTTL time.Duration
	// MaxBodyBytes caps a REST request body.
	MaxBodyBytes int64
	// CORSOrigin is the Access-Control-Allow-Origin the REST API sends.
	CORSOrigin string
	// BlobStore is where blob content lives: "" (the default) for
	// DataDir/blobs, or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R]
	// [&secure=false][&path_style=false] for an S3-compatible service, with
	// S3AccessKey and S3SecretKey.
	BlobStore   string
	S3AccessKey string
	S3SecretKey string
	// PublicURL is the absolute URL clients reach the REST API at (behind
	// a proxy, say); the upload and download URLs the API hands out start
	// with it. Empty: taken from each request's Host.
	PublicURL string
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	// PasswordIterations is the PBKDF2-SHA-256 cost of new password hashes.
	PasswordIterations int

	// MaxStanzaBytes bounds one XMPP stanza (a WebSocket frame).
	MaxStanzaBytes int
	// OutQueue is how many stanzas may wait for a client that is not
	// reading before its session is closed and its pending 1-1 messages
	// are kept for offline delivery.
	OutQueue int
	// OutQueueBytes bounds the stanza bytes one XMPP session holds for its
	// client (queued, and written but not acknowledged); past it the
	// session is closed like past OutQueue.
	OutQueueBytes int64
	// OutQueueTotalBytes bounds those bytes over all sessions; past it
	// the session holding the most is closed.
	OutQueueTotalBytes int64
	// OfflineMax is how many messages are kept per user for offline
	// delivery; more are not kept (counted and logged).
	OfflineMax int
	// OfflineMaxAge is how long a message is kept for offline delivery.
	OfflineMaxAge time.Duration
	// MaxConnsPerIP and MaxConnsPerUser cap concurrent XMPP connections.
	MaxConnsPerIP   int
	MaxConnsPerUser int
	// AuthTimeout closes an XMPP connection that has not authenticated.
	AuthTimeout time.Duration
	// ResumeTimeout is how long a session that enabled XEP-0198
	// resumption waits for its client after its connection is lost.
	ResumeTimeout time.Duration
	// LoginFreeFailures is how many logins of one account from one address
	// may fail in a row before the next must wait (1 s, doubling up to
	// LoginBackoffMax); the account from all addresses gets 20 times as
	// many. REST and XMPP logins count together.
	LoginFreeFailures int
	// LoginBackoffMax caps the wait after failed logins.
	LoginBackoffMax time.Duration
	// LoginFailuresPerIP is how many failed logins one client address may
	// have a minute, over all accounts.
	LoginFailuresPerIP int
	// AppSessionsPerIP is how many application sessions one client
	// address may create a minute.
	AppSessionsPerIP int
	// MaxStanzaRate and MaxStanzaBurst limit the stanzas of one XMPP
	// session: MaxStanzaBurst at once, MaxStanzaRate a second sustained
	// (0: no limit).
	MaxStanzaRate  int
	MaxStanzaBurst int
	// Procs is how many Go processors (GOMAXPROCS) the server runs with;
	// 0 leaves the choice to serve (see cli.procs).
	Procs int
	// MaxDialogsPerUser bounds the group dialogs a user occupies plus the
	// public ones they subscribe to (0: no bound).
	MaxDialogsPerUser int
	// DialogCreateRate is how many dialogs a user may create a minute
	// (0: no limit), DialogCreateBurst how many at once.
	DialogCreateRate  int
	DialogCreateBurst int
	// SearchRate is how many searches a user may run a minute (0: no
	// limit), SearchBurst how many at once.
	SearchRate  int
	SearchBurst int
	// PrivacyMaxItems bounds the items of one privacy list (the SDK
	// writes two per user), PrivacyMaxLists the privacy lists of one
	// user (REALTIME.md §18).
	PrivacyMaxItems int
	PrivacyMaxLists int
	// MaxWatched is how many users one XMPP session may subscribe to the
	// status of (status streaming, REALTIME.md §16.3).
	MaxWatched int
	// Push: how many pushes of one channel are in flight at once, tries
	// before a push is dead, and the bound of one try (internal/push).
	PushWorkers  int
	PushMaxTries int
	PushTimeout  time.Duration
	// PushFCMURL and PushAPNsURL/PushAPNsSandboxURL are the providers'
	// endpoints (FCM HTTP v1; APNs production and development). Web Push
	// endpoints come with each subscription.
	PushFCMURL, PushAPNsURL, PushAPNsSandboxURL string
	// PushCAFile adds certificate authorities (PEM) the provider clients
	// trust, beside the system's: a TLS-inspecting proxy, or test servers.
	PushCAFile string

	// fromEnv maps the flags whose value came from a PARLEY_* variable
	// to that variable (ApplyEnvTo fills it), so that an error about the
	// value names what the operator actually set (see Source). A pointer,
	// so that Config stays comparable.
	fromEnv *envOrigins
}

// envOrigins is flag name → the PARLEY_* variable its value came from.
type envOrigins struct{ vars map[string]string }

// Default returns the configuration with every default filled in.
func Default() Config {
	return Config{
		DataDir:            "./parley-data",
		HTTPAddr:           ":8080",
		WSAddr:             ":5291",
		XMPPAddr:           ":5222",
		Domain:             "localhost",
		LogFormat:          "text",
		LogLevel:           "info",
		SessionTTL:         2 * time.Hour,
		MaxBodyBytes:       1 << 20,
		CORSOrigin:         "*",
		ShutdownTimeout:    15 * time.Second,
		PasswordIterations: 8192,
		MaxStanzaBytes:     64 << 10,
		OutQueue:           1024,
		OutQueueBytes:      1 << 20,
		OutQueueTotalBytes: 512 << 20,
		OfflineMax:         1000,
		OfflineMaxAge:      30 * 24 * time.Hour,
		MaxConnsPerIP:      1000,
		MaxConnsPerUser:    20,
		AuthTimeout:        60 * time.Second,
		ResumeTimeout:      5 * time.Minute,
		MaxDialogsPerUser:  1000,
		DialogCreateRate:   60,
		DialogCreateBurst:  100,
		LoginFreeFailures:  5,
		LoginBackoffMax:    15 * time.Minute,
		LoginFailuresPerIP: 20,
		AppSessionsPerIP:   1000,
		MaxStanzaRate:      1000,
		MaxStanzaBurst:     2000,
		SearchRate:         60,
		SearchBurst:        10,
		PrivacyMaxItems:    1000,
		PrivacyMaxLists:    50,
		MaxWatched:         256,
		PushWorkers:        16,
		PushMaxTries:       8,
		PushTimeout:        15 * time.Second,
		PushFCMURL:         "https://fcm.googleapis.com",
		PushAPNsURL:        "https://api.push.apple.com",
		PushAPNsSandboxURL: "https://api.sandbox.push.apple.com",
	}
}

// envName is the variable that backs flag name: data-dir → PARLEY_DATA_DIR.
func envName(flagName string) string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ServeFlags registers the serve flags on fs, bound to c.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	c.StoreFlags(fs)
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listener: REST at /, XMPP over WebSocket at /ws, GET /health")
	fs.StringVar(&c.WSAddr, "ws-addr", c.WSAddr, "XMPP over WebSocket listener (path /)")
	fs.StringVar(&c.XMPPAddr, "xmpp-addr", c.XMPPAddr, "XMPP over TCP listener (STARTTLS when a certificate is set)")
	fs.StringVar(&c.XMPPSAddr, "xmpps-addr", c.XMPPSAddr, "XMPP over direct TLS listener (needs --tls-cert and --tls-key)")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "serve Go's profiler (/debug/pprof/) on this address (off by default; keep it on loopback)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve Prometheus metrics (/metrics) on this address (off by default)")
	fs.StringVar(&c.Domain, "domain", c.Domain, "XMPP domain: what apps pass as endpoints.chat")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file (PEM)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "REST session lifetime after its last use")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest REST request body accepted")
	fs.StringVar(&c.CORSOrigin, "cors-origin", c.CORSOrigin, "Access-Control-Allow-Origin sent by the REST API")
	fs.StringVar(&c.BlobStore, "blob-store", c.BlobStore, "where blob content lives: empty for <data-dir>/blobs, or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R][&secure=false][&path_style=false]")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", c.S3AccessKey, "access key of the --blob-store S3 service (better: PARLEY_S3_ACCESS_KEY in the environment)")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", c.S3SecretKey, "secret key of the --blob-store S3 service (better: PARLEY_S3_SECRET_KEY in the environment, never on a command line)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "absolute URL clients reach the REST API at, for the blob upload and download URLs it hands out (default: from each request's Host)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long a graceful shutdown may take")
	fs.IntVar(&c.PasswordIterations, "password-iterations", c.PasswordIterations, "PBKDF2-SHA-256 iterations for new password hashes (at least 4096)")
	fs.IntVar(&c.MaxStanzaBytes, "max-stanza-bytes", c.MaxStanzaBytes, "largest XMPP stanza accepted")
	fs.IntVar(&c.OutQueue, "out-queue", c.OutQueue, "stanzas queued for a client that is not reading before its session is closed")
	fs.Int64Var(&c.OutQueueBytes, "out-queue-bytes", c.OutQueueBytes, "stanza bytes held for one XMPP client (queued or unacknowledged) before its session is closed")
	fs.Int64Var(&c.OutQueueTotalBytes, "out-queue-total-bytes", c.OutQueueTotalBytes, "stanza bytes held for all XMPP clients together; past it the session holding the most is closed")
	fs.IntVar(&c.OfflineMax, "offline-max", c.OfflineMax, "messages kept per user for offline delivery (more are not kept, and logged)")
	fs.DurationVar(&c.OfflineMaxAge, "offline-max-age", c.OfflineMaxAge, "how long a message is kept for offline delivery")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", c.MaxConnsPerIP, "concurrent XMPP connections per client IP")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", c.MaxConnsPerUser, "concurrent XMPP sessions per user")
	fs.DurationVar(&c.AuthTimeout, "auth-timeout", c.AuthTimeout, "how long an XMPP connection may stay unauthenticated")
	fs.DurationVar(&c.ResumeTimeout, "resume-timeout", c.ResumeTimeout, "how long a resumable XMPP session waits for its client after the connection is lost")
	fs.IntVar(&c.LoginFreeFailures, "login-free-failures", c.LoginFreeFailures, "failed logins in a row of one account from one address before the next must wait")
	fs.DurationVar(&c.LoginBackoffMax, "login-backoff-max", c.LoginBackoffMax, "longest wait after failed logins (the wait starts at 1s and doubles)")
	fs.IntVar(&c.LoginFailuresPerIP, "login-failures-per-ip", c.LoginFailuresPerIP, "failed logins a minute per client address, over all accounts")
	fs.IntVar(&c.AppSessionsPerIP, "app-sessions-per-ip", c.AppSessionsPerIP, "application sessions a client address may create a minute")
	fs.IntVar(&c.MaxStanzaRate, "max-stanza-rate", c.MaxStanzaRate, "stanzas a second per XMPP session, sustained (0: no limit)")
	fs.IntVar(&c.MaxStanzaBurst, "max-stanza-burst", c.MaxStanzaBurst, "stanzas an XMPP session may send at once above --max-stanza-rate")
	fs.IntVar(&c.Procs, "procs", c.Procs, "Go processors to run on (0: one more than the CPUs available, unless GOMAXPROCS is set)")
	fs.IntVar(&c.MaxDialogsPerUser, "max-dialogs-per-user", c.MaxDialogsPerUser, "group dialogs a user may occupy plus public dialogs they may subscribe to (0: no limit)")
	fs.IntVar(&c.DialogCreateRate, "dialog-create-rate", c.DialogCreateRate, "dialogs a user may create a minute (0: no limit)")
	fs.IntVar(&c.DialogCreateBurst, "dialog-create-burst", c.DialogCreateBurst, "dialogs a user may create at once before --dialog-create-rate applies")
	fs.IntVar(&c.SearchRate, "search-rate", c.SearchRate, "searches (GET /chat/search) a user may run a minute (0: no limit)")
	fs.IntVar(&c.SearchBurst, "search-burst", c.SearchBurst, "searches a user may run at once before --search-rate applies")
	fs.IntVar(&c.PrivacyMaxItems, "privacy-max-items", c.PrivacyMaxItems, "items in one privacy list (the SDK writes two per blocked user)")
	fs.IntVar(&c.PrivacyMaxLists, "privacy-max-lists", c.PrivacyMaxLists, "privacy lists one user may keep")
	fs.IntVar(&c.MaxWatched, "max-watched", c.MaxWatched, "users one XMPP session may subscribe to the last activity status of")
	fs.IntVar(&c.PushWorkers, "push-workers", c.PushWorkers, "pushes in flight at once per provider (Web Push, FCM, APNs, APNs VoIP)")
	fs.IntVar(&c.PushMaxTries, "push-max-tries", c.PushMaxTries, "tries of a push before it is dead (retries back off exponentially, from 1 s to 1 h)")
	fs.DurationVar(&c.PushTimeout, "push-timeout", c.PushTimeout, "bound of one try of a push")
	fs.StringVar(&c.PushFCMURL, "push-fcm-url", c.PushFCMURL, "FCM HTTP v1 endpoint")
	fs.StringVar(&c.PushAPNsURL, "push-apns-url", c.PushAPNsURL, "APNs endpoint for production subscriptions")
	fs.StringVar(&c.PushAPNsSandboxURL, "push-apns-sandbox-url", c.PushAPNsSandboxURL, "APNs endpoint for development subscriptions")
	fs.StringVar(&c.PushCAFile, "push-ca-file", c.PushCAFile, "PEM file of extra certificate authorities the push clients trust")
}

// StoreFlags registers the flags every command that opens the store needs.
func (c *Config) StoreFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory holding all of the server's data")
}

// ApplyEnv sets every flag of fs that was not given on the command line from
// its PARLEY_* variable, if set. getenv is os.Getenv in production.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	_, err := applyEnv(fs, getenv)
	return err
}

// ApplyEnvTo is ApplyEnv for the flags bound to c: it also records in c
// which of them a variable set, for Source.
func (c *Config) ApplyEnvTo(fs *flag.FlagSet, getenv func(string) string) error {
	from, err := applyEnv(fs, getenv)
	c.fromEnv = &envOrigins{from}
	return err
}

// Source is how the operator set flag (a name without dashes): its
// PARLEY_* variable when the value came from there, else --flag. Errors
// about a value use it, so that the one who set PARLEY_MAX_WATCHED is not
// told about a --max-watched they never typed.
func (c *Config) Source(flag string) string {
	if c.fromEnv != nil {
		if v, ok := c.fromEnv.vars[flag]; ok {
			return v
		}
	}
	return "--" + flag
}

// applyEnv is ApplyEnv, returning the flags it set with their variables.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) (map[string]string, error) {
	from := map[string]string{}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: invalid value %q: %v", name, v, err))
			return
		}
		from[f.Name] = name
	})
	return from, errors.Join(errs...)
}

// Validate reports every invalid setting at once, each naming its flag, or
// its PARLEY_* variable when the value came from there (Source).
func (c *Config) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", c.Source(flag), fmt.Sprintf(format, args...)))
	}
	n := c.Source // another setting named in a message
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "must not be empty")
	}
	for _, a := range []struct{ flag, addr string }{
		{"http-addr", c.HTTPAddr}, {"ws-addr", c.WSAddr}, {"xmpp-addr", c.XMPPAddr}, {"xmpps-addr", c.XMPPSAddr},
		{"debug-addr", c.DebugAddr}, {"metrics-addr", c.MetricsAddr},
	} {
		if a.addr == "" && (a.flag == "xmpps-addr" || a.flag == "debug-addr" || a.flag == "metrics-addr") {
			continue
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil || port == "" {
			bad(a.flag, "%q is not HOST:PORT", a.addr)
		}
	}
	if !validDomain(c.Domain) {
		bad("domain", "%q is not a valid domain name", c.Domain)
	} else if strings.Contains(c.Domain, "muc") {
		// The SDK classifies any JID containing "muc" as a room (spec README §3).
		bad("domain", "%q must not contain \"muc\"", c.Domain)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "%s and %s must be given together", n("tls-cert"), n("tls-key"))
	}
	if c.XMPPSAddr != "" && c.TLSCert == "" {
		bad("xmpps-addr", "needs %s and %s", n("tls-cert"), n("tls-key"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "%q is not text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.SessionTTL < time.Second {
		bad("session-ttl", "must be at least 1s")
	}
	if c.BlobStore != "" {
		if !strings.HasPrefix(c.BlobStore, "s3://") {
			bad("blob-store", "%q is not empty or an s3:// URL", c.BlobStore)
		} else if _, err := blob.ParseS3URL(c.BlobStore, c.S3AccessKey, c.S3SecretKey); err != nil {
			bad("blob-store", "%v", err)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("public-url", "%q is not an absolute http(s) URL without query", c.PublicURL)
		}
	}
	if c.MaxBodyBytes < 1024 {
		bad("max-body-bytes", "must be at least 1024")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive")
	}
	if c.PasswordIterations < 4096 {
		bad("password-iterations", "must be at least 4096")
	}
	if c.MaxStanzaBytes < 4096 || c.MaxStanzaBytes > 16<<20 {
		bad("max-stanza-bytes", "must be between 4096 and 16777216")
	}
	if c.OutQueue < 1 {
		bad("out-queue", "must be at least 1")
	}
	// A session must be able to hold a few stanzas of the largest size.
	if c.OutQueueBytes < 4*int64(c.MaxStanzaBytes) {
		bad("out-queue-bytes", "must be at least 4 × %s (%d)", n("max-stanza-bytes"), 4*c.MaxStanzaBytes)
	}
	if c.OutQueueTotalBytes < c.OutQueueBytes {
		bad("out-queue-total-bytes", "must be at least %s (%d)", n("out-queue-bytes"), c.OutQueueBytes)
	}
	if c.OfflineMax < 1 || c.OfflineMax > 1000000 {
		bad("offline-max", "must be between 1 and 1000000")
	}
	if c.OfflineMaxAge < time.Minute {
		bad("offline-max-age", "must be at least 1m")
	}
	if c.MaxConnsPerIP < 1 {
		bad("max-conns-per-ip", "must be at least 1")
	}
	if c.MaxConnsPerUser < 1 {
		bad("max-conns-per-user", "must be at least 1")
	}
	if c.AuthTimeout < time.Second {
		bad("auth-timeout", "must be at least 1s")
	}
	if c.ResumeTimeout < time.Second || c.ResumeTimeout > time.Hour {
		bad("resume-timeout", "must be between 1s and 1h")
	}
	if c.LoginFreeFailures < 1 || c.LoginFreeFailures > 1000 {
		bad("login-free-failures", "must be between 1 and 1000")
	}
	if c.LoginBackoffMax < time.Second || c.LoginBackoffMax > 24*time.Hour {
		bad("login-backoff-max", "must be between 1s and 24h")
	}
	if c.LoginFailuresPerIP < 1 || c.LoginFailuresPerIP > 1_000_000 {
		bad("login-failures-per-ip", "must be between 1 and 1000000")
	}
	if c.AppSessionsPerIP < 1 || c.AppSessionsPerIP > 1_000_000 {
		bad("app-sessions-per-ip", "must be between 1 and 1000000")
	}
	if c.MaxStanzaRate < 0 || c.MaxStanzaRate > 1_000_000 {
		bad("max-stanza-rate", "must be between 0 (no limit) and 1000000")
	}
	if c.MaxStanzaBurst < 1 || c.MaxStanzaBurst > 1_000_000 {
		bad("max-stanza-burst", "must be between 1 and 1000000")
	}
	if c.Procs < 0 || c.Procs > 1024 {
		bad("procs", "must be between 0 and 1024")
	}
	if c.MaxDialogsPerUser < 0 {
		bad("max-dialogs-per-user", "must be 0 (no limit) or more")
	}
	if c.DialogCreateRate < 0 || c.DialogCreateRate > 60_000 {
		bad("dialog-create-rate", "must be between 0 (no limit) and 60000 a minute")
	}
	if c.DialogCreateRate > 0 && c.DialogCreateBurst < 1 {
		bad("dialog-create-burst", "must be at least 1")
	}
	if c.SearchRate < 0 || c.SearchRate > 60_000 {
		bad("search-rate", "must be between 0 (no limit) and 60000 a minute")
	}
	if c.SearchRate > 0 && c.SearchBurst < 1 {
		bad("search-burst", "must be at least 1")
	}
	if c.PrivacyMaxItems < 1 || c.PrivacyMaxItems > 100_000 {
		bad("privacy-max-items", "must be between 1 and 100000")
	}
	if c.PrivacyMaxLists < 1 || c.PrivacyMaxLists > 10_000 {
		bad("privacy-max-lists", "must be between 1 and 10000")
	}
	if c.MaxWatched < 1 || c.MaxWatched > 100_000 {
		bad("max-watched", "must be between 1 and 100000")
	}
	if c.PushWorkers < 1 || c.PushWorkers > 1024 {
		bad("push-workers", "must be between 1 and 1024")
	}
	if c.PushMaxTries < 1 || c.PushMaxTries > 100 {
		bad("push-max-tries", "must be between 1 and 100")
	}
	if c.PushTimeout < 100*time.Millisecond || c.PushTimeout > 5*time.Minute {
		bad("push-timeout", "must be between 100ms and 5m")
	}
	for _, f := range []struct{ flag, url string }{{"push-fcm-url", c.PushFCMURL}, {"push-apns-url", c.PushAPNsURL},
		{"push-apns-sandbox-url", c.PushAPNsSandboxURL}} {
		if p, err := url.Parse(f.url); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad(f.flag, "must be an absolute http(s) URL")
		}
	}
	return errors.Join(errs...)
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}
