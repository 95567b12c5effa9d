//go:build !unix

package datadir

import (
	"fmt"
	"os"
)

// usable is a stat where access(2) does not exist: Parley is built and
// tested on Unix; elsewhere the store's own error says what is wrong.
func usable(path string, _ bool) error {
	_, err := os.Stat(path)
	return err
}

func isReadOnlyFS(error) bool { return false }

func currentUser() string { return "this user" }

func ownerOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("mode %v", fi.Mode())
}
