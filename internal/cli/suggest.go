package cli

import (
	"flag"
	"fmt"
	"strings"
)

// Go's flag package reports a bad command line in its own words
// ("flag provided but not defined: -max-watch"); flagProblem turns its
// errors into ours: the flag with two dashes, as the usage shows it, and
// for an unknown one the nearest defined flag. The texts matched are the
// flag package's, unchanged since Go 1.
func flagProblem(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		out := "unknown flag --" + name
		if s := nearest(name, flagNames(fs)); s != "" {
			return out + "; did you mean --" + s + "?"
		}
		return out + " (parley " + fs.Name() + " -h lists the flags)"
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "--" + strings.TrimLeft(name, "-") + " needs a value"
	}
	// invalid value "x" for flag -name: reason
	if rest, ok := strings.CutPrefix(msg, "invalid "); ok {
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			what, tail := rest[:i], rest[i+len(" for flag -"):]
			if j := strings.Index(tail, ": "); j >= 0 {
				return fmt.Sprintf("--%s: invalid %s: %s", tail[:j], what, tail[j+2:])
			}
		}
	}
	return msg
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// nearest is the candidate closest to name, or "" when none is close
// enough to be what was meant: one that name is a prefix of (an unfinished
// name), else the one fewest edits away, if those edits are at most a
// third of the name (and at least two are allowed: a typo and a swap).
func nearest(name string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if strings.HasPrefix(c, name) && len(name) >= 3 {
			d := 0 // unfinished: preferred to any edit; the shortest wins
			if bestD != 0 || len(c) < len(best) {
				best, bestD = c, d
			}
			continue
		}
		if bestD == 0 {
			continue
		}
		if d := editDistance(name, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(name)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, with an adjacent
// swap counting as one edit (optimal string alignment).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
