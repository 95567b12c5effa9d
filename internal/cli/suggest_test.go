package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// Every command answers a mistyped flag in one line naming it with two
// dashes and, when one is near, the flag that was meant; Go's own wording
// ("flag provided but not defined: -x") never reaches the user.
func TestUnknownFlagSuggestsTheNearest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--max-watch", "5"}, "parley serve: unknown flag --max-watch; did you mean --max-watched?"},
		{[]string{"serve", "--data-dri", dir}, "parley serve: unknown flag --data-dri; did you mean --data-dir?"},
		{[]string{"serve", "-http-adr=:1"}, "parley serve: unknown flag --http-adr; did you mean --http-addr?"},
		{[]string{"serve", "--frobnicate"}, "parley serve: unknown flag --frobnicate (parley serve -h lists the flags)"},
		{[]string{"app", "list", "--datadir", dir}, "parley app list: unknown flag --datadir; did you mean --data-dir?"},
		{[]string{"app", "create", "--nmae", "x"}, "parley app create: unknown flag --nmae; did you mean --name?"},
		{[]string{"app", "update", "--vapid-gen"}, "parley app update: unknown flag --vapid-gen; did you mean --vapid-generate?"},
		{[]string{"push", "status", "--jsn"}, "parley push status: unknown flag --jsn; did you mean --json?"},
		{[]string{"dialog", "create-broadcast", "--onwer", "1"}, "parley dialog create-broadcast: unknown flag --onwer; did you mean --owner?"},
		{[]string{"class", "list", "--ap", "1"}, "parley class list: unknown flag --ap; did you mean --app?"},
		{[]string{"bench", "seed", "--user", "1"}, "parley bench seed: unknown flag --user; did you mean --users?"},
		{[]string{"bench", "xmpp", "--connz", "1"}, "parley bench xmpp: unknown flag --connz; did you mean --conns?"},
		{[]string{"bench", "status", "--watcher", "1"}, "parley bench status: unknown flag --watcher; did you mean --watchers?"},
		// Go's other flag errors, in the same words.
		{[]string{"serve", "--session-ttl"}, "parley serve: --session-ttl needs a value"},
		{[]string{"serve", "--procs", "many"}, `parley serve: --procs: invalid value "many": parse error`},
		{[]string{"frobnicate"}, `parley: unknown command "frobnicate" (see parley help)`},
		{[]string{"serv"}, `parley: unknown command "serv"; did you mean parley serve?`},
		{[]string{"backpu"}, `parley: unknown command "backpu"; did you mean parley backup?`},
		// Subcommands: every group lists its own, with the nearest after a typo.
		{[]string{"app"}, "parley app: missing subcommand: create, list or update"},
		{[]string{"app", "lsit"}, `parley app: unknown subcommand "lsit": create, list or update; did you mean parley app list?`},
		{[]string{"bench", "frob"}, `parley bench: unknown subcommand "frob": seed, chat, xmpp or status`},
		{[]string{"push", "stat"}, `parley push: unknown subcommand "stat": status; did you mean parley push status?`},
		{[]string{"dialog"}, "parley dialog: missing subcommand: create-broadcast"},
		{[]string{"class", "record"}, `parley class: unknown subcommand "record": create, list or records; did you mean parley class records?`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := run(t, nil, c.args...)
			if r.code != 2 {
				t.Errorf("exit code %d; want 2", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q; want nothing", r.stdout)
			}
			if got := strings.TrimSuffix(r.stderr, "\n"); got != c.want {
				t.Errorf("stderr = %q\nwant     %q", r.stderr, c.want)
			}
		})
	}
	notExist(t, dir)
}
