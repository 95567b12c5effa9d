package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// The commands end to end: a backup of a store made by app create (data
// dir from PARLEY_DATA_DIR), no overwrite without --force (PARLEY_FORCE
// in the environment does not count), a restore whose app list matches,
// a second restore refused, and the usage errors.
func TestBackupRestoreCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if r := run(t, nil, "app", "create", "--name", "kept", "--data-dir", dir); r.code != 0 {
		t.Fatalf("app create: %d %s", r.code, r.stderr)
	}
	file := filepath.Join(t.TempDir(), "b.tgz")
	env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_FORCE": "true"}
	r := run(t, env, "backup", "--to", file)
	if r.code != 0 || !strings.Contains(r.stdout, "backup written to "+file) {
		t.Fatalf("backup: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "backup", "--to", file)
	if r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("backup over an existing file: %d %q; want exit 1 naming --force", r.code, r.stderr)
	}
	if r = run(t, env, "backup", "--to", file, "--force"); r.code != 0 {
		t.Fatalf("backup --force: %d %q", r.code, r.stderr)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if r = run(t, nil, "restore", "--from", file, "--data-dir", restored); r.code != 0 || !strings.Contains(r.stdout, "restored "+file) {
		t.Fatalf("restore: %d %q %q", r.code, r.stdout, r.stderr)
	}
	before, after := run(t, nil, "app", "list", "--data-dir", dir), run(t, nil, "app", "list", "--data-dir", restored)
	if before.code != 0 || after.code != 0 || before.stdout != after.stdout || !strings.Contains(after.stdout, "kept") {
		t.Fatalf("app list before %q, after restore %q", before.stdout, after.stdout)
	}
	r = run(t, nil, "restore", "--from", file, "--data-dir", restored)
	if r.code != 1 || !strings.Contains(r.stderr, "not empty") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("restore into a restored dir: %d %q", r.code, r.stderr)
	}

	for _, args := range [][]string{{"backup"}, {"restore", "--data-dir", restored}, {"backup", "--to", file, "extra"}} {
		if r := run(t, nil, args...); r.code != 2 || r.stderr == "" {
			t.Errorf("%v: %d %q; want exit 2 with a message", args, r.code, r.stderr)
		}
	}
	for _, cmd := range []string{"backup", "restore"} {
		if r := run(t, nil, cmd, "-h"); r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: parley "+cmd) {
			t.Errorf("%s -h: %d %q", cmd, r.code, r.stdout)
		}
	}
}
