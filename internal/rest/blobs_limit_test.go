package rest_test

import (
	"bufio"
	"context"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/parley-chat/parley/internal/blob/blobtest"
	"github.com/parley-chat/parley/internal/config"
)

// An upload over the app's limit is cut off where it crosses it: the
// server answers 413 and closes the connection without reading on. The
// client streams 256 MiB (chunked, so no Content-Length gives it away)
// against a 64 KiB limit and counts what the server took before its writes
// failed: at most the limit, what the kernel buffers of a loopback socket
// (a few MiB each way) and the 256 KiB net/http discards after a handler;
// far from 256 MiB. Had the server buffered the body in memory or on disk,
// it would have taken all of it. Nothing is left in the blob directory.
func TestUploadOverLimitStopsReading(t *testing.T) {
	eachStore(t, func(t *testing.T, start func(*testing.T, ...func(*config.Config)) *blobEnv) {
		testOverLimit(t, start(t))
	})
}

func testOverLimit(t *testing.T, env *blobEnv) {
	alice := env.NewUser(t)
	limit := int64(64 << 10)
	if _, err := env.Server.Auth.SetBlobLimits(context.Background(), env.App.ID, &limit, nil); err != nil {
		t.Fatal(err)
	}
	tk := createBlob(t, env, alice, map[string]any{"name": "big.bin"})

	const total = 256 << 20
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	mw := multipart.NewWriter(&head)
	for _, f := range tk.fields {
		mw.WriteField(f[0], f[1])
	}
	mw.CreateFormFile("file", "big.bin")
	fmt.Fprintf(conn, "POST /blobs/upload HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n",
		strings.TrimPrefix(env.URL, "http://"), mw.FormDataContentType())
	fmt.Fprintf(conn, "%x\r\n%s\r\n", head.Len(), head.String())

	status := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			status <- -1
			return
		}
		status <- resp.StatusCode
	}()
	chunk := make([]byte, 64<<10)
	sent := 0
	for sent < total {
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(conn, "%x\r\n", len(chunk)); err != nil {
			break
		}
		n, err := conn.Write(chunk)
		sent += n
		if err != nil {
			break
		}
		conn.Write([]byte("\r\n"))
	}
	select {
	case got := <-status:
		if got != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
	}
	if sent >= total {
		t.Fatalf("the server read all %d bytes of an upload over a %d-byte limit", sent, limit)
	}
	if sent > 64<<20 {
		t.Fatalf("the server took %d bytes before stopping; want far fewer than %d", sent, total)
	}
	t.Logf("server stopped reading after the client sent %d of %d bytes (limit %d)", sent, total, limit)
	env.wantNoContent(t)
}

// A Content-Length that announces more than the limit (plus multipart
// overhead) is refused before the body is read.
func TestUploadRefusedOnContentLength(t *testing.T) {
	env := startBlobs(t)
	alice := env.NewUser(t)
	limit := int64(1 << 10)
	if _, err := env.Server.Auth.SetBlobLimits(context.Background(), env.App.ID, &limit, nil); err != nil {
		t.Fatal(err)
	}
	tk := createBlob(t, env, alice, map[string]any{"name": "big.bin"})
	ct, body := multipartBody(t, tk.fields, randomBytes(200<<10))
	wantError(t, postUpload(t, env, tk.url, ct, body), http.StatusRequestEntityTooLarge, "base")
	// Just over the limit, within the slack: cut off while streaming.
	ct, body = multipartBody(t, tk.fields, randomBytes(int(limit)+1))
	wantError(t, postUpload(t, env, tk.url, ct, body), http.StatusRequestEntityTooLarge, "base")
	env.wantNoContent(t)
	// Exactly the limit is fine.
	ct, body = multipartBody(t, tk.fields, randomBytes(int(limit)))
	wantStatus(t, postUpload(t, env, tk.url, ct, body), http.StatusCreated)
}

// The startup sweep removes temporary files (a write a crash interrupted)
// and content no blob points to, and keeps the content of live blobs.
func TestBlobSweepAtStart(t *testing.T) {
	dir := t.TempDir()
	env := startBlobs(t, func(c *config.Config) { c.DataDir = dir })
	alice := env.NewUser(t)
	tk := createBlob(t, env, alice, map[string]any{"name": "keep.txt"})
	upload(t, env, tk, []byte("keep me"))
	wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"size": 7}), http.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	blobs := filepath.Join(dir, "blobs")
	for name, content := range map[string]string{
		".tmp/" + tk.uid + ".123456":       "half a file",
		"0123456789abcdef0123456789abcdef": "no blob has this uid",
	} {
		if err := os.WriteFile(filepath.Join(blobs, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env2 := startBlobs(t, func(c *config.Config) { c.DataDir = dir })
	if files := env2.contentFiles(t); len(files) != 1 || !strings.HasPrefix(files[0], tk.uid) {
		t.Fatalf("after the sweep the blob directory holds %v, want just %s", files, tk.uid)
	}
	token := env2.Login(t, alice.Login, alice.Password)
	resp := env2.get(t, "/blobs/"+tk.uid+"?token="+token, nil)
	wantStatus(t, resp, http.StatusOK)
	if string(resp.Raw) != "keep me" {
		t.Fatalf("after restart: %q", resp.Raw)
	}
}

// On S3 the startup sweep aborts unfinished multipart uploads and removes
// objects no blob points to, keeping live blobs' content.
func TestBlobSweepAtStartS3(t *testing.T) {
	s3 := blobtest.NewS3(t)
	dir := t.TempDir()
	use := func(c *config.Config) {
		c.DataDir, c.BlobStore, c.S3AccessKey, c.S3SecretKey = dir, s3.URL, s3.AccessKey, s3.SecretKey
	}
	env := startBlobs(t, use)
	env.s3 = s3
	alice := env.NewUser(t)
	tk := createBlob(t, env, alice, map[string]any{"name": "keep.txt"})
	upload(t, env, tk, []byte("keep me"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := s3.Client()
	orphan := "blobs/0123456789abcdef0123456789abcdef"
	if _, err := client.PutObject(ctx, s3.Bucket, orphan, strings.NewReader("orphan"), 6, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: client}
	if _, err := core.NewMultipartUpload(ctx, s3.Bucket, "blobs/"+tk.uid, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := env.contentFiles(t); len(got) != 3 {
		t.Fatalf("planted: bucket holds %v", got)
	}
	if err := env.Server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	env2 := startBlobs(t, use)
	env2.s3 = s3
	if files := env2.contentFiles(t); len(files) != 1 || !strings.HasPrefix(files[0], tk.uid) {
		t.Fatalf("after the sweep the bucket holds %v, want just %s", files, tk.uid)
	}
}
