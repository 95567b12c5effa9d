// Package blob holds the rules of blob storage (REST.md §8): who may
// create, upload, complete, read, rename and delete a blob, the per-app
// limits, and the signed upload tickets. The bytes live behind Content
// (the local filesystem, or any S3-compatible service); the metadata
// behind Store.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Blob is a stored file's metadata. Size is nil and CompletedAt zero until
// the owner declares the upload complete (§8.3). ContentKey names the
// content of the last upload (HasContent), Uploaded its size: each upload
// writes under a key of its own, so an upload racing another, or racing
// the completion, never changes the bytes of a complete blob.
type Blob struct {
	ID          int64
	AppID       int64
	OwnerID     int64
	UID         string
	Name        string
	ContentType string
	Public      bool
	ContentKey  string
	Uploaded    int64
	HasContent  bool
	Size        *int64
	CompletedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Complete reports whether the upload was declared complete; only complete
// blobs are served.
func (b *Blob) Complete() bool { return !b.CompletedAt.IsZero() }

// Store persists blob metadata. Methods are scoped by app where the caller
// knows it; ByUID is global because a public download carries no session.
type Store interface {
	CreateBlob(ctx context.Context, b *Blob) error
	BlobByID(ctx context.Context, appID, id int64) (*Blob, error)
	BlobByUID(ctx context.Context, uid string) (*Blob, error)
	// SetBlobUploaded makes key (n bytes) the content of blob id and
	// returns the key it replaces ("" for none); ErrNotFound when the blob
	// is gone or complete.
	SetBlobUploaded(ctx context.Context, id int64, key string, n int64, at time.Time) (string, error)
	// CompleteBlob sets size and the completion time, provided the
	// content is still key and the blob not complete (else ErrNotFound).
	CompleteBlob(ctx context.Context, id int64, key string, size int64, at time.Time) error
	RenameBlob(ctx context.Context, id int64, name string, at time.Time) error
	DeleteBlob(ctx context.Context, id int64) error
	// ListBlobs returns one page of the owner's blobs, newest first, and
	// how many the owner has.
	ListBlobs(ctx context.Context, appID, ownerID int64, limit, offset int) ([]Blob, int, error)
	// BlobContentKeysExist returns which of keys are a blob's content.
	BlobContentKeysExist(ctx context.Context, keys []string) (map[string]bool, error)
}

// ErrNotFound is returned by a Store or a Content for a missing row or key.
var ErrNotFound = errors.New("blob: not found")

// Content stores blob bytes under a key (the blob's uid and a random
// suffix per upload, lowercase hex). Put must never
// make a partial object visible: it reads r to its end (or its first
// error) and only then publishes the object, replacing any previous one;
// on any error nothing new is visible and nothing is left behind.
type Content interface {
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	Open(ctx context.Context, key string) (Object, error)
	Delete(ctx context.Context, key string) error
	// Keys calls fn with every stored key (the startup sweep).
	Keys(ctx context.Context, fn func(key string) error) error
	// Sweep removes what interrupted writes left behind (temporary files,
	// unfinished multipart uploads).
	Sweep(ctx context.Context) error
}

// Object is an opened stored object: seekable, so that downloads answer
// Range requests without reading what they skip.
type Object interface {
	io.ReadSeekCloser
	Size() int64
}
