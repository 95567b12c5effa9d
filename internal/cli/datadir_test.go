package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cli"
)

// nobody is the user the unwritable case runs as when the tests run as
// root (root may write anything, so it would prove nothing).
const nobody = 65534

// A data dir the server or a tool cannot use is refused in one line that
// says why in words: a file, a dir this user may not write (naming the
// user and the owner), a dir another server holds (naming its PID). Never
// SQLite's "unable to open database file (14)".
func TestUnusableDataDirIsSaidInWords(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--data-dir", file, "--http-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0"},
		{"app", "list", "--data-dir", file},
		{"app", "create", "--name", "x", "--data-dir", file},
	} {
		r := run(t, nil, args...)
		wantOneLine(t, r, "parley "+args[0]+": data dir "+file+" is a file, not a directory")
	}
	// From the variable too: the same words.
	r := run(t, map[string]string{"PARLEY_DATA_DIR": file}, "app", "list")
	wantOneLine(t, r, "parley app: data dir "+file+" is a file, not a directory")

	t.Run("locked by another server", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		first := startServe(t, dir)
		waitFor(t, "the first server to be ready", 10*time.Second, func() bool {
			first.exited(t)
			return strings.Contains(first.stderr.String(), "parley ready")
		})
		r := run(t, nil, "serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0")
		wantOneLine(t, r, fmt.Sprintf("parley serve: data directory in use: %s is served by process %d (lock file %s); stop it first",
			dir, os.Getpid(), filepath.Join(dir, "serve.lock")))
		// The tools that are safe beside a server still work.
		if apps := listApps(t, dir); len(apps) != 1 {
			t.Errorf("app list beside the server: %d apps; want the default one", len(apps))
		}
	})

	t.Run("not writable by this user", func(t *testing.T) {
		dir := filepath.Join(openDir(t), "data")
		parseCreated(t, run(t, nil, "app", "create", "--name", "x", "--data-dir", dir))
		if err := os.Chmod(dir, 0o755); err != nil { // readable by others, writable by its owner only
			t.Fatal(err)
		}
		owner, user := os.Geteuid(), os.Geteuid()
		if user == 0 {
			user = nobody
		} else {
			// Not root: the owner loses write access, as another user would.
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
		}
		mode := map[bool]string{true: "drwxr-xr-x", false: "dr-xr-xr-x"}[os.Geteuid() == 0]
		want := fmt.Sprintf("data dir %s is not writable by this user (uid %d): it belongs to uid %d, mode %s", dir, user, owner, mode)
		for _, args := range [][]string{
			{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0", "--xmpp-addr", "127.0.0.1:0"},
			{"app", "list", "--data-dir", dir},
		} {
			r := runAsAnotherUser(t, args...)
			wantOneLine(t, r, "parley "+args[0]+": "+want)
		}
	})
}

// wantOneLine asserts a refusal: exit 1, nothing on stdout, one line on
// stderr starting with prefix.
func wantOneLine(t *testing.T, r result, prefix string) {
	t.Helper()
	if r.code != 1 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", r.code, r.stdout)
	}
	if ls := lines(t, "stderr", r.stderr); len(ls) != 1 || !strings.HasPrefix(ls[0], prefix) {
		t.Errorf("stderr = %q\nwant one line starting %q", r.stderr, prefix)
	}
}

// runAsAnotherUser runs the command line as a user who does not own the
// test's files: in this process when the tests do not run as root, else in
// a child (this test binary, TestCLIChild) running as nobody.
func runAsAnotherUser(t *testing.T, args ...string) result {
	t.Helper()
	if os.Geteuid() != 0 {
		return run(t, nil, args...)
	}
	bin := filepath.Join(openDir(t), "cli.test")
	copyExecutable(t, os.Args[0], bin)
	js, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestCLIChild$")
	cmd.Env = append(os.Environ(), "PARLEY_TEST_CLI_ARGS="+string(js))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("child as uid %d: %v", nobody, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// TestCLIChild is the child of runAsAnotherUser: it runs the command line
// it is given, with the real stdout and stderr, and exits with its code.
// It does nothing in a normal run.
func TestCLIChild(t *testing.T) {
	js := os.Getenv("PARLEY_TEST_CLI_ARGS")
	if js == "" {
		t.Skip("the child of runAsAnotherUser")
	}
	var args []string
	if err := json.Unmarshal([]byte(js), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(cli.Run(t.Context(), args, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: func(string) string { return "" }}))
}

// openDir is a temporary directory every user may enter (the child running
// as nobody must reach what is under it).
func openDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "parley-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
