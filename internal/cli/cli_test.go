package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cli"
)

// result is what one run of the command line left behind.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line with args; env is the whole environment it sees.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), args, cli.Env{
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, stdout.String(), stderr.String()}
}

// lines splits output into its lines; output must end with a newline.
func lines(t *testing.T, what, s string) []string {
	t.Helper()
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		t.Errorf("%s does not end with a newline: %q", what, s)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// wantUsageError asserts a refused command: non-zero exit, nothing on
// stdout, and one line on stderr containing each of names.
func wantUsageError(t *testing.T, r result, names ...string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit code 0; want non-zero (stderr %q)", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q; want nothing", r.stdout)
	}
	ls := lines(t, "stderr", r.stderr)
	if len(ls) != 1 {
		t.Fatalf("stderr has %d lines %q; want exactly one", len(ls), r.stderr)
	}
	for _, n := range names {
		if !strings.Contains(ls[0], n) {
			t.Errorf("stderr %q does not name %s", ls[0], n)
		}
	}
}

type createdApp struct {
	ID         int64
	AuthKey    string
	AuthSecret string
}

// parseCreated checks the output of `app create`: exactly one line holding
// one JSON object with exactly id (a number), auth_key and auth_secret.
func parseCreated(t *testing.T, r result) createdApp {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("app create exit code %d; stderr %q", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("app create stderr = %q; want nothing", r.stderr)
	}
	ls := lines(t, "stdout", r.stdout)
	if len(ls) != 1 {
		t.Fatalf("app create printed %d lines %q; want one JSON line", len(ls), r.stdout)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(ls[0]), &obj); err != nil {
		t.Fatalf("app create output %q is not a JSON object: %v", ls[0], err)
	}
	var keys []string
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"auth_key", "auth_secret", "id"}; !slices.Equal(keys, want) {
		t.Errorf("app create keys = %q; want %q", keys, want)
	}
	var out createdApp
	if err := json.Unmarshal(obj["id"], &out.ID); err != nil || out.ID <= 0 {
		t.Errorf("id = %s; want a positive integer (%v)", obj["id"], err)
	}
	if err := json.Unmarshal(obj["auth_key"], &out.AuthKey); err != nil || out.AuthKey == "" {
		t.Errorf("auth_key = %s; want a non-empty string (%v)", obj["auth_key"], err)
	}
	if err := json.Unmarshal(obj["auth_secret"], &out.AuthSecret); err != nil || out.AuthSecret == "" {
		t.Errorf("auth_secret = %s; want a non-empty string (%v)", obj["auth_secret"], err)
	}
	return out
}

type listedApp struct {
	ID               int64    `json:"id"`
	Name             string   `json:"name"`
	AuthKey          string   `json:"auth_key"`
	DialogExtensions []string `json:"dialog_extensions"`
	GroupSubscribe   bool     `json:"group_subscribe"`
	BlobMaxSize      int64    `json:"blob_max_size"`
	BlobContentTypes []string `json:"blob_content_types"`
	ChatAlerts       bool     `json:"chat_alerts"`
	VAPIDPublicKey   string   `json:"vapid_public_key"`
	CreatedAt        string   `json:"created_at"`
}

// listApps runs `app list` on dir and decodes its JSON lines.
func listApps(t *testing.T, dir string) []listedApp {
	t.Helper()
	r := run(t, nil, "app", "list", "--data-dir", dir)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("app list: exit %d, stderr %q", r.code, r.stderr)
	}
	var out []listedApp
	for _, l := range lines(t, "app list stdout", r.stdout) {
		var a listedApp
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("app list line %q: %v", l, err)
		}
		out = append(out, a)
	}
	return out
}

func notExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists (stat err %v); want it never created", path, err)
	}
}

func TestAppCreateAndList(t *testing.T) {
	dir := t.TempDir()
	first := parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "First", "--dialog-extensions", "a,b"))
	second := parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "Second", "--no-group-subscribe"))
	if first.ID == second.ID {
		t.Errorf("two apps share id %d", first.ID)
	}
	if first.AuthKey == second.AuthKey {
		t.Errorf("two apps share auth key %q", first.AuthKey)
	}
	if first.AuthSecret == second.AuthSecret {
		t.Errorf("two apps share auth secret %q", first.AuthSecret)
	}

	apps := listApps(t, dir)
	if len(apps) != 2 {
		t.Fatalf("app list = %d apps %+v; want 2", len(apps), apps)
	}
	want := []listedApp{
		{ID: first.ID, Name: "First", AuthKey: first.AuthKey, DialogExtensions: []string{"a", "b"}, GroupSubscribe: true},
		{ID: second.ID, Name: "Second", AuthKey: second.AuthKey, DialogExtensions: []string{}, GroupSubscribe: false},
	}
	for i, w := range want {
		g := apps[i]
		if g.ID != w.ID || g.Name != w.Name || g.AuthKey != w.AuthKey || !slices.Equal(g.DialogExtensions, w.DialogExtensions) ||
			g.GroupSubscribe != w.GroupSubscribe {
			t.Errorf("app list line %d = %+v; want %+v", i, g, w)
		}
		if g.DialogExtensions == nil {
			t.Errorf("app list line %d: dialog_extensions is null; want a list", i)
		}
		if _, err := time.Parse(time.RFC3339, g.CreatedAt); err != nil {
			t.Errorf("app list line %d: created_at %q: %v", i, g.CreatedAt, err)
		}
	}
}

// app update sets an app's blob limits; flags not given keep their value;
// app list shows the limits in force (the default size when unset).
func TestAppUpdateBlobLimits(t *testing.T) {
	dir := t.TempDir()
	app := parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "A"))
	if a := listApps(t, dir)[0]; a.BlobMaxSize != 100<<20 || a.BlobContentTypes == nil || len(a.BlobContentTypes) != 0 {
		t.Fatalf("new app: %+v; want the 100 MiB default and no type restriction", a)
	}
	id := strconv.FormatInt(app.ID, 10)
	r := run(t, nil, "app", "update", "--data-dir", dir, "--id", id, "--blob-max-size", "1048576", "--blob-content-types", "image/*, Video/MP4")
	if r.code != 0 || !strings.HasPrefix(r.stdout, fmt.Sprintf(`{"id":%d,"blob_max_size":1048576,"blob_content_types":["image/*","video/mp4"],`, app.ID)) {
		t.Fatalf("app update: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	run(t, nil, "app", "update", "--data-dir", dir, "--id", id, "--blob-content-types", "image/png")
	if a := listApps(t, dir)[0]; a.BlobMaxSize != 1<<20 || !slices.Equal(a.BlobContentTypes, []string{"image/png"}) {
		t.Fatalf("after two updates: %+v", a)
	}
	run(t, nil, "app", "update", "--data-dir", dir, "--id", id, "--blob-max-size", "0", "--blob-content-types", "any")
	if a := listApps(t, dir)[0]; a.BlobMaxSize != 100<<20 || len(a.BlobContentTypes) != 0 {
		t.Fatalf("after reset: %+v", a)
	}
	for _, args := range [][]string{
		{"--id", id, "--blob-content-types", "images"},
		{"--id", id, "--blob-max-size", "-5"},
		{"--id", "999", "--blob-max-size", "5"},
		{"--id", id},
		{"--blob-max-size", "5"},
	} {
		r := run(t, nil, append([]string{"app", "update", "--data-dir", dir}, args...)...)
		if r.code == 0 || r.stderr == "" {
			t.Errorf("app update %q: exit %d, stderr %q; want a refusal", args, r.code, r.stderr)
		}
	}
}

func TestAppListEmpty(t *testing.T) {
	if apps := listApps(t, t.TempDir()); len(apps) != 0 {
		t.Errorf("app list on a new store = %+v; want nothing", apps)
	}
}

func TestAppCreateRefusals(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		names []string
	}{
		{"missing name", []string{"--name", ""}, []string{"--name"}},
		{"blank name", []string{"--name", "   "}, []string{"--name"}},
		{"no name flag", nil, []string{"--name"}},
		{"four extensions", []string{"--name", "N", "--dialog-extensions", "a,b,c,d"}, []string{"--dialog-extensions"}},
		{"bad extension", []string{"--name", "N", "--dialog-extensions", "a,b-c"}, []string{"--dialog-extensions"}},
		{"repeated extension", []string{"--name", "N", "--dialog-extensions", "a,a"}, []string{"--dialog-extensions"}},
		{"unknown flag", []string{"--name", "N", "--bogus"}, []string{"bogus"}},
		{"stray argument", []string{"--name", "N", "extra"}, []string{"extra"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"app", "create", "--data-dir", dir}, tc.args...)
			wantUsageError(t, run(t, nil, args...), tc.names...)
			if _, err := os.Stat(dir); err == nil {
				if apps := listApps(t, dir); len(apps) != 0 {
					t.Errorf("a refused app create left apps behind: %+v", apps)
				}
			}
		})
	}
}

func TestAppCreateMissingNameCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	wantUsageError(t, run(t, nil, "app", "create", "--data-dir", dir), "--name")
	notExist(t, dir)
}

// TestAppCreateRefusedExtensionsCreatesNothing: a refused `app create`
// must leave nothing behind, as a missing --name does.
//
// The arguments are validated before the store is opened, so a refused
// app create leaves no data directory behind.
func TestAppCreateRefusedExtensionsCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	wantUsageError(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "N", "--dialog-extensions", "a,b,c,d"),
		"--dialog-extensions")
	notExist(t, dir)
}

func TestAppSubcommandErrors(t *testing.T) {
	wantUsageError(t, run(t, nil, "app"), "create")
	wantUsageError(t, run(t, nil, "app", "frobnicate"), "frobnicate")
	wantUsageError(t, run(t, nil, "app", "list", "--bogus"), "bogus")
}

func TestDataDirFromEnvironment(t *testing.T) {
	envDir := filepath.Join(t.TempDir(), "env")
	created := parseCreated(t, run(t, map[string]string{"PARLEY_DATA_DIR": envDir}, "app", "create", "--name", "FromEnv"))
	apps := listApps(t, envDir)
	if len(apps) != 1 || apps[0].ID != created.ID || apps[0].Name != "FromEnv" {
		t.Errorf("apps in $PARLEY_DATA_DIR = %+v; want the one just created", apps)
	}
	// app list reads the variable too.
	r := run(t, map[string]string{"PARLEY_DATA_DIR": envDir}, "app", "list")
	if r.code != 0 || len(lines(t, "stdout", r.stdout)) != 1 {
		t.Errorf("app list with $PARLEY_DATA_DIR: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestDataDirFlagWinsOverEnvironment(t *testing.T) {
	envDir := filepath.Join(t.TempDir(), "env")
	flagDir := filepath.Join(t.TempDir(), "flag")
	parseCreated(t, run(t, map[string]string{"PARLEY_DATA_DIR": envDir}, "app", "create", "--data-dir", flagDir, "--name", "FromFlag"))
	notExist(t, envDir)
	if apps := listApps(t, flagDir); len(apps) != 1 || apps[0].Name != "FromFlag" {
		t.Errorf("apps in --data-dir = %+v; want FromFlag", apps)
	}
}

func TestServeRefusals(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		names []string
	}{
		{"unknown flag", nil, []string{"--bogus"}, []string{"bogus"}},
		{"bad duration", nil, []string{"--session-ttl", "abc"}, []string{"session-ttl"}},
		{"bad log format", nil, []string{"--log-format", "xml"}, []string{"--log-format"}},
		{"bad address", nil, []string{"--http-addr", "nonsense"}, []string{"--http-addr"}},
		{"bad domain", nil, []string{"--domain", "muc.example.com"}, []string{"--domain"}},
		{"tls cert without key", nil, []string{"--tls-cert", "c.pem"}, []string{"--tls-cert"}},
		{"stray argument", nil, []string{"now"}, []string{"now"}},
		{"bad env value", map[string]string{"PARLEY_SESSION_TTL": "abc"}, nil, []string{"PARLEY_SESSION_TTL"}},
		{"env validated too, named by its variable", map[string]string{"PARLEY_LOG_FORMAT": "xml"}, nil, []string{"PARLEY_LOG_FORMAT: "}},
		{"env beside a flag", map[string]string{"PARLEY_MAX_WATCHED": "0"}, []string{"--log-format", "xml"}, []string{"PARLEY_MAX_WATCHED: must be between 1 and 100000", "--log-format: "}},
		{"several at once, one line", nil, []string{"--log-format", "xml", "--http-addr", "nonsense"}, []string{"--log-format", "--http-addr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--data-dir", dir, "--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0"}, tc.args...)
			wantUsageError(t, run(t, tc.env, args...), tc.names...)
			notExist(t, dir)
		})
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		r := run(t, nil, arg)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q", arg, r.code, r.stderr)
		}
		ls := lines(t, "stdout", r.stdout)
		if len(ls) != 1 || !strings.HasPrefix(ls[0], "parley ") {
			t.Errorf("%s printed %q; want one line starting \"parley \"", arg, r.stdout)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	r := run(t, nil, "frobnicate")
	if r.code != 2 {
		t.Errorf("exit code %d; want 2", r.code)
	}
	if !strings.Contains(r.stderr, "frobnicate") || r.stdout != "" {
		t.Errorf("stdout %q, stderr %q; want the command named on stderr only", r.stdout, r.stderr)
	}
	if r := run(t, nil); r.code != 2 || r.stderr == "" {
		t.Errorf("no command: exit %d, stderr %q; want 2 and the usage", r.code, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	r := run(t, nil, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "parley serve") {
		t.Errorf("help: exit %d, stdout %q", r.code, r.stdout)
	}
	r = run(t, nil, "serve", "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "-http-addr") || r.stderr != "" {
		t.Errorf("serve -h: exit %d, stdout %q, stderr %q; want the flags on stdout", r.code, r.stdout, r.stderr)
	}
}

// syncBuffer is a bytes.Buffer safe to write from the command's goroutines
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}

// server is a `parley serve` running in the background.
type server struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

func startServe(t *testing.T, dir string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	args := []string{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0",
		"--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0", "--shutdown-timeout", "5s"}
	go func() {
		s.done <- cli.Run(ctx, args, cli.Env{Stdout: s.stdout, Stderr: s.stderr, Getenv: func(string) string { return "" }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop at cleanup")
		}
	})
	return s
}

// stop cancels the command's context and waits for it to return.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		return code
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not return within 10s of cancel; stderr:\n%s", s.stderr.String())
		return -1
	}
}

// exited reports whether Run has returned, failing the test if it did.
func (s *server) exited(t *testing.T) bool {
	t.Helper()
	select {
	case code := <-s.done:
		s.done <- code
		t.Fatalf("serve exited early with %d; stderr:\n%s", code, s.stderr.String())
		return true
	default:
		return false
	}
}

var apiURL = regexp.MustCompile(`api_url: "(http://[^"]+)"`)

func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()

	first := startServe(t, dir)
	waitFor(t, "the welcome text", 10*time.Second, func() bool {
		first.exited(t)
		return strings.Contains(first.stdout.String(), "ConnectyCube.init(")
	})
	welcome := first.stdout.String()
	for _, want := range []string{"ConnectyCube.init(", "appId: 1", `chat: "localhost"`} {
		if !strings.Contains(welcome, want) {
			t.Errorf("welcome text lacks %q:\n%s", want, welcome)
		}
	}
	// The welcome names the real bound address: the server answers there.
	m := apiURL.FindStringSubmatch(welcome)
	if m == nil {
		t.Fatalf("welcome text has no api_url:\n%s", welcome)
	}
	if strings.HasSuffix(m[1], ":0") {
		t.Errorf("api_url %q names port 0, not the bound port", m[1])
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(m[1] + "/health")
	if err != nil {
		t.Fatalf("GET %s/health: %v", m[1], err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /health = %d; want 200", resp.StatusCode)
	}

	if code := first.stop(t); code != 0 {
		t.Fatalf("serve exit code after cancel = %d; want 0; stderr:\n%s", code, first.stderr.String())
	}
	if _, err := client.Get(m[1] + "/health"); err == nil {
		t.Errorf("the server still answers after serve returned")
	}

	// Second start on the same store: the default app exists, so no welcome.
	second := startServe(t, dir)
	waitFor(t, "the second server to be ready", 10*time.Second, func() bool {
		second.exited(t)
		return strings.Contains(second.stderr.String(), "parley ready")
	})
	if code := second.stop(t); code != 0 {
		t.Fatalf("second serve exit code = %d; want 0; stderr:\n%s", code, second.stderr.String())
	}
	// The default app exists, so no welcome; one line saying where its
	// auth key is now instead.
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	hint := "1 application in " + abs + "; `parley app list --data-dir " + abs + "` prints its auth key\n"
	if out := second.stdout.String(); out != hint {
		t.Errorf("second serve printed on stdout:\n%s\nwant only\n%s", out, hint)
	}
	if apps := listApps(t, dir); len(apps) != 1 || apps[0].ID != 1 || apps[0].Name != "default" {
		t.Errorf("apps after two starts = %+v; want only the default app, id 1", apps)
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	r := run(t, nil, "serve", "--data-dir", dir, "--http-addr", ln.Addr().String(),
		"--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0")
	wantUsageError(t, r, "--http-addr", ln.Addr().String())

	// Set by its variable, the address is named by the variable.
	r = run(t, map[string]string{"PARLEY_HTTP_ADDR": ln.Addr().String()}, "serve", "--data-dir", dir,
		"--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0")
	wantUsageError(t, r, "listen PARLEY_HTTP_ADDR "+ln.Addr().String())
	if strings.Contains(r.stderr, "--http-addr") {
		t.Errorf("stderr %q names --http-addr; the address came from PARLEY_HTTP_ADDR", r.stderr)
	}
}

// TestServeWelcomeAfterFailedFirstStart: the welcome text (the app id and
// auth key to paste into ConnectyCube.init) is printed on the first start of
// a new store. When that first start fails (here: the HTTP port is taken),
// the next successful start must still print it.
func TestServeWelcomeAfterFailedFirstStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	r := run(t, nil, "serve", "--data-dir", dir, "--http-addr", ln.Addr().String(),
		"--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0")
	if r.code == 0 {
		t.Fatalf("serve on a taken port exited 0")
	}
	s := startServe(t, dir)
	waitFor(t, "the server to be ready", 10*time.Second, func() bool {
		s.exited(t)
		return strings.Contains(s.stderr.String(), "parley ready")
	})
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exit code = %d", code)
	}
	if !strings.Contains(s.stdout.String(), "ConnectyCube.init(") {
		t.Errorf("the first successful start printed no welcome (stdout %q): the failed start had already created the default app", s.stdout.String())
	}
}
