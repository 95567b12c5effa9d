// Package cli is Parley's command line: serve, app, version (and later
// dialog, class and bench). Each command parses its own flags, reports a bad
// flag or value in one line on stderr and exits non-zero, and writes
// machine-readable output (JSON) on stdout where scripts read it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Env is what a command may touch of the outside world; main passes the
// real ones, tests their own.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// errUsage marks an error already explained to the user; exit code 2.
var errUsage = errors.New("usage")

const usage = `parley: a chat server for the ConnectyCube SDK

Usage:
  parley serve [flags]                 run the server
  parley app create --name NAME [--dialog-extensions a,b,c] [--data-dir DIR]
  parley app list [--data-dir DIR]
  parley app update --id ID [--blob-max-size BYTES] [--blob-content-types a/b,c/*]
                    [--chat-alerts=true|false] [--push-template TEXT] [--vapid-generate] [--vapid-subject S]
                    [--fcm-service-account FILE] [--apns-key FILE --apns-key-id ID --apns-team-id ID --apns-topic T]
                    [--data-dir DIR]
  parley push status [--json] [--data-dir DIR]
  parley dialog create-broadcast --app ID --name NAME [--owner USER_ID] [--admins 1,2] [--data-dir DIR]
  parley class create --app ID --name NAME --fields name:type,... [--index a,b] [--create P --read P --update P --delete P] [--data-dir DIR]
  parley class list --app ID [--data-dir DIR]
  parley class records --app ID --name NAME [--data-dir DIR]
  parley bench seed [--data-dir DIR] [--users N --dialogs N --messages N]
  parley bench chat [--data-dir DIR] [--n RUNS --senders N --messages N]
  parley bench xmpp --auth-key KEY [--conns N --pairs N --group-size N --privacy-items N ...]
  parley bench status --auth-key KEY [--watchers N --watched N --wait D ...]
  parley backup --to FILE [--data-dir DIR] [--force]   back up while the server runs
  parley restore --from FILE [--data-dir DIR] [--force] restore while it is stopped
  parley version

Run "parley COMMAND -h" for a command's flags.
`

// commands are the commands Run knows, for the suggestion after a typo.
var commands = []string{"serve", "app", "dialog", "class", "push", "bench", "backup", "restore", "version", "help"}

// Run executes the command in args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], env)
	case "app":
		err = appCommand(ctx, args[1:], env)
	case "dialog":
		err = dialogCommand(ctx, args[1:], env)
	case "class":
		err = classCommand(ctx, args[1:], env)
	case "push":
		err = pushCommand(ctx, args[1:], env)
	case "bench":
		err = benchCommand(ctx, args[1:], env)
	case "backup":
		err = backupCommand(ctx, args[1:], env)
	case "restore":
		err = restoreCommand(ctx, args[1:], env)
	case "version", "--version", "-version":
		fmt.Fprintln(env.Stdout, versionString())
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
	default:
		hint := " (see parley help)"
		if s := nearest(args[0], commands); s != "" {
			hint = "; did you mean parley " + s + "?"
		}
		fmt.Fprintf(env.Stderr, "parley: unknown command %q%s\n", args[0], hint)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(env.Stderr, "parley %s: %s\n", args[0], oneLine(err))
		return 1
	}
}

// oneLine joins a multi-error into one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// parseFlags parses args into fs, printing a one-line error naming the bad
// flag, with the nearest one when it is unknown (or the full usage for -h),
// to env.Stderr.
func parseFlags(fs *flag.FlagSet, args []string, env Env) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.Stdout)
			fmt.Fprintf(env.Stdout, "Usage of parley %s:\n", fs.Name())
			fs.PrintDefaults()
			return err
		}
		fmt.Fprintf(env.Stderr, "parley %s: %s\n", fs.Name(), flagProblem(fs, err))
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "parley %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

func versionString() string {
	v, rev, goV := "devel", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goV = bi.GoVersion
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	out := "parley " + v
	if rev != "" {
		out += " (" + rev + ")"
	}
	return out + " " + goV
}
