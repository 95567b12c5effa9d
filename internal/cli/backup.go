package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/backup"
	"github.com/parley-chat/parley/internal/config"
)

const backupHelp = `Usage: parley backup --to FILE [--data-dir DIR] [--force]

Writes a backup of the data dir to FILE while the server runs: consistent
copies of parley.db (SQLite VACUUM INTO) and of the full-text index
search.db (or a note that the restored server rebuilds it), push.key (it
seals the stored push credentials: without it they are lost),
blob-ticket.key, and the blob content in <data-dir>/blobs (content in S3 is
not covered). FILE is one tar file, gzip-compressed when its name ends in
.gz or .tgz; it ends with backup.json, listing each file's SHA-256. FILE
is written under a temporary name and appears only when complete.

Flags:
`

const restoreHelp = `Usage: parley restore --from FILE [--data-dir DIR] [--force]

Puts a backup made by parley backup in place in the data dir. The server
must be stopped (restore takes the data dir's lock, as the server does).
The data dir must be empty or absent unless --force is given; with
--force, its databases (with their WAL files), keys and blobs are replaced
and other files are left alone. Nothing is replaced unless the backup
checks out: every file's size and SHA-256 against its manifest, SQLite's
integrity_check, and schema migrations this parley knows.

Flags:
`

func backupCommand(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	to := fs.String("to", "", "backup file to write (required); .gz or .tgz: compressed")
	force := fs.Bool("force", false, "overwrite FILE if it exists")
	if err := parseCommandFlags(fs, backupHelp, args, env, &cfg); err != nil {
		return err
	}
	if strings.TrimSpace(*to) == "" {
		fmt.Fprintln(env.Stderr, "parley backup: --to FILE is required")
		return errUsage
	}
	m, err := backup.Create(ctx, backup.CreateOptions{DataDir: cfg.DataDir, To: *to, Force: *force, Version: versionString(), Progress: env.Stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backup written to %s: parley.db (%s; messages up to #%d), %s, %d blobs, %d files in all\n",
		*to, migrationsText(m.Migrations), m.LastMessageSeq, searchText(m), m.Blobs, len(m.Files))
	if m.BlobsNote != "" {
		fmt.Fprintf(env.Stderr, "backup: note: %s\n", m.BlobsNote)
	}
	return nil
}

func restoreCommand(ctx context.Context, args []string, env Env) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	cfg.StoreFlags(fs)
	from := fs.String("from", "", "backup file to restore (required)")
	force := fs.Bool("force", false, "replace the store of a data dir that is not empty")
	if err := parseCommandFlags(fs, restoreHelp, args, env, &cfg); err != nil {
		return err
	}
	if strings.TrimSpace(*from) == "" {
		fmt.Fprintln(env.Stderr, "parley restore: --from FILE is required")
		return errUsage
	}
	m, err := backup.Restore(ctx, backup.RestoreOptions{From: *from, DataDir: cfg.DataDir, Force: *force, Progress: env.Stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "restored %s (made %s by %s) into %s: messages up to #%d, %s, %d blobs\n",
		*from, m.CreatedAt.Format("2006-01-02 15:04:05 UTC"), m.Parley, cfg.DataDir, m.LastMessageSeq, searchText(m), m.Blobs)
	return nil
}

// parseCommandFlags is parseFlags with the command's help text for -h,
// and the data dir taken from PARLEY_DATA_DIR when --data-dir is not
// given. Only the data dir: a PARLEY_FORCE in the environment must not
// make a backup overwrite a file.
func parseCommandFlags(fs *flag.FlagSet, help string, args []string, env Env, cfg *config.Config) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.Stdout)
			fmt.Fprint(env.Stdout, help)
			fs.PrintDefaults()
			return flag.ErrHelp
		}
		if a == "--" {
			break
		}
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "data-dir" })
	if given {
		return nil
	}
	store := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	cfg.StoreFlags(store)
	return config.ApplyEnv(store, env.Getenv)
}

func searchText(m backup.Manifest) string {
	if m.SearchIndex {
		return "search.db"
	}
	return "no search.db (" + m.SearchNote + ")"
}

func migrationsText(vs []int) string {
	if len(vs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d schema migrations, latest %d", len(vs), vs[len(vs)-1])
}
