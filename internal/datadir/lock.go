// Package datadir guards a data directory against two servers: the first
// `parley serve` takes an exclusive lock on a file in it, and a second one
// on the same directory stops with the holder's PID instead of starting and
// splitting live delivery with the first (each would route only to its own
// connections while both stored into one database). The command-line tools
// that are safe beside a server (app create, app list, dialog
// create-broadcast, class create, class list, class records) do not take
// it.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the name of the lock file inside a data directory.
const LockFile = "serve.lock"

// Lock is a held data-directory lock; Release gives it up. The operating
// system releases it too when the process dies, however it dies, so a
// SIGKILL leaves nothing to clean up: the file stays, unlocked.
type Lock struct {
	f *os.File
}

// ErrLocked is wrapped by the error of Acquire when another process holds
// the lock.
var ErrLocked = errors.New("data directory in use")

// Acquire prepares dir (creating it if needed; Prepare) and takes its lock
// without waiting. When another process holds it, the error names the
// directory and that process's PID.
func Acquire(dir string) (*Lock, error) {
	if err := Prepare(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		holder := readPID(f)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &LockedError{Dir: dir, Path: path, PID: holder}
		}
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	// The PID is for the message above only: the lock is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// LockedError is Acquire's error when another process holds the lock;
// it is ErrLocked (errors.Is). Commands other than serve (restore) word
// their own message from its fields.
type LockedError struct {
	Dir  string
	Path string // the lock file
	PID  int    // the holder's, as it wrote it; 0 when unknown
}

// Holder names the process holding the lock.
func (e *LockedError) Holder() string {
	if e.PID > 0 {
		return "process " + strconv.Itoa(e.PID)
	}
	return "another process"
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v: %s is served by %s (lock file %s); stop it first, or give this server another --data-dir", ErrLocked, e.Dir, e.Holder(), e.Path)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Release gives the lock up. It is safe to call on nil and twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	unlockFile(f)
	return f.Close()
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		return 0
	}
	return pid
}
