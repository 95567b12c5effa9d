// Package backup makes a backup of a data directory while its server runs
// (Create) and puts one in place while no server runs on it (Restore).
//
// A backup is one tar file (gzip-compressed when its name ends in .gz or
// .tgz): a single artifact to copy off the machine, which keeps the keys'
// file modes and which standard tools can list (tar tvf). It holds
// consistent copies of parley.db and, when they could be taken
// consistently, search.db (store/sqlite/snapshot.go); push.key, without
// which the push credentials sealed in parley.db are lost; blob-ticket.key;
// the blob content under blobs/ when blobs live in the data directory; and,
// last, backup.json: what the backup holds, with each file's size and
// SHA-256, which Restore checks before it touches the data directory.
package backup

import "time"

// ManifestName is the manifest's name in the archive; it comes last,
// after the files it lists.
const ManifestName = "backup.json"

// Format is the archive layout's version; Restore refuses others.
const Format = 1

// Manifest describes a backup.
type Manifest struct {
	Format    int       `json:"format"`
	Parley    string    `json:"parley"` // the version that wrote it
	CreatedAt time.Time `json:"created_at"`
	DataDir   string    `json:"data_dir"`
	// Migrations are the schema migrations parley.db has applied.
	Migrations     []int `json:"schema_migrations"`
	LastMessageSeq int64 `json:"last_message_seq"`
	// SearchIndex: search.db is in the backup. Else the restored server
	// rebuilds the full-text index from the messages at its first start,
	// in the background (SearchNote says why it was left out).
	SearchIndex bool   `json:"search_index"`
	SearchNote  string `json:"search_note,omitempty"`
	// Blobs counts the blob content files in the backup; BlobsNote says
	// what it does not cover.
	Blobs     int    `json:"blobs"`
	BlobsNote string `json:"blobs_note,omitempty"`
	Files     []File `json:"files"`
}

// File is one file of the archive.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}
