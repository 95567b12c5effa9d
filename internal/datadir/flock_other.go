//go:build !unix

package datadir

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("locked")

// lockFile is a no-op where flock(2) does not exist: Parley is built and
// tested on Unix; elsewhere a second server is not detected.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
