package backup

import (
	"path"
	"strings"

	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// What a data directory holds besides the databases, as internal/server
// names it (blobs.go) and internal/push (seal.go).
const (
	blobDir        = "blobs"
	blobSecretFile = "blob-ticket.key"
)

// keyFiles are copied as they are when present.
var keyFiles = []string{push.KeyFile, blobSecretFile}

// storeFiles are everything Restore replaces in a data directory: the
// databases with their WAL, shared-memory and journal files (a WAL left
// beside a restored parley.db would be replayed into it), the keys, and
// the blob directory. Other files are left alone.
func storeFiles() []string {
	var out []string
	for _, db := range []string{sqlite.FileName, sqlite.SearchFileName} {
		out = append(out, db, db+"-wal", db+"-shm", db+"-journal")
	}
	return append(out, push.KeyFile, blobSecretFile, blobDir)
}

// validName admits only the names Create writes, so that an archive can
// never write outside the staging directory.
func validName(name string) bool {
	switch name {
	case sqlite.FileName, sqlite.SearchFileName, push.KeyFile, blobSecretFile, ManifestName:
		return true
	}
	dir, key := path.Split(name)
	return dir == blobDir+"/" && validBlobKey(key)
}

// validBlobKey: blob content keys are lowercase hex (blob/fs.go).
func validBlobKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	return strings.Trim(key, "0123456789abcdef") == ""
}
