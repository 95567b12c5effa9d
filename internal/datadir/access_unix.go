//go:build unix

package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// usable checks with access(2) that this process may read and write path
// (and enter it, for a directory): the kernel's answer for this user,
// groups and ACLs included, without changing anything.
func usable(path string, dir bool) error {
	mode := uint32(0x4 | 0x2) // R_OK | W_OK
	if dir {
		mode |= 0x1 // X_OK
	}
	if err := syscall.Access(path, mode); err != nil {
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			return fs.ErrPermission
		}
		return err
	}
	return nil
}

func isReadOnlyFS(err error) bool { return errors.Is(err, syscall.EROFS) }

func currentUser() string { return fmt.Sprintf("uid %d", os.Geteuid()) }

// ownerOf says whose path is and its mode, for the operator's chown/chmod.
func ownerOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("it belongs to uid %d, mode %v; run parley as its owner, or change the owner or mode", st.Uid, fi.Mode())
	}
	return fmt.Sprintf("mode %v", fi.Mode())
}
