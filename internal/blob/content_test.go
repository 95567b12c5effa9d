package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/blob/blobtest"
)

// testContent is the one suite every Content implementation passes:
// put, read back (whole and from an offset), replace, a failed put that
// publishes nothing, keys, delete.
func testContent(t *testing.T, c blob.Content) {
	ctx := context.Background()
	key := "0123456789abcdef0123456789abcdef"
	// Over two S3 parts: the S3 store's streamed multipart upload is used.
	data := make([]byte, 2*blob.S3PartSize+17)
	rand.Read(data)
	n, err := c.Put(ctx, key, bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put = %d, %v", n, err)
	}
	obj, err := c.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size() != int64(len(data)) {
		t.Fatalf("Size = %d", obj.Size())
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := obj.Seek(1<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 100)
	if _, err := io.ReadFull(obj, part); err != nil || !bytes.Equal(part, data[1<<20:1<<20+100]) {
		t.Fatalf("read at offset: %v", err)
	}
	obj.Close()

	// A put whose reader fails leaves the old object as it was.
	boom := errors.New("client went away")
	if _, err := c.Put(ctx, key, io.MultiReader(bytes.NewReader([]byte("new start")), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("failing Put = %v; want the reader's error", err)
	}
	obj, err = c.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("after a failed put the object changed (%d bytes)", len(got))
	}
	// A failed put of a new key publishes nothing.
	other := "fedcba9876543210fedcba9876543210"
	if _, err := c.Put(ctx, other, io.MultiReader(bytes.NewReader([]byte("x")), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("failing Put = %v", err)
	}
	if _, err := c.Open(ctx, other); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open after a failed put = %v; want ErrNotFound", err)
	}
	// Replace.
	if _, err := c.Put(ctx, key, bytes.NewReader([]byte("short"))); err != nil {
		t.Fatal(err)
	}
	obj, _ = c.Open(ctx, key)
	got, _ = io.ReadAll(obj)
	obj.Close()
	if string(got) != "short" {
		t.Fatalf("after replace: %q", got)
	}
	var keys []string
	if err := c.Keys(ctx, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{key}) {
		t.Fatalf("Keys = %v", keys)
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete = %v; want nil", err)
	}
	if _, err := c.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open after Delete = %v", err)
	}
	if err := c.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	// Keys that are not uids are refused, never turned into paths.
	if _, err := c.Put(ctx, "../escape", bytes.NewReader([]byte("x"))); err == nil {
		t.Fatal("Put accepted the key ../escape")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestFSContent(t *testing.T) {
	dir := t.TempDir()
	c, err := blob.NewFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	testContent(t, c)
	// No temporary file outlives a put, failed or not.
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", ".tmp"))
	if err != nil || len(entries) != 0 {
		t.Fatalf("temporary directory holds %v (%v)", entries, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Fatal("a file escaped the blob directory")
	}
}

func TestLoadSecretIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	a, err := blob.LoadSecret(path)
	if err != nil || len(a) != 32 {
		t.Fatalf("LoadSecret = %d bytes, %v", len(a), err)
	}
	b, err := blob.LoadSecret(path)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second LoadSecret differs (%v)", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v; want 0600", st.Mode().Perm())
	}
}

func TestTypeAllowed(t *testing.T) {
	allowed := []string{"image/*", "video/mp4"}
	for typ, want := range map[string]bool{"image/png": true, "video/mp4": true, "video/webm": false, "imagex/png": false, "text/html": false} {
		if blob.TypeAllowed(allowed, typ) != want {
			t.Errorf("TypeAllowed(%s) = %v", typ, !want)
		}
	}
	if !blob.TypeAllowed(nil, "text/html") {
		t.Error("an empty list must allow everything")
	}
}

func TestS3Content(t *testing.T) {
	s := blobtest.NewS3(t)
	cfg, err := blob.ParseS3URL(s.URL, s.AccessKey, s.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	testContent(t, c)
	// No object and no unfinished multipart upload outlives a put, failed
	// or not.
	if got := s.Contents(t); len(got) != 0 {
		t.Fatalf("bucket holds %v", got)
	}
}

func TestParseS3URL(t *testing.T) {
	c, err := blob.ParseS3URL("s3://media/parley/blobs?endpoint=127.0.0.1:8333&secure=false&region=eu-west-1", "ak", "sk")
	if err != nil {
		t.Fatal(err)
	}
	if c.Bucket != "media" || c.Prefix != "parley/blobs/" || c.Endpoint != "127.0.0.1:8333" || c.Secure || !c.PathStyle ||
		c.Region != "eu-west-1" || c.AccessKey != "ak" || c.SecretKey != "sk" {
		t.Fatalf("parsed %+v", c)
	}
	for _, bad := range []string{
		"s3://media",                              // no endpoint
		"http://media?endpoint=x:1",               // not s3
		"s3://ak:sk@media?endpoint=x:1",           // credentials in the URL
		"s3://media?endpoint=x:1&secure=perhaps",  // not a bool
		"s3://media?endpoint=x:1&acl=public-read", // unknown parameter
	} {
		if _, err := blob.ParseS3URL(bad, "ak", "sk"); err == nil {
			t.Errorf("ParseS3URL(%q) accepted it", bad)
		}
	}
	if _, err := blob.ParseS3URL("s3://media?endpoint=x:1", "", ""); err == nil {
		t.Error("ParseS3URL without credentials accepted it")
	}
}
