package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
)

// appLister is what printAppsHint needs of the auth service.
type appLister interface {
	ListApps(ctx context.Context) ([]auth.App, error)
}

// printAppsHint tells, at every start but the first, where the auth keys
// the welcome printed once are now: the welcome scrolls away, and a
// newcomer restarting the server would otherwise not know how to find
// them. The data dir is made absolute (the command works from anywhere)
// and quoted for a shell when it needs to be.
func printAppsHint(ctx context.Context, w io.Writer, apps appLister, dataDir string) error {
	list, err := apps.ListApps(ctx)
	if err != nil {
		return err
	}
	dir := dataDir
	if abs, err := filepath.Abs(dataDir); err == nil {
		dir = abs
	}
	noun, them := "applications", "their auth keys"
	if len(list) == 1 {
		noun, them = "application", "its auth key"
	}
	_, err = fmt.Fprintf(w, "%d %s in %s; `parley app list --data-dir %s` prints %s\n",
		len(list), noun, dir, shellQuote(dir), them)
	return err
}

// shellQuote quotes s for a POSIX shell unless it needs no quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
