package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is Content on the local filesystem: one file per key in dir, written
// first under dir/.tmp, fsynced, then renamed into place (a rename within
// one filesystem is atomic), so a crash leaves either the old object, the
// new one, or a temporary file that the startup Sweep removes — never a
// half-written object under its key.
type FS struct {
	dir string
}

// tmpDir is where writes in progress live, inside the content directory so
// that the final rename never crosses filesystems.
const tmpDir = ".tmp"

// NewFS returns the filesystem store rooted at dir, creating it.
func NewFS(dir string) (*FS, error) {
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	return &FS{dir: dir}, nil
}

// validKey admits only what Parley's uids are made of (lowercase hex), so a
// key can never name a path outside dir whatever a caller passes.
func validKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *FS) path(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return filepath.Join(s.dir, key), nil
}

func (s *FS) Put(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	dst, err := s.path(key)
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), key+".*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// io.Copy moves 32 KiB at a time: memory does not grow with the file.
	if n, err = io.Copy(f, r); err != nil {
		return n, err
	}
	if err = ctx.Err(); err != nil {
		return n, err
	}
	if err = f.Sync(); err != nil {
		return n, err
	}
	if err = f.Close(); err != nil {
		return n, err
	}
	if err = os.Rename(f.Name(), dst); err != nil {
		return n, err
	}
	// The rename itself is durable only once the directory is synced.
	return n, syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type fsObject struct {
	*os.File
	size int64
}

func (o fsObject) Size() int64 { return o.size }

func (s *FS) Open(_ context.Context, key string) (Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, ErrNotFound
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return fsObject{File: f, size: st.Size()}, nil
}

func (s *FS) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *FS) Keys(ctx context.Context, fn func(key string) error) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !validKey(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// Sweep removes every temporary file: it runs before the server accepts
// uploads, so none of them belongs to a write in progress.
func (s *FS) Sweep(context.Context) error {
	entries, err := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.dir, tmpDir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
