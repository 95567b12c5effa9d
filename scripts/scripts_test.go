// Package scripts_test checks the shell scripts' behaviour that can be
// checked without running them for real (bench-peers.sh installs and
// starts servers as root: here it only ever gets as far as finding the
// peers' files, which the tests make sure it does not find complete).
package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// peerFiles are the files bench-peers.sh needs in the bench-peers dir.
var peerFiles = []string{"ejabberd-bench.yml", "ejabberdctl-bench.cfg", "prosody-bench.cfg.lua",
	"gen-users.sh", "register-ejabberd.sh", "register-prosody.sh"}

// bench-peers.sh finds ../shared/bench-peers beside the repository it is
// in, wherever that is and from whatever directory it is run; from a
// linked worktree elsewhere, the one beside the main worktree; and
// BENCH_PEERS_DIR overrides both. Each layout below lacks one of the
// peers' files, so the script stops there, naming the full path it
// resolved, before it checks for root or touches anything.
func TestBenchPeersFindsSharedRelativeToTheRepository(t *testing.T) {
	script, err := os.ReadFile("bench-peers.sh")
	if err != nil {
		t.Fatal(err)
	}
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(base, "work", "main")
	write(t, filepath.Join(repo, "scripts", "bench-peers.sh"), script, 0o755)
	shared := filepath.Join(base, "work", "shared", "bench-peers")
	for _, f := range peerFiles[:len(peerFiles)-1] { // register-prosody.sh missing
		write(t, filepath.Join(shared, f), []byte("x"), 0o644)
	}
	missing := filepath.Join(shared, "register-prosody.sh") + " is missing"

	git(t, repo, "init", "-q")
	git(t, repo, "add", ".")
	git(t, repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")
	wt := filepath.Join(base, "elsewhere", "wt")
	git(t, repo, "worktree", "add", "-q", wt)

	other := filepath.Join(base, "other-peers")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, dir, script, peersEnv, want string
	}{
		{"absolute path", "/", filepath.Join(repo, "scripts", "bench-peers.sh"), "", missing},
		{"relative path from the repository", repo, "scripts/bench-peers.sh", "", missing},
		{"relative path from scripts", filepath.Join(repo, "scripts"), "./bench-peers.sh", "", missing},
		{"linked worktree elsewhere", base, "elsewhere/wt/scripts/bench-peers.sh", "", missing},
		{"BENCH_PEERS_DIR", repo, "scripts/bench-peers.sh", other, filepath.Join(other, "ejabberd-bench.yml") + " is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("bash", c.script)
			cmd.Dir = c.dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + base}
			if c.peersEnv != "" {
				cmd.Env = append(cmd.Env, "BENCH_PEERS_DIR="+c.peersEnv)
			}
			cmd.WaitDelay = 10 * time.Second
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("bench-peers.sh: %v; want exit 1; output:\n%s", err, out)
			}
			want := "bench-peers: " + c.want + ": set BENCH_PEERS_DIR"
			if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, want) || strings.Contains(got, "\n") {
				t.Errorf("output %q\nwant one line starting %q", got, want)
			}
		})
	}
}

func write(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
