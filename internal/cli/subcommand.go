package cli

import (
	"context"
	"fmt"
	"strings"
)

// subcommand is one verb of a command group (`parley app create`, …).
type subcommand struct {
	name string
	run  func(context.Context, []string, Env) error
}

// runSubcommand runs the subcommand args[0] of group. A missing or unknown
// one is a usage error that names the group's subcommands, and the nearest
// one after a typo, as Run does for commands.
func runSubcommand(ctx context.Context, group string, subs []subcommand, args []string, env Env) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		if len(args) > 0 && args[0] == s.name {
			return s.run(ctx, args[1:], env)
		}
		names[i] = s.name
	}
	list := names[len(names)-1]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " or " + list
	}
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "parley %s: missing subcommand: %s\n", group, list)
		return errUsage
	}
	hint := ""
	if s := nearest(args[0], names); s != "" {
		hint = "; did you mean parley " + group + " " + s + "?"
	}
	fmt.Fprintf(env.Stderr, "parley %s: unknown subcommand %q: %s%s\n", group, args[0], list, hint)
	return errUsage
}
