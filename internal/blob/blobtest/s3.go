// Package blobtest gives tests a fresh bucket on the S3-compatible server
// that scripts/s3server.sh starts (SeaweedFS), so that one suite runs over
// both blob stores.
package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is a bucket of the test server.
type S3 struct {
	URL       string // the --blob-store value
	AccessKey string
	SecretKey string
	Bucket    string
	client    *minio.Client
}

// NewS3 creates a fresh bucket on the server named by
// PARLEY_S3_TEST_ENDPOINT (host:port, plain http), with the keys in
// PARLEY_S3_TEST_ACCESS_KEY and PARLEY_S3_TEST_SECRET_KEY. Without an
// endpoint the test fails when PARLEY_S3_REQUIRED or CI is set
// (scripts/test.sh, which starts the server, sets the first; CI sets the
// second): there an untested S3 store must not pass as green. A plain
// `go test` on a developer's machine skips it, loudly.
func NewS3(tb testing.TB) *S3 {
	tb.Helper()
	endpoint := os.Getenv("PARLEY_S3_TEST_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PARLEY_S3_REQUIRED") != "" || os.Getenv("CI") != "" {
			tb.Fatal("PARLEY_S3_TEST_ENDPOINT is not set but PARLEY_S3_REQUIRED or CI is: the S3 blob store would go untested. scripts/test.sh starts the server (scripts/s3server.sh)")
		}
		tb.Skip("SKIPPING the S3 blob store: PARLEY_S3_TEST_ENDPOINT is not set. Run `eval \"$(scripts/s3server.sh start)\"` first (scripts/test.sh does)")
	}
	s := &S3{AccessKey: os.Getenv("PARLEY_S3_TEST_ACCESS_KEY"), SecretKey: os.Getenv("PARLEY_S3_TEST_SECRET_KEY")}
	client, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	s.Bucket, s.client = "parley-test-"+hex.EncodeToString(b), client
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{}); err != nil {
		tb.Fatalf("create bucket %s on %s: %v", s.Bucket, endpoint, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for o := range client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				client.RemoveObject(ctx, s.Bucket, o.Key, minio.RemoveObjectOptions{})
			}
		}
		client.RemoveBucket(ctx, s.Bucket)
	})
	s.URL = "s3://" + s.Bucket + "/blobs?endpoint=" + endpoint + "&secure=false"
	return s
}

// Contents lists what the bucket holds: object keys, and "incomplete/KEY"
// for each unfinished multipart upload (an interrupted write).
func (s *S3) Contents(tb testing.TB) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := []string{}
	for o := range s.client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			tb.Fatalf("list bucket %s: %v", s.Bucket, o.Err)
		}
		out = append(out, o.Key)
	}
	for u := range s.client.ListIncompleteUploads(ctx, s.Bucket, "", true) {
		if u.Err != nil {
			tb.Fatalf("list uploads of %s: %v", s.Bucket, u.Err)
		}
		out = append(out, "incomplete/"+u.Key)
	}
	sort.Strings(out)
	return out
}

// Client is the bucket's S3 client, for tests that plant objects.
func (s *S3) Client() *minio.Client { return s.client }
