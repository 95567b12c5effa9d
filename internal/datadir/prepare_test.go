package datadir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unprivileged is the user the permission cases run as when the tests run
// as root (root may write anything, so they would prove nothing): nobody.
const unprivileged = 65534

// A data dir Parley cannot use is said in words: what it is, whose it is,
// who this user is; never "permission denied" alone, nor SQLite's
// "unable to open database file (14)".
func TestPrepareSaysWhyADataDirCannotBeUsed(t *testing.T) {
	base := openTempDir(t)

	t.Run("a file", func(t *testing.T) {
		f := filepath.Join(base, "file")
		writeFile(t, f, 0o644)
		wantErr(t, Prepare(f), "data dir "+f+" is a file, not a directory")
	})
	t.Run("under a file", func(t *testing.T) {
		f := filepath.Join(base, "file2")
		writeFile(t, f, 0o644)
		wantErr(t, Prepare(filepath.Join(f, "data")), "data dir "+f+"/data cannot be created: "+f+" is a file, not a directory")
	})
	t.Run("missing, created", func(t *testing.T) {
		d := filepath.Join(base, "new", "data")
		if err := Prepare(d); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Fatalf("Prepare left %v, %v; want a 0700 directory", fi, err)
		}
	})

	// The permission cases, as a user who is not the owner.
	roDir := filepath.Join(base, "ro")
	mkdir(t, roDir, 0o755)
	roFileDir := filepath.Join(base, "rofile")
	mkdir(t, roFileDir, 0o777) // writable by all; its database file is not
	writeFile(t, filepath.Join(roFileDir, "parley.db"), 0o644)
	owner := os.Geteuid()
	if owner != 0 {
		// Not root: the owner loses write access, as another user would.
		chmod(t, roDir, 0o555)
		chmod(t, filepath.Join(roFileDir, "parley.db"), 0o444)
		owner = os.Geteuid()
		chmodFS := func() { chmod(t, roDir, 0o755); chmod(t, filepath.Join(roFileDir, "parley.db"), 0o644) }
		t.Cleanup(chmodFS)
	}
	user := fmt.Sprintf("uid %d", asUser())
	cases := []struct{ dir, want string }{
		{roDir, fmt.Sprintf("data dir %s is not writable by this user (%s): it belongs to uid %d, mode drwxr-xr-x", roDir, user, owner)},
		{filepath.Join(roDir, "data"), fmt.Sprintf("data dir %s/data does not exist and cannot be created: %s is not writable by this user (%s): it belongs to uid %d", roDir, roDir, user, owner)},
		{roFileDir, fmt.Sprintf("data dir %s: parley.db is not writable by this user (%s): it belongs to uid %d, mode -rw-r--r--", roFileDir, user, owner)},
	}
	if os.Geteuid() != 0 {
		cases[0].want = strings.Replace(cases[0].want, "drwxr-xr-x", "dr-xr-xr-x", 1)
		cases[2].want = strings.Replace(cases[2].want, "-rw-r--r--", "-r--r--r--", 1)
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			msg := prepareAsAnotherUser(t, c.dir)
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("Prepare(%s) = %q\nwant it to start %q", c.dir, msg, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(roDir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused data dir was created anyway: %v", err)
	}
}

// asUser is the uid the permission cases run as.
func asUser() int {
	if os.Geteuid() == 0 {
		return unprivileged
	}
	return os.Geteuid()
}

// prepareAsAnotherUser runs Prepare(dir) as a user who does not own the
// test's files: in this process when the tests do not run as root, else in
// a child (this test binary, TestPrepareChild) running as nobody.
func prepareAsAnotherUser(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := Prepare(dir); err != nil {
			return err.Error()
		}
		return ""
	}
	bin := filepath.Join(openTempDir(t), "datadir.test")
	copyFile(t, os.Args[0], bin, 0o755)
	cmd := exec.Command(bin, "-test.run=^TestPrepareChild$")
	cmd.Env = append(os.Environ(), "PARLEY_TEST_PREPARE_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: unprivileged, Gid: unprivileged}}
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as uid %d: %v, stdout %q", unprivileged, err, out)
	}
	msg, ok := strings.CutPrefix(strings.SplitN(string(out), "\n", 2)[0], "prepare: ")
	if !ok {
		t.Fatalf("child printed %q; want a prepare: line", out)
	}
	return msg
}

// TestPrepareChild is the child of prepareAsAnotherUser; it does nothing
// in a normal run.
func TestPrepareChild(t *testing.T) {
	dir := os.Getenv("PARLEY_TEST_PREPARE_DIR")
	if dir == "" {
		t.Skip("the child of prepareAsAnotherUser")
	}
	msg := ""
	if err := Prepare(dir); err != nil {
		msg = err.Error()
	}
	fmt.Printf("prepare: %s\n", msg)
}

// openTempDir is a temporary directory every user may enter (the child
// running as nobody must reach the files under it).
func openTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "parley-datadir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755) // so that RemoveAll may empty it
			}
			return nil
		})
		os.RemoveAll(d)
	})
	chmod(t, d, 0o755)
	return d
}

func mkdir(t *testing.T, d string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(d, mode); err != nil {
		t.Fatal(err)
	}
	chmod(t, d, mode) // past the umask
}

func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte("x"), mode); err != nil {
		t.Fatal(err)
	}
	chmod(t, p, mode)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
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

func wantErr(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %v; want one starting %q", err, prefix)
	}
}
