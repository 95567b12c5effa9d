package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every start on a data dir that already has apps says how many and which
// command prints their auth keys, and that command, run as printed (by a
// shell: the dir has a space and a quote), does print them.
func TestServeTellsWhereTheAuthKeysAreOnEveryLaterStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my data's dir")
	parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "first"))
	second := parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "second"))

	s := startServe(t, dir)
	waitFor(t, "the server to be ready", 10*time.Second, func() bool {
		s.exited(t)
		return strings.Contains(s.stderr.String(), "parley ready")
	})
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exit code %d; stderr:\n%s", code, s.stderr.String())
	}
	out := s.stdout.String()
	quoted := `'` + strings.ReplaceAll(dir, `'`, `'\''`) + `'`
	want := "2 applications in " + dir + "; `parley app list --data-dir " + quoted + "` prints their auth keys\n"
	if out != want {
		t.Fatalf("stdout = %q\nwant     %q", out, want)
	}
	// The command as printed, split as a POSIX shell would: its argument
	// is the data dir itself.
	cmd := out[strings.Index(out, "`")+1 : strings.LastIndex(out, "`")]
	args := shellSplit(t, cmd)
	if len(args) != 5 || args[0] != "parley" || args[4] != dir {
		t.Fatalf("printed command %q splits into %q; want parley app list --data-dir %q", cmd, args, dir)
	}
	r := run(t, nil, args[1:]...)
	if r.code != 0 || !strings.Contains(r.stdout, second.AuthKey) {
		t.Errorf("%q: exit %d, stdout %q; want the apps with auth key %s", cmd, r.code, r.stdout, second.AuthKey)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

// shellSplit splits s into words the way a POSIX shell does for the
// quoting printAppsHint uses: plain words and single-quoted parts.
func shellSplit(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, inWord := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in && c == '\'':
			in = false
		case in:
			cur.WriteByte(c)
		case c == '\'':
			in, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if in {
		t.Fatalf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
