package backup

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/datadir"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// RestoreOptions are parley restore's.
type RestoreOptions struct {
	From    string
	DataDir string
	Force   bool // replace the store of a data dir that has one
	// Progress receives human-readable progress lines; nil discards them.
	Progress io.Writer
}

// Errors Restore's error wraps, besides datadir.ErrLocked.
var (
	ErrNotEmpty = errors.New("data dir is not empty")
	ErrDamaged  = errors.New("backup is damaged or not a parley backup")
	ErrTooNew   = errors.New("backup comes from a newer parley")
)

// Restore puts the backup o.From in place in o.DataDir. It holds the data
// directory's lock throughout, so it refuses while a server runs there
// and no server starts on a half-restored store. The backup is unpacked
// into the data directory (same filesystem: the files are then renamed
// into place) and checked — sizes and SHA-256 against the manifest,
// integrity_check, schema migrations this binary knows — before anything
// there is replaced.
func Restore(ctx context.Context, o RestoreOptions) (Manifest, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	in, err := os.Open(o.From)
	if err != nil {
		return Manifest{}, fmt.Errorf("backup file: %w", err)
	}
	defer in.Close()
	lock, err := datadir.Acquire(o.DataDir)
	if err != nil {
		if le := (*datadir.LockedError)(nil); errors.As(err, &le) {
			return Manifest{}, fmt.Errorf("%w: %s is served by %s (lock file %s); stop the server before restoring", datadir.ErrLocked, le.Dir, le.Holder(), le.Path)
		}
		return Manifest{}, err
	}
	defer lock.Release()
	present, err := presentFiles(o.DataDir)
	if err != nil {
		return Manifest{}, err
	}
	if len(present) > 0 && !o.Force {
		return Manifest{}, fmt.Errorf("%w: %s holds %s (pass --force to replace its store with the backup)", ErrNotEmpty, o.DataDir, strings.Join(present, ", "))
	}
	staging, err := os.MkdirTemp(o.DataDir, ".parley-restore-*")
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(staging)
	fmt.Fprintf(progress, "restore: unpacking %s\n", o.From)
	m, err := unpack(ctx, in, staging)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrDamaged, o.From, err)
	}
	fmt.Fprintf(progress, "restore: checking the databases (integrity_check)\n")
	if _, err := sqlite.CheckCopy(ctx, staging); err != nil {
		if errors.Is(err, sqlite.ErrNewerSchema) {
			made := ""
			if m.Parley != "" {
				made = " (" + m.Parley + ")"
			}
			return Manifest{}, fmt.Errorf("%w%s: %v", ErrTooNew, made, err)
		}
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrDamaged, o.From, err)
	}
	for _, name := range storeFiles() {
		if err := os.RemoveAll(filepath.Join(o.DataDir, name)); err != nil {
			return Manifest{}, err
		}
	}
	for _, name := range storeFiles() {
		err := os.Rename(filepath.Join(staging, name), filepath.Join(o.DataDir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Manifest{}, err
		}
	}
	fmt.Fprintf(progress, "restore: done\n")
	return m, syncDir(o.DataDir)
}

// presentFiles lists what in dir a restore would replace or is not
// Parley's: everything but the lock file.
func presentFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Name() != datadir.LockFile {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// unpack writes the archive's files into dir and checks them against its
// manifest.
func unpack(ctx context.Context, r io.Reader, dir string) (Manifest, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return Manifest{}, err
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	got := map[string]File{}
	var m *Manifest
	for {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Manifest{}, err
		}
		if m != nil {
			return Manifest{}, fmt.Errorf("%s is not the last entry", ManifestName)
		}
		if h.Typeflag != tar.TypeReg || !validName(h.Name) {
			return Manifest{}, fmt.Errorf("unexpected entry %q", h.Name)
		}
		if h.Name == ManifestName {
			var mm Manifest
			if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(&mm); err != nil {
				return Manifest{}, fmt.Errorf("%s: %w", ManifestName, err)
			}
			m = &mm
			continue
		}
		if _, dup := got[h.Name]; dup {
			return Manifest{}, fmt.Errorf("%s twice", h.Name)
		}
		f, err := extract(tr, h.Name, dir)
		if err != nil {
			return Manifest{}, err
		}
		got[h.Name] = f
	}
	if m == nil {
		return Manifest{}, fmt.Errorf("no %s (the file is cut short, or not a parley backup)", ManifestName)
	}
	if m.Format != Format {
		return Manifest{}, fmt.Errorf("backup format %d; this parley reads format %d", m.Format, Format)
	}
	if len(m.Files) != len(got) {
		return Manifest{}, fmt.Errorf("%d files, the manifest lists %d", len(got), len(m.Files))
	}
	for _, want := range m.Files {
		if got[want.Name] != want {
			return Manifest{}, fmt.Errorf("%s: size or SHA-256 differs from the manifest", want.Name)
		}
	}
	if !slices.ContainsFunc(m.Files, func(f File) bool { return f.Name == sqlite.FileName }) {
		return Manifest{}, fmt.Errorf("no %s", sqlite.FileName)
	}
	return *m, nil
}

func extract(r io.Reader, name, dir string) (File, error) {
	dst := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return File{}, err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	return File{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
