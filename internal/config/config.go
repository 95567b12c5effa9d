// Package config is Parley's configuration: every setting with its default,
// read from flags, then PARLEY_* environment variables, then defaults, and
// validated all at once. It is the only package that reads the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
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
	// MaxConnsPerIP and MaxConnsPerUser cap concurrent XMPP connections.
	MaxConnsPerIP   int
	MaxConnsPerUser int
	// AuthTimeout closes an XMPP connection that has not authenticated.
	AuthTimeout time.Duration
	// ResumeTimeout is how long a session that enabled XEP-0198
	// resumption waits for its client after its connection is lost.
	ResumeTimeout time.Duration
	// Procs is how many Go processors (GOMAXPROCS) the server runs with;
	// 0 leaves the choice to serve (see cli.procs).
	Procs int
	// SearchRate is how many searches a user may run a minute (0: no
	// limit), SearchBurst how many at once.
	SearchRate  int
	SearchBurst int
}

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
		MaxConnsPerIP:      1000,
		MaxConnsPerUser:    20,
		AuthTimeout:        60 * time.Second,
		ResumeTimeout:      5 * time.Minute,
		SearchRate:         60,
		SearchBurst:        10,
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
	fs.StringVar(&c.Domain, "domain", c.Domain, "XMPP domain: what apps pass as endpoints.chat")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file (PEM)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "REST session lifetime after its last use")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest REST request body accepted")
	fs.StringVar(&c.CORSOrigin, "cors-origin", c.CORSOrigin, "Access-Control-Allow-Origin sent by the REST API")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long a graceful shutdown may take")
	fs.IntVar(&c.PasswordIterations, "password-iterations", c.PasswordIterations, "PBKDF2-SHA-256 iterations for new password hashes (at least 4096)")
	fs.IntVar(&c.MaxStanzaBytes, "max-stanza-bytes", c.MaxStanzaBytes, "largest XMPP stanza accepted")
	fs.IntVar(&c.OutQueue, "out-queue", c.OutQueue, "stanzas queued for a client that is not reading before its session is closed")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", c.MaxConnsPerIP, "concurrent XMPP connections per client IP")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", c.MaxConnsPerUser, "concurrent XMPP sessions per user")
	fs.DurationVar(&c.AuthTimeout, "auth-timeout", c.AuthTimeout, "how long an XMPP connection may stay unauthenticated")
	fs.DurationVar(&c.ResumeTimeout, "resume-timeout", c.ResumeTimeout, "how long a resumable XMPP session waits for its client after the connection is lost")
	fs.IntVar(&c.Procs, "procs", c.Procs, "Go processors to run on (0: one more than the CPUs available, unless GOMAXPROCS is set)")
	fs.IntVar(&c.SearchRate, "search-rate", c.SearchRate, "searches (GET /chat/search) a user may run a minute (0: no limit)")
	fs.IntVar(&c.SearchBurst, "search-burst", c.SearchBurst, "searches a user may run at once before --search-rate applies")
}

// StoreFlags registers the flags every command that opens the store needs.
func (c *Config) StoreFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory holding all of the server's data")
}

// ApplyEnv sets every flag of fs that was not given on the command line from
// its PARLEY_* variable, if set. getenv is os.Getenv in production.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
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
		}
	})
	return errors.Join(errs...)
}

// Validate reports every invalid setting at once, each naming its flag.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "must not be empty")
	}
	for _, a := range []struct{ flag, addr string }{
		{"http-addr", c.HTTPAddr}, {"ws-addr", c.WSAddr}, {"xmpp-addr", c.XMPPAddr}, {"xmpps-addr", c.XMPPSAddr},
		{"debug-addr", c.DebugAddr},
	} {
		if a.addr == "" && (a.flag == "xmpps-addr" || a.flag == "debug-addr") {
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
		bad("tls-cert", "--tls-cert and --tls-key must be given together")
	}
	if c.XMPPSAddr != "" && c.TLSCert == "" {
		bad("xmpps-addr", "needs --tls-cert and --tls-key")
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
	if c.Procs < 0 || c.Procs > 1024 {
		bad("procs", "must be between 0 and 1024")
	}
	if c.SearchRate < 0 || c.SearchRate > 60_000 {
		bad("search-rate", "must be between 0 (no limit) and 60000 a minute")
	}
	if c.SearchRate > 0 && c.SearchBurst < 1 {
		bad("search-burst", "must be at least 1")
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
