package backup

import (
	"archive/tar"
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
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/store/sqlite"
)

// CreateOptions are parley backup's.
type CreateOptions struct {
	DataDir string
	To      string
	Force   bool   // overwrite an existing To
	Version string // of this parley, recorded in the manifest
	// Progress receives human-readable progress lines; nil discards them.
	Progress io.Writer
}

// ErrExists is wrapped by Create's error when To exists and Force is off.
var ErrExists = errors.New("backup file exists")

// Create writes a backup of o.DataDir to o.To. The server may be running
// on the data directory: the databases are copied consistently, the rest
// is files that are only ever replaced whole.
func Create(ctx context.Context, o CreateOptions) (Manifest, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	if st, err := os.Stat(o.DataDir); errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("data dir %s does not exist", o.DataDir)
	} else if err != nil {
		return Manifest{}, fmt.Errorf("data dir: %w", err)
	} else if !st.IsDir() {
		return Manifest{}, fmt.Errorf("data dir %s is not a directory", o.DataDir)
	}
	if !o.Force {
		if _, err := os.Lstat(o.To); err == nil {
			return Manifest{}, fmt.Errorf("%w: %s (pass --force to overwrite it)", ErrExists, o.To)
		}
	}
	outDir := filepath.Dir(o.To)
	staging, err := os.MkdirTemp(outDir, ".parley-backup-*")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup file's directory: %w", err)
	}
	defer os.RemoveAll(staging)

	last := time.Time{}
	copied, err := sqlite.CopyStore(ctx, o.DataDir, staging, func(file string, written, total int64) {
		if written < total && time.Since(last) < 900*time.Millisecond {
			return
		}
		last = time.Now()
		if written < total {
			fmt.Fprintf(progress, "backup: copying %s: %s of about %s\n", file, mib(written), mib(total))
		} else {
			fmt.Fprintf(progress, "backup: copied %s (%s)\n", file, mib(written))
		}
	})
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: Format, Parley: o.Version, CreatedAt: time.Now().UTC(), DataDir: absPath(o.DataDir),
		Migrations: copied.Migrations, LastMessageSeq: copied.LastMessageSeq, SearchIndex: copied.Search, SearchNote: copied.SearchNote}

	entries := []entry{{sqlite.FileName, filepath.Join(staging, sqlite.FileName)}}
	if copied.Search {
		entries = append(entries, entry{sqlite.SearchFileName, filepath.Join(staging, sqlite.SearchFileName)})
	}
	for _, name := range keyFiles {
		entries = append(entries, entry{name, filepath.Join(o.DataDir, name)})
	}
	blobs, note, err := listBlobs(o.DataDir)
	if err != nil {
		return Manifest{}, err
	}
	m.BlobsNote = note
	entries = append(entries, blobs...)

	tmp, err := os.CreateTemp(outDir, ".parley-backup-*.tmp")
	if err != nil {
		return Manifest{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var w io.Writer = tmp
	var gz *gzip.Writer
	if strings.HasSuffix(o.To, ".gz") || strings.HasSuffix(o.To, ".tgz") {
		// Fastest compression: databases still shrink to about 40%, and
		// a backup should not hold a core for long.
		gz, _ = gzip.NewWriterLevel(tmp, gzip.BestSpeed)
		w = gz
	}
	tw := tar.NewWriter(w)
	counter := &progressWriter{out: progress, file: o.To, total: totalSize(entries)}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		f, err := addFile(tw, counter, e.name, e.src)
		if errors.Is(err, fs.ErrNotExist) {
			// A key the server has not made, or blob content deleted
			// since the listing (its blob was being deleted).
			continue
		}
		if err != nil {
			return Manifest{}, err
		}
		m.Files = append(m.Files, f)
		if strings.HasPrefix(e.name, blobDir+"/") {
			m.Blobs++
		}
	}
	counter.done()
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(raw)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return Manifest{}, err
	}
	if _, err := tw.Write(raw); err != nil {
		return Manifest{}, err
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return Manifest{}, err
		}
	}
	if err := tmp.Chmod(0o600); err != nil {
		return Manifest{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Manifest{}, err
	}
	if err := tmp.Close(); err != nil {
		return Manifest{}, err
	}
	if o.Force {
		err = os.Rename(tmp.Name(), o.To)
	} else {
		// Link, not rename: a file that appeared meanwhile is not replaced.
		err = os.Link(tmp.Name(), o.To)
		if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%w: %s (pass --force to overwrite it)", ErrExists, o.To)
		}
	}
	if err != nil {
		return Manifest{}, err
	}
	return m, syncDir(outDir)
}

// entry is a file to archive: its name in the archive and its path.
type entry struct{ name, src string }

// listBlobs lists the blob content in the data directory. It is copied
// after the databases: content uploaded since is swept at the restored
// server's start (it has no blob row), and only content deleted in
// between is missing (its blob was being deleted).
func listBlobs(dataDir string) ([]entry, string, error) {
	dir := filepath.Join(dataDir, blobDir)
	files, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no blobs directory in the data dir: blob content kept elsewhere (--blob-store s3://...) is not in this backup", nil
	}
	if err != nil {
		return nil, "", err
	}
	var out []entry
	for _, f := range files {
		if f.Type().IsRegular() && validBlobKey(f.Name()) { // not .tmp: uploads in progress
			out = append(out, entry{blobDir + "/" + f.Name(), filepath.Join(dir, f.Name())})
		}
	}
	return out, "blob content in <data-dir>/blobs only: content kept in S3 (--blob-store) is not in this backup", nil
}

func totalSize(entries []entry) int64 {
	var n int64
	for _, e := range entries {
		if st, err := os.Stat(e.src); err == nil {
			n += st.Size()
		}
	}
	return n
}

// progressWriter counts the bytes archived and reports them about once
// a second.
type progressWriter struct {
	out         io.Writer
	file        string
	total, n    int64
	last        time.Time
	reportedAny bool
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.last.IsZero() {
		p.last = time.Now()
	} else if time.Since(p.last) >= time.Second {
		p.last = time.Now()
		p.reportedAny = true
		fmt.Fprintf(p.out, "backup: writing %s: %s of %s\n", p.file, mib(p.n), mib(p.total))
	}
	return len(b), nil
}

func (p *progressWriter) done() {
	if p.reportedAny {
		fmt.Fprintf(p.out, "backup: wrote %s (%s archived)\n", p.file, mib(p.n))
	}
}

// addFile writes src into tw as name, hashing it and counting it into
// progress on the way.
func addFile(tw *tar.Writer, progress io.Writer, name, src string) (File, error) {
	f, err := os.Open(src)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return File{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h, progress), f)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", src, err)
	}
	if n != st.Size() {
		return File{}, fmt.Errorf("%s changed size while being copied", src)
	}
	return File{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
