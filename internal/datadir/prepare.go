package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Prepare creates dir if it is missing and checks that this process can
// use it: a directory, writable, with every file and folder directly in it
// readable and writable. Each problem is said in words, naming the path,
// this user and the owner, where SQLite would say "unable to open
// database file (14)" and os would say "permission denied" without
// saying whose. The server and the command-line tools call it before they
// touch the store.
func Prepare(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("data dir %s is a file, not a directory; give a directory (it is created when missing)", dir)
	case err != nil:
		// Missing, or under a file or a directory this user may not
		// enter: create says which.
		if err := create(dir, errors.Is(err, fs.ErrNotExist)); err != nil {
			return err
		}
	}
	if err := usable(dir, true); err != nil {
		return describe("data dir "+dir, dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return describe("data dir "+dir, dir, err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if err := usable(p, e.IsDir()); err != nil && !errors.Is(err, fs.ErrNotExist) { // a dangling link is not ours to judge
			return describe("data dir "+dir+": "+e.Name(), p, err)
		}
	}
	return nil
}

// create makes dir, saying why it cannot: the nearest existing ancestor is
// a file, or this user may not write (or enter) it. missing is whether dir
// is known not to exist (else it may exist where this user cannot look).
func create(dir string, missing bool) error {
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	for {
		fi, serr := os.Stat(parent)
		if serr == nil {
			if !fi.IsDir() {
				return fmt.Errorf("data dir %s cannot be created: %s is a file, not a directory", dir, parent)
			}
			break
		}
		if next := filepath.Dir(parent); next != parent {
			parent = next
			continue
		}
		break
	}
	if errors.Is(err, fs.ErrPermission) {
		what := "data dir " + dir + " cannot be reached or created: " + parent
		if missing {
			what = "data dir " + dir + " does not exist and cannot be created: " + parent
		}
		return describe(what, parent, err)
	}
	return fmt.Errorf("data dir %s cannot be created: %w", dir, err)
}

// describe turns err about path into a sentence starting with what: a
// permission problem names this user and the path's owner and mode, a
// read-only file system says so; anything else keeps err.
func describe(what, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s is not writable by this user (%s): %s", what, currentUser(), ownerOf(path))
	case isReadOnlyFS(err):
		return fmt.Errorf("%s is on a read-only file system", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}
