package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// envOf returns a getenv reading only m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// errLines splits a joined validation error into its parts.
func errLines(err error) []string {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

// wantFlagError asserts err has exactly one part naming each of flags, and
// no other part.
func wantFlagErrors(t *testing.T, err error, flags ...string) {
	t.Helper()
	lines := errLines(err)
	if len(lines) != len(flags) {
		t.Fatalf("Validate reported %d errors %q; want %d, one for each of %v", len(lines), lines, len(flags), flags)
	}
	for i, f := range flags {
		if !strings.HasPrefix(lines[i], "--"+f+": ") {
			t.Errorf("error %d = %q; want it to start with --%s:", i, lines[i], f)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v; want nil", err)
	}
}

func TestValidateReportsEveryErrorAtOnce(t *testing.T) {
	c := config.Default()
	c.DataDir = "  "
	c.HTTPAddr = "nonsense"
	c.Domain = "bad domain"
	c.LogFormat = "xml"
	c.LogLevel = "loud"
	c.SessionTTL = 0
	c.MaxBodyBytes = 10
	c.ShutdownTimeout = -time.Second
	c.PasswordIterations = 1000
	c.Procs = -1
	err := c.Validate()
	wantFlagErrors(t, err, "data-dir", "http-addr", "domain", "log-format", "log-level",
		"session-ttl", "max-body-bytes", "shutdown-timeout", "password-iterations", "procs")
	if strings.Contains(err.Error(), "\n\n") {
		t.Errorf("joined error has an empty line: %q", err)
	}
}

func TestValidateAddresses(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*config.Config)
		flags  []string
	}{
		{"ports zero", func(c *config.Config) { c.HTTPAddr, c.WSAddr, c.XMPPAddr = "127.0.0.1:0", "127.0.0.1:0", "[::1]:0" }, nil},
		{"no port", func(c *config.Config) { c.HTTPAddr = "127.0.0.1" }, []string{"http-addr"}},
		{"empty port", func(c *config.Config) { c.WSAddr = "localhost:" }, []string{"ws-addr"}},
		{"empty http", func(c *config.Config) { c.HTTPAddr = "" }, []string{"http-addr"}},
		{"empty xmpp", func(c *config.Config) { c.XMPPAddr = "" }, []string{"xmpp-addr"}},
		{"xmpps needs tls", func(c *config.Config) { c.XMPPSAddr = ":5223" }, []string{"xmpps-addr"}},
		{"xmpps with tls", func(c *config.Config) { c.XMPPSAddr, c.TLSCert, c.TLSKey = ":5223", "c.pem", "k.pem" }, nil},
		{"xmpps bad", func(c *config.Config) { c.XMPPSAddr, c.TLSCert, c.TLSKey = "x", "c.pem", "k.pem" }, []string{"xmpps-addr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.mutate(&c)
			wantFlagErrors(t, c.Validate(), tc.flags...)
		})
	}
}

func TestValidateDomain(t *testing.T) {
	cases := []struct {
		domain string
		ok     bool
	}{
		{"localhost", true},
		{"chat.example.com", true},
		{"xn--bcher-kva.example", true},
		{"muc.example.com", false},
		{"chatmuc.example", false},
		{"example.muc", false},
		{"", false},
		{"a..b", false},
		{"has space.example", false},
		{"under_score.example", false},
		{strings.Repeat("a", 64) + ".example", false},
	}
	for _, tc := range cases {
		t.Run(tc.domain, func(t *testing.T) {
			c := config.Default()
			c.Domain = tc.domain
			err := c.Validate()
			if tc.ok {
				wantFlagErrors(t, err)
				return
			}
			wantFlagErrors(t, err, "domain")
		})
	}
	c := config.Default()
	c.Domain = "muc.example.com"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "muc") {
		t.Errorf("Validate(domain with muc) = %v; want an error explaining \"muc\"", err)
	}
}

func TestValidateTLSPair(t *testing.T) {
	for _, tc := range []struct {
		name, cert, key string
		ok              bool
	}{
		{"neither", "", "", true},
		{"both", "cert.pem", "key.pem", true},
		{"cert only", "cert.pem", "", false},
		{"key only", "", "key.pem", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.TLSCert, c.TLSKey = tc.cert, tc.key
			err := c.Validate()
			if tc.ok {
				wantFlagErrors(t, err)
				return
			}
			wantFlagErrors(t, err, "tls-cert")
			if !strings.Contains(err.Error(), "--tls-key") {
				t.Errorf("error %q does not mention --tls-key", err)
			}
		})
	}
}

func TestValidateLogLevels(t *testing.T) {
	for _, lv := range []string{"debug", "info", "warn", "error"} {
		c := config.Default()
		c.LogLevel = lv
		if err := c.Validate(); err != nil {
			t.Errorf("log level %q: %v", lv, err)
		}
	}
	for _, f := range []string{"text", "json"} {
		c := config.Default()
		c.LogFormat = f
		if err := c.Validate(); err != nil {
			t.Errorf("log format %q: %v", f, err)
		}
	}
}

// serveFlags returns a config and its serve flag set, parsed from args.
func serveFlags(t *testing.T, args ...string) (*config.Config, *flag.FlagSet) {
	t.Helper()
	c := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.ServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return &c, fs
}

func TestFlagsBindToConfig(t *testing.T) {
	c, _ := serveFlags(t, "--data-dir", "/d", "--http-addr", "127.0.0.1:1", "--session-ttl", "90s",
		"--max-body-bytes", "4096", "--domain", "chat.example", "--password-iterations", "5000", "--procs", "3")
	if c.DataDir != "/d" || c.HTTPAddr != "127.0.0.1:1" || c.SessionTTL != 90*time.Second ||
		c.MaxBodyBytes != 4096 || c.Domain != "chat.example" || c.PasswordIterations != 5000 || c.Procs != 3 {
		t.Errorf("config after flags = %+v", *c)
	}
	if c.WSAddr != config.Default().WSAddr {
		t.Errorf("unset --ws-addr changed to %q", c.WSAddr)
	}
}

func TestApplyEnvSetsOnlyFlagsNotGiven(t *testing.T) {
	c, fs := serveFlags(t, "--http-addr", "127.0.0.1:1", "--session-ttl", "90s")
	env := map[string]string{
		"PARLEY_HTTP_ADDR":        "127.0.0.1:2", // given on the command line: ignored
		"PARLEY_SESSION_TTL":      "abc",         // given on the command line: ignored, not even parsed
		"PARLEY_DATA_DIR":         "/from/env",
		"PARLEY_LOG_FORMAT":       "json",
		"PARLEY_SHUTDOWN_TIMEOUT": "3s",
		"PARLEY_MAX_BODY_BYTES":   "2048",
		"DATA_DIR":                "/not/ours",
	}
	if err := config.ApplyEnv(fs, envOf(env)); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	want := config.Default()
	want.HTTPAddr = "127.0.0.1:1"
	want.SessionTTL = 90 * time.Second
	want.DataDir = "/from/env"
	want.LogFormat = "json"
	want.ShutdownTimeout = 3 * time.Second
	want.MaxBodyBytes = 2048
	if *c != want {
		t.Errorf("config after ApplyEnv =\n  %+v\nwant\n  %+v", *c, want)
	}
}

func TestApplyEnvEmptyValueIsUnset(t *testing.T) {
	c, fs := serveFlags(t)
	if err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_DATA_DIR": "", "PARLEY_SESSION_TTL": ""})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if *c != config.Default() {
		t.Errorf("empty variables changed the config: %+v", *c)
	}
}

func TestApplyEnvInvalidValueNamesVariable(t *testing.T) {
	_, fs := serveFlags(t)
	err := config.ApplyEnv(fs, envOf(map[string]string{
		"PARLEY_SESSION_TTL":         "abc",
		"PARLEY_PASSWORD_ITERATIONS": "many",
	}))
	if err == nil {
		t.Fatal("ApplyEnv with PARLEY_SESSION_TTL=abc = nil; want an error")
	}
	lines := errLines(err)
	if len(lines) != 2 {
		t.Fatalf("ApplyEnv reported %q; want two errors, one per bad variable", lines)
	}
	joined := err.Error()
	for _, want := range []string{"PARLEY_SESSION_TTL", `"abc"`, "PARLEY_PASSWORD_ITERATIONS", `"many"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("ApplyEnv error %q does not mention %s", joined, want)
		}
	}
}

func TestApplyEnvStoreFlagsOnly(t *testing.T) {
	// Commands that only open the store register --data-dir alone; other
	// variables must not matter to them, even when invalid.
	c := config.Default()
	fs := flag.NewFlagSet("app list", flag.ContinueOnError)
	c.StoreFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_DATA_DIR": "/env", "PARLEY_SESSION_TTL": "abc"}))
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if c.DataDir != "/env" {
		t.Errorf("DataDir = %q; want /env", c.DataDir)
	}
}

func TestApplyEnvThenValidate(t *testing.T) {
	// A syntactically fine but invalid value from the environment is caught
	// by Validate, naming the flag.
	c, fs := serveFlags(t)
	if err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_LOG_FORMAT": "xml"})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	wantFlagErrors(t, c.Validate(), "log-format")
}

// The per-user dialog limits of issue 10: flags, variables, and what
// Validate refuses (0 turns a limit off).
func TestDialogLimits(t *testing.T) {
	c, fs := serveFlags(t, "--max-dialogs-per-user", "50", "--dialog-create-rate", "0")
	if err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_MAX_DIALOGS_PER_USER": "7", "PARLEY_DIALOG_CREATE_BURST": "9"})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if c.MaxDialogsPerUser != 50 || c.DialogCreateRate != 0 || c.DialogCreateBurst != 9 {
		t.Errorf("limits after flags and env = %d, %d, %d; want 50, 0, 9", c.MaxDialogsPerUser, c.DialogCreateRate, c.DialogCreateBurst)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("limits off: Validate = %v", err)
	}
	d := config.Default()
	if d.MaxDialogsPerUser != 1000 || d.DialogCreateRate != 60 || d.DialogCreateBurst != 100 {
		t.Errorf("defaults = %d, %d a minute, burst %d", d.MaxDialogsPerUser, d.DialogCreateRate, d.DialogCreateBurst)
	}
	d.MaxDialogsPerUser, d.DialogCreateRate = -1, -1
	wantFlagErrors(t, d.Validate(), "max-dialogs-per-user", "dialog-create-rate")
	d = config.Default()
	d.DialogCreateBurst = 0
	wantFlagErrors(t, d.Validate(), "dialog-create-burst")
}

// The memory and offline bounds of issue 10: flags, variables and their
// validation.
func TestOutboundAndOfflineBounds(t *testing.T) {
	c, _ := serveFlags(t, "--out-queue-bytes", "2097152", "--out-queue-total-bytes", "1073741824",
		"--offline-max", "5000", "--offline-max-age", "72h")
	if c.OutQueueBytes != 2<<20 || c.OutQueueTotalBytes != 1<<30 || c.OfflineMax != 5000 || c.OfflineMaxAge != 72*time.Hour {
		t.Errorf("config after flags = %+v", *c)
	}
	bad := config.Default()
	bad.OutQueueBytes = 4*int64(bad.MaxStanzaBytes) - 1 // cannot hold four of the largest stanzas
	bad.OutQueueTotalBytes = bad.OutQueueBytes - 1
	bad.OfflineMax = 0
	bad.OfflineMaxAge = time.Second
	wantFlagErrors(t, bad.Validate(), "out-queue-bytes", "out-queue-total-bytes", "offline-max", "offline-max-age")
}

// The limits on guessing and flooding: flags, variables, and bounds.
func TestGuessingAndFloodLimits(t *testing.T) {
	c, fs := serveFlags(t, "--login-free-failures", "3", "--max-stanza-rate", "0")
	if err := config.ApplyEnv(fs, envOf(map[string]string{
		"PARLEY_LOGIN_BACKOFF_MAX":       "5m",
		"PARLEY_LOGIN_FAILURES_PER_IP":   "7",
		"PARLEY_APP_SESSIONS_PER_IP":     "50",
		"PARLEY_MAX_STANZA_BURST":        "9",
		"PARLEY_LOGIN_FREE_FAILURES":     "8", // given as a flag: ignored
		"PARLEY_MAX_STANZA_RATE":         "5", // given as a flag: ignored
		"PARLEY_NOT_A_LIMIT_OF_OURS_XYZ": "1",
	})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if c.LoginFreeFailures != 3 || c.LoginBackoffMax != 5*time.Minute || c.LoginFailuresPerIP != 7 ||
		c.AppSessionsPerIP != 50 || c.MaxStanzaRate != 0 || c.MaxStanzaBurst != 9 {
		t.Fatalf("config = %+v", *c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v (0 turns the stanza rate off)", err)
	}

	bad := config.Default()
	bad.LoginFreeFailures = 0
	bad.LoginBackoffMax = 500 * time.Millisecond
	bad.LoginFailuresPerIP = 0
	bad.AppSessionsPerIP = -1
	bad.MaxStanzaRate = -1
	bad.MaxStanzaBurst = 0
	wantFlagErrors(t, bad.Validate(), "login-free-failures", "login-backoff-max", "login-failures-per-ip",
		"app-sessions-per-ip", "max-stanza-rate", "max-stanza-burst")

	high := config.Default()
	high.LoginFreeFailures = 1001
	high.LoginBackoffMax = 25 * time.Hour
	wantFlagErrors(t, high.Validate(), "login-free-failures", "login-backoff-max")
}

func TestValidateSearchRate(t *testing.T) {
	c := config.Default()
	c.SearchRate = -1
	wantFlagErrors(t, c.Validate(), "search-rate")
	c.SearchRate, c.SearchBurst = 60, 0
	wantFlagErrors(t, c.Validate(), "search-burst")
	c.SearchRate, c.SearchBurst = 0, 0 // no limit: the burst does not matter
	if err := c.Validate(); err != nil {
		t.Fatalf("search-rate 0: %v", err)
	}
}

func TestValidatePublicURL(t *testing.T) {
	for _, ok := range []string{"", "https://chat.example.com", "http://127.0.0.1:8080/api/"} {
		c := config.Default()
		c.PublicURL = ok
		if err := c.Validate(); err != nil {
			t.Errorf("--public-url %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"chat.example.com", "ftp://x", "https://", "https://x/?a=b", "https://x/#f"} {
		c := config.Default()
		c.PublicURL = bad
		wantFlagErrors(t, c.Validate(), "public-url")
	}
}

func TestValidateBlobStore(t *testing.T) {
	c := config.Default()
	c.BlobStore, c.S3AccessKey, c.S3SecretKey = "s3://media?endpoint=127.0.0.1:8333&secure=false", "ak", "sk"
	if err := c.Validate(); err != nil {
		t.Fatalf("valid --blob-store: %v", err)
	}
	for _, bad := range []struct{ store, key string }{
		{"/var/blobs", "ak"},                  // not s3://
		{"s3://media", "ak"},                  // no endpoint
		{"s3://media?endpoint=x:1", ""},       // no credentials
		{"s3://a:b@media?endpoint=x:1", "ak"}, // credentials in the URL
	} {
		c := config.Default()
		c.BlobStore, c.S3AccessKey, c.S3SecretKey = bad.store, bad.key, bad.key
		wantFlagErrors(t, c.Validate(), "blob-store")
	}
}

// The privacy list limits of issue 12: flags, variables, defaults and
// bounds.
func TestPrivacyLimits(t *testing.T) {
	c, fs := serveFlags(t, "--privacy-max-items", "200")
	if err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_PRIVACY_MAX_LISTS": "5"})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if c.PrivacyMaxItems != 200 || c.PrivacyMaxLists != 5 {
		t.Errorf("limits after flags and env = %d, %d; want 200, 5", c.PrivacyMaxItems, c.PrivacyMaxLists)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	d := config.Default()
	if d.PrivacyMaxItems != 1000 || d.PrivacyMaxLists != 50 {
		t.Errorf("defaults = %d items, %d lists", d.PrivacyMaxItems, d.PrivacyMaxLists)
	}
	d.PrivacyMaxItems, d.PrivacyMaxLists = 0, 0
	wantFlagErrors(t, d.Validate(), "privacy-max-items", "privacy-max-lists")
	d = config.Default()
	d.PrivacyMaxItems, d.PrivacyMaxLists = 100_001, 10_001
	wantFlagErrors(t, d.Validate(), "privacy-max-items", "privacy-max-lists")
}

func TestMaxWatched(t *testing.T) {
	c, fs := serveFlags(t)
	if err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_MAX_WATCHED": "40"})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if c.MaxWatched != 40 {
		t.Fatalf("MaxWatched = %d from PARLEY_MAX_WATCHED=40", c.MaxWatched)
	}
	for _, n := range []int{0, -1, 100_001} {
		bad := config.Default()
		bad.MaxWatched = n
		wantFlagErrors(t, bad.Validate(), "max-watched")
	}
}

// --metrics-addr is off by default, set by the flag or PARLEY_METRICS_ADDR,
// and must be HOST:PORT when set.
func TestMetricsAddr(t *testing.T) {
	if d := config.Default(); d.MetricsAddr != "" {
		t.Fatalf("metrics on by default: %q", d.MetricsAddr)
	}
	c, fs := serveFlags(t, "--metrics-addr", "127.0.0.1:9100")
	if c.MetricsAddr != "127.0.0.1:9100" {
		t.Errorf("--metrics-addr: %q", c.MetricsAddr)
	}
	c, fs = serveFlags(t)
	if err := config.ApplyEnv(fs, envOf(map[string]string{"PARLEY_METRICS_ADDR": ":9100"})); err != nil || c.MetricsAddr != ":9100" {
		t.Errorf("PARLEY_METRICS_ADDR: %q, %v", c.MetricsAddr, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(:9100) = %v", err)
	}
	c.MetricsAddr = "9100"
	wantFlagErrors(t, c.Validate(), "metrics-addr")
}

// A value that came from a PARLEY_* variable is reported under the
// variable's name, in its own error and where another setting's error
// mentions it; a flag given on the command line keeps --flag, even when
// its variable is set too (the flag wins, and is what was read).
func TestValidateNamesTheVariableAValueCameFrom(t *testing.T) {
	c, fs := serveFlags(t, "--log-format", "xml", "--out-queue-bytes", "100")
	err := c.ApplyEnvTo(fs, envOf(map[string]string{
		"PARLEY_MAX_WATCHED":      "0",
		"PARLEY_LOG_FORMAT":       "json", // the flag was given: ignored
		"PARLEY_MAX_STANZA_BYTES": "8192",
		"PARLEY_TLS_CERT":         "c.pem",
	}))
	if err != nil {
		t.Fatalf("ApplyEnvTo: %v", err)
	}
	lines := errLines(c.Validate())
	want := []string{
		`PARLEY_TLS_CERT: PARLEY_TLS_CERT and --tls-key must be given together`,
		`--log-format: "xml" is not text or json`,
		`--out-queue-bytes: must be at least 4 × PARLEY_MAX_STANZA_BYTES (32768)`,
		`PARLEY_MAX_WATCHED: must be between 1 and 100000`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate reported\n  %s\nwant\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
	if got := c.Source("max-watched"); got != "PARLEY_MAX_WATCHED" {
		t.Errorf("Source(max-watched) = %q; want PARLEY_MAX_WATCHED", got)
	}
	if got := c.Source("log-format"); got != "--log-format" {
		t.Errorf("Source(log-format) = %q; want --log-format", got)
	}
	// A Config not read from the environment names flags.
	d := config.Default()
	d.MaxWatched = 0
	wantFlagErrors(t, d.Validate(), "max-watched")
}
