package rest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/blob/blobtest"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// blobEnv is a server and a view of where its blob content lives.
type blobEnv struct {
	*servertest.Env
	dir string
	s3  *blobtest.S3 // nil on the filesystem store
}

// blobStore is one Content implementation the REST suite runs over: new
// returns the configuration of a fresh, empty store of that kind.
type blobStore struct {
	name string
	new  func(t *testing.T) (*blobtest.S3, func(*config.Config))
}

var blobStores = []blobStore{
	{"fs", func(*testing.T) (*blobtest.S3, func(*config.Config)) { return nil, func(*config.Config) {} }},
	{"s3", func(t *testing.T) (*blobtest.S3, func(*config.Config)) {
		s := blobtest.NewS3(t)
		return s, func(c *config.Config) { c.BlobStore, c.S3AccessKey, c.S3SecretKey = s.URL, s.AccessKey, s.SecretKey }
	}},
}

// eachStore runs test once per blob store, as subtests named fs and s3.
func eachStore(t *testing.T, test func(t *testing.T, start func(t *testing.T, mutate ...func(*config.Config)) *blobEnv)) {
	for _, st := range blobStores {
		t.Run(st.name, func(t *testing.T) {
			s3, use := st.new(t)
			test(t, func(t *testing.T, mutate ...func(*config.Config)) *blobEnv {
				t.Helper()
				e := startBlobs(t, append([]func(*config.Config){use}, mutate...)...)
				e.s3 = s3
				return e
			})
		})
	}
}

func startBlobs(t *testing.T, mutate ...func(*config.Config)) *blobEnv {
	t.Helper()
	var dir string
	env := servertest.Start(t, append(mutate, func(c *config.Config) { dir = c.DataDir })...)
	return &blobEnv{Env: env, dir: dir}
}

// contentFiles lists what the blob store holds: on disk temporary files
// too (".tmp/<name>"), in a bucket unfinished multipart uploads too
// ("incomplete/<key>"). Content is listed by uid.
func (e *blobEnv) contentFiles(t *testing.T) []string {
	t.Helper()
	if e.s3 != nil {
		var out []string
		for _, k := range e.s3.Contents(t) {
			out = append(out, strings.TrimPrefix(k, "blobs/"))
		}
		return out
	}
	var out []string
	root := filepath.Join(e.dir, "blobs")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func (e *blobEnv) wantNoContent(t *testing.T) {
	t.Helper()
	if files := e.contentFiles(t); len(files) != 0 {
		t.Fatalf("blob directory holds %v; want nothing", files)
	}
}

type ticket struct {
	id     int64
	uid    string
	url    string      // where to POST
	fields [][2]string // the form fields, in query order
	blob   map[string]any
}

func createBlob(t *testing.T, env *blobEnv, u *servertest.User, body map[string]any) ticket {
	t.Helper()
	resp := env.Do(t, req{Method: "POST", Path: "/blobs.json", Token: u.Token, Body: map[string]any{"blob": body}})
	wantStatus(t, resp, http.StatusCreated)
	b := obj(t, resp.JSON, "blob")
	access := obj(t, b, "blob_object_access")
	raw := access["params"].(string)
	// What the SDK does with params (REST.md §8.1): POST to
	// scheme://authority/path, each query parameter a form field.
	pu, err := url.Parse(raw)
	if err != nil || !pu.IsAbs() {
		t.Fatalf("params %q is not an absolute URL", raw)
	}
	tk := ticket{id: num(t, b, "id"), uid: b["uid"].(string), url: pu.Scheme + "://" + pu.Host + pu.Path, blob: b}
	for kv := range strings.SplitSeq(pu.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		dv, err := url.PathUnescape(v)
		if err != nil {
			t.Fatalf("param %q: %v", kv, err)
		}
		tk.fields = append(tk.fields, [2]string{k, dv})
	}
	return tk
}

// multipartBody is the SDK's upload body: the fields, then "file" (with
// no file name, as Node sends a Buffer).
func multipartBody(t *testing.T, fields [][2]string, files ...[]byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, data := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func postUpload(t *testing.T, env *blobEnv, uploadURL, ct string, body []byte) *servertest.Response {
	t.Helper()
	path := strings.TrimPrefix(uploadURL, env.URL)
	if path == uploadURL {
		t.Fatalf("upload URL %q is not on the server %s", uploadURL, env.URL)
	}
	return env.Do(t, req{Method: "POST", Path: path, Body: body, ContentType: ct})
}

func upload(t *testing.T, env *blobEnv, tk ticket, data []byte) {
	t.Helper()
	ct, body := multipartBody(t, tk.fields, data)
	resp := postUpload(t, env, tk.url, ct, body)
	wantStatus(t, resp, http.StatusCreated)
}

func complete(t *testing.T, env *blobEnv, u *servertest.User, id int64, body any) *servertest.Response {
	t.Helper()
	return env.Do(t, req{Method: "PUT", Path: fmtPath("/blobs/%d/complete.json", id), Token: u.Token, Body: body})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (e *blobEnv) get(t *testing.T, path string, header map[string]string) *servertest.Response {
	t.Helper()
	return e.Do(t, req{Method: "GET", Path: path, Header: header})
}

// The whole life of a private blob, as the SDK drives it: create with a
// ticket, upload, complete, download by another user of the app (query
// token and header), info by id and uid, object URL, list, rename both
// ways, delete; then the download is 404 and the content is gone.
func TestBlobLifecycle(t *testing.T) {
	eachStore(t, testBlobLifecycle)
}

func testBlobLifecycle(t *testing.T, start func(*testing.T, ...func(*config.Config)) *blobEnv) {
	env := start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	data := randomBytes(300_000)
	tk := createBlob(t, env, alice, map[string]any{"name": "dog photo.jpg", "content_type": "image/jpeg", "public": false})
	b := tk.blob
	if b["size"] != nil || b["blob_status"] != nil || b["set_completed_at"] != nil || b["public"] != false || b["name"] != "dog photo.jpg" {
		t.Fatalf("created blob %v", b)
	}
	if !isoRe.MatchString(b["created_at"].(string)) || num(t, b, "app_id") != env.App.ID {
		t.Fatalf("created blob %v", b)
	}
	if a := obj(t, b, "blob_object_access"); a["object_access_type"] != "Write" || num(t, a, "blob_id") != tk.id {
		t.Fatalf("blob_object_access %v", a)
	}
	upload(t, env, tk, data)
	// Not served before complete.
	wantStatus(t, env.get(t, "/blobs/"+tk.uid+"?token="+bob.Token, nil), http.StatusNotFound)
	wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"size": len(data)}), http.StatusOK)

	for _, path := range []string{"/blobs/" + tk.uid + "?token=" + bob.Token, "/blobs/" + tk.uid + "/download?token=" + bob.Token} {
		resp := env.get(t, path, nil)
		wantStatus(t, resp, http.StatusOK)
		if !bytes.Equal(resp.Raw, data) {
			t.Fatalf("%s: got %d bytes, not the uploaded ones", path, len(resp.Raw))
		}
		h := resp.Header
		if h.Get("Content-Type") != "image/jpeg" || h.Get("Content-Length") != strconv.Itoa(len(data)) ||
			h.Get("Content-Disposition") != `inline; filename="dog photo.jpg"` || !strings.HasPrefix(h.Get("ETag"), `"`+tk.uid) {
			t.Fatalf("%s: headers %v", path, h)
		}
	}
	resp := env.get(t, "/blobs/"+tk.uid, map[string]string{"CB-Token": bob.Token, "Range": "bytes=100-199"})
	wantStatus(t, resp, http.StatusPartialContent)
	if !bytes.Equal(resp.Raw, data[100:200]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(data)) {
		t.Fatalf("range: %d bytes, Content-Range %q", len(resp.Raw), resp.Header.Get("Content-Range"))
	}
	resp = env.get(t, "/blobs/"+tk.uid, map[string]string{"CB-Token": bob.Token, "If-None-Match": resp.Header.Get("ETag")})
	wantStatus(t, resp, http.StatusNotModified)

	for _, ref := range []string{strconv.FormatInt(tk.id, 10), tk.uid} {
		resp := env.Do(t, req{Method: "GET", Path: "/blobs/" + ref + ".json", Token: bob.Token})
		wantStatus(t, resp, http.StatusOK)
		got := obj(t, resp.JSON, "blob")
		if num(t, got, "size") != int64(len(data)) || got["blob_status"] != "complete" || !isoRe.MatchString(got["set_completed_at"].(string)) {
			t.Fatalf("info %s: %v", ref, got)
		}
		if _, has := got["blob_object_access"]; has {
			t.Fatalf("info %s carries blob_object_access", ref)
		}
	}
	resp = env.Do(t, req{Method: "GET", Path: "/blobs/" + tk.uid + "/object.json?download_url=1", Token: bob.Token})
	wantStatus(t, resp, http.StatusOK)
	durl := obj(t, obj(t, resp.JSON, "blob"), "blob_object_access")["download_url"].(string)
	if durl != env.URL+"/blobs/"+tk.uid+"?token="+bob.Token {
		t.Fatalf("download_url %q", durl)
	}

	// Rename: the docs' PUT, and the SDK's GET with blob[name]; only the owner.
	wantStatus(t, env.Do(t, req{Method: "PUT", Path: fmtPath("/blobs/%d.json", tk.id), Token: bob.Token,
		Body: map[string]any{"blob": map[string]any{"name": "mine now"}}}), http.StatusForbidden)
	resp = env.Do(t, req{Method: "PUT", Path: fmtPath("/blobs/%d.json", tk.id), Token: alice.Token,
		Body: map[string]any{"blob": map[string]any{"name": "cat.jpg"}}})
	wantStatus(t, resp, http.StatusOK)
	if obj(t, resp.JSON, "blob")["name"] != "cat.jpg" {
		t.Fatalf("rename: %s", resp.Raw)
	}
	resp = env.Do(t, req{Method: "GET", Path: fmtPath("/blobs/%d.json?blob%%5Bname%%5D=My%%20photo", tk.id), Token: alice.Token})
	wantStatus(t, resp, http.StatusOK)
	if obj(t, resp.JSON, "blob")["name"] != "My photo" {
		t.Fatalf("GET rename: %s", resp.Raw)
	}
	wantStatus(t, env.Do(t, req{Method: "GET", Path: fmtPath("/blobs/%d.json?blob%%5Bname%%5D=x", tk.id), Token: bob.Token}), http.StatusForbidden)

	// List: own blobs only, paged.
	tk2 := createBlob(t, env, alice, map[string]any{"name": "b.txt", "content_type": "text/plain"})
	createBlob(t, env, bob, map[string]any{"name": "bob.txt", "content_type": "text/plain"})
	resp = env.Do(t, req{Method: "GET", Path: "/blobs.json?per_page=1&current_page=2", Token: alice.Token})
	wantStatus(t, resp, http.StatusOK)
	items := resp.JSON["items"].([]any)
	if resp.JSON["total_entries"] != 2.0 || resp.JSON["current_page"] != 2.0 || resp.JSON["per_page"] != 1.0 || len(items) != 1 ||
		num(t, obj(t, items[0].(map[string]any), "blob"), "id") != tk.id {
		t.Fatalf("list page 2: %s", resp.Raw)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/blobs.json?page=1&per_page=1", Token: alice.Token})
	if items := resp.JSON["items"].([]any); len(items) != 1 || num(t, obj(t, items[0].(map[string]any), "blob"), "id") != tk2.id {
		t.Fatalf("list page 1: %s", resp.Raw)
	}

	// Delete: the owner only; then 404 everywhere and the file is gone.
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/blobs/%d.json", tk.id), Token: bob.Token}), http.StatusForbidden)
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/blobs/%d.json", tk.id), Token: alice.Token}), http.StatusOK)
	wantError(t, env.get(t, "/blobs/"+tk.uid+"?token="+bob.Token, nil), http.StatusNotFound, "base")
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/blobs/" + tk.uid + ".json", Token: alice.Token}), http.StatusNotFound)
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: fmtPath("/blobs/%d.json", tk.id), Token: alice.Token}), http.StatusNotFound)
	if files := env.contentFiles(t); len(files) != 0 {
		t.Fatalf("after delete the blob directory holds %v", files)
	}
}

// Public blobs are served without a token; complete accepts the docs'
// body shape too.
func TestPublicBlobAndDocsCompleteShape(t *testing.T) {
	eachStore(t, func(t *testing.T, start func(*testing.T, ...func(*config.Config)) *blobEnv) {
		testPublicBlob(t, start(t))
	})
}

func testPublicBlob(t *testing.T, env *blobEnv) {
	alice := env.NewUser(t)
	tk := createBlob(t, env, alice, map[string]any{"name": "pub.txt", "content_type": "text/plain", "public": true})
	upload(t, env, tk, []byte("hello"))
	wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"blob": map[string]any{"size": "5"}}), http.StatusOK)
	resp := env.get(t, "/blobs/"+tk.uid, nil)
	wantStatus(t, resp, http.StatusOK)
	if string(resp.Raw) != "hello" {
		t.Fatalf("public download %q", resp.Raw)
	}
}

// Who may download a private blob (REST.md §8.4): any user session of the
// app; not another app's, not a destroyed one, not an app-only one.
func TestPrivateBlobDownloadAccess(t *testing.T) {
	env := startBlobs(t)
	alice := env.NewUser(t)
	tk := createBlob(t, env, alice, map[string]any{"name": "secret.txt", "content_type": "text/plain"})
	upload(t, env, tk, []byte("secret"))
	wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"size": 6}), http.StatusOK)

	path := "/blobs/" + tk.uid
	wantExpired(t, env.get(t, path, nil))
	wantExpired(t, env.get(t, path+"?token=0123456789012345678901234567890123456789", nil))

	// Another app's user.
	other, err := env.Server.Auth.CreateApp(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := env.Do(t, req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": other.AuthKey},
		Body: map[string]any{"user": map[string]any{"login": "otheruser", "password": "password-1"}}})
	wantStatus(t, resp, http.StatusCreated)
	resp = env.Do(t, req{Method: "POST", Path: "/session.json", Body: map[string]any{"application_id": other.ID, "auth_key": other.AuthKey,
		"user": map[string]any{"login": "otheruser", "password": "password-1"}}})
	wantStatus(t, resp, http.StatusCreated)
	otherToken := obj(t, resp.JSON, "session")["token"].(string)
	wantExpired(t, env.get(t, path+"?token="+otherToken, nil))
	wantStatus(t, env.Do(t, req{Method: "GET", Path: path + ".json", Token: otherToken}), http.StatusNotFound)

	// An app-only session of the right app.
	wantError(t, env.get(t, path+"?token="+env.AppSession(t), nil), http.StatusForbidden, "base")

	// A destroyed session.
	carol := env.NewUser(t)
	wantStatus(t, env.get(t, path+"?token="+carol.Token, nil), http.StatusOK)
	wantStatus(t, env.Do(t, req{Method: "DELETE", Path: "/session.json", Token: carol.Token}), http.StatusOK)
	wantExpired(t, env.get(t, path+"?token="+carol.Token, nil))
	// An app-only session may not create blobs either.
	wantError(t, env.Do(t, req{Method: "POST", Path: "/blobs.json", Token: env.AppSession(t),
		Body: map[string]any{"blob": map[string]any{"name": "x"}}}), http.StatusForbidden, "base")
}

// Bad uploads (issue 13): each gets a 4xx in the ConnectyCube shape,
// stores nothing (the blob cannot be completed, the blob directory holds
// no file, no temporary file either).
func TestBadUploadsStoreNothing(t *testing.T) {
	eachStore(t, testBadUploads)
}

func testBadUploads(t *testing.T, start func(*testing.T, ...func(*config.Config)) *blobEnv) {
	env := start(t)
	alice := env.NewUser(t)
	tk := createBlob(t, env, alice, map[string]any{"name": "a.bin", "content_type": "application/octet-stream"})
	data := []byte("some bytes")
	field := func(name string) string {
		for _, f := range tk.fields {
			if f[0] == name {
				return f[1]
			}
		}
		t.Fatalf("ticket has no %s", name)
		return ""
	}
	replace := func(name, value string) [][2]string {
		out := [][2]string{}
		for _, f := range tk.fields {
			if f[0] == name {
				if value == "\x00drop" {
					continue
				}
				f[1] = value
			}
			out = append(out, f)
		}
		return out
	}
	forged := []byte(field("signature"))
	forged[0] ^= 1
	if forged[0] > 'f' || forged[0] < '0' {
		forged[0] = '0'
	}
	// An expired ticket is a real one from a blob created long ago.
	env.Clock.Advance(-2 * time.Hour)
	old := createBlob(t, env, alice, map[string]any{"name": "old.bin"})
	env.Clock.Advance(2 * time.Hour)
	otherBlob := createBlob(t, env, alice, map[string]any{"name": "other.bin"})

	cases := []struct {
		name   string
		fields [][2]string
		files  [][]byte
		status int
		field  string
	}{
		{"no ticket", nil, [][]byte{data}, http.StatusForbidden, "base"},
		{"no signature", replace("signature", "\x00drop"), [][]byte{data}, http.StatusForbidden, "base"},
		{"forged signature", replace("signature", string(forged)), [][]byte{data}, http.StatusForbidden, "base"},
		{"later expiry", replace("expires", strconv.FormatInt(time.Now().Add(24*time.Hour).Unix(), 10)), [][]byte{data}, http.StatusForbidden, "base"},
		{"another blob's key", replace("key", otherBlob.uid), [][]byte{data}, http.StatusForbidden, "base"},
		{"expired ticket", old.fields, [][]byte{data}, http.StatusForbidden, "base"},
		{"no file part", tk.fields, nil, http.StatusBadRequest, "base"},
		{"two file parts", tk.fields, [][]byte{data, data}, http.StatusBadRequest, "base"},
		{"declared size mismatch", append(append([][2]string{}, tk.fields...), [2]string{"size", "3"}), [][]byte{data}, http.StatusUnprocessableEntity, "size"},
		{"path traversal key", replace("key", "../../parley.db"), [][]byte{data}, http.StatusForbidden, "base"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, body := multipartBody(t, c.fields, c.files...)
			wantError(t, postUpload(t, env, tk.url, ct, body), c.status, c.field)
			env.wantNoContent(t)
		})
	}
	// A field after the file.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range tk.fields {
		mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile("file", "a.bin")
	fw.Write(data)
	mw.WriteField("extra", "x")
	mw.Close()
	wantError(t, postUpload(t, env, tk.url, mw.FormDataContentType(), buf.Bytes()), http.StatusBadRequest, "base")
	// Not multipart at all.
	wantError(t, postUpload(t, env, tk.url, "application/json", []byte(`{"file":"x"}`)), http.StatusBadRequest, "base")
	env.wantNoContent(t)
	// Nothing was uploaded: complete is refused.
	wantError(t, complete(t, env, alice, tk.id, map[string]any{"size": len(data)}), http.StatusUnprocessableEntity, "size")

	// A file name that tries to leave the directory is ignored: the
	// content is stored under the uid, nowhere else.
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	for _, f := range tk.fields {
		mw.WriteField(f[0], f[1])
	}
	fw, _ = mw.CreateFormFile("file", "../../../../tmp/evil"+strings.Repeat("x", 10<<10))
	fw.Write(data)
	mw.Close()
	wantStatus(t, postUpload(t, env, tk.url, mw.FormDataContentType(), buf.Bytes()), http.StatusCreated)
	if files := env.contentFiles(t); len(files) != 1 || !strings.HasPrefix(files[0], tk.uid) {
		t.Fatalf("blob directory holds %v, want just %s", files, tk.uid)
	}
	// Complete with a size other than the upload's.
	wantError(t, complete(t, env, alice, tk.id, map[string]any{"size": len(data) + 1}), http.StatusUnprocessableEntity, "size")
	wantError(t, complete(t, env, alice, tk.id, map[string]any{}), http.StatusUnprocessableEntity, "size")
	bob := env.NewUser(t)
	wantError(t, complete(t, env, bob, tk.id, map[string]any{"size": len(data)}), http.StatusForbidden, "base")
	wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"size": len(data)}), http.StatusOK)
	// A complete blob takes no further upload (its content is immutable).
	ct, body := multipartBody(t, tk.fields, []byte("replaced"))
	wantError(t, postUpload(t, env, tk.url, ct, body), http.StatusConflict, "base")
	resp := env.get(t, "/blobs/"+tk.uid+"?token="+alice.Token, nil)
	if string(resp.Raw) != string(data) {
		t.Fatalf("content after a refused re-upload: %q", resp.Raw)
	}
}

// Names and types at create: a path, a 10 KiB name, control characters,
// a type the app does not allow.
func TestBlobCreateValidation(t *testing.T) {
	env := startBlobs(t)
	alice := env.NewUser(t)
	max := int64(0)
	if _, err := env.Server.Auth.SetBlobLimits(context.Background(), env.App.ID, &max, &[]string{"image/*", "video/mp4"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		blob  map[string]any
		field string
	}{
		{map[string]any{"name": "../../etc/passwd", "content_type": "image/png"}, "name"},
		{map[string]any{"name": `..\..\boot.ini`, "content_type": "image/png"}, "name"},
		{map[string]any{"name": strings.Repeat("a", 10<<10), "content_type": "image/png"}, "name"},
		{map[string]any{"name": "a\x00b.png", "content_type": "image/png"}, "name"},
		{map[string]any{"name": "", "content_type": "image/png"}, "name"},
		{map[string]any{"name": "a.html", "content_type": "text/html"}, "content_type"},
		{map[string]any{"name": "a.png", "content_type": "not a type"}, "content_type"},
		{map[string]any{"name": "a.png", "content_type": "image/png", "public": "maybe"}, "public"},
	} {
		wantError(t, env.Do(t, req{Method: "POST", Path: "/blobs.json", Token: alice.Token, Body: map[string]any{"blob": c.blob}}),
			http.StatusUnprocessableEntity, c.field)
	}
	resp := env.Do(t, req{Method: "GET", Path: "/blobs.json", Token: alice.Token})
	if resp.JSON["total_entries"] != 0.0 {
		t.Fatalf("refused creates left blobs: %s", resp.Raw)
	}
	createBlob(t, env, alice, map[string]any{"name": "clip.mp4", "content_type": "video/mp4"})
	createBlob(t, env, alice, map[string]any{"name": "photo.png", "content_type": "image/png"})
}

func TestContentDispositionOfOddNames(t *testing.T) {
	env := startBlobs(t)
	alice := env.NewUser(t)
	for name, want := range map[string]string{
		"plain name.txt": `inline; filename="plain name.txt"`,
		`say "hi".txt`:   `inline; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`,
		"café.txt":       `inline; filename="caf_.txt"; filename*=UTF-8''caf%C3%A9.txt`,
	} {
		tk := createBlob(t, env, alice, map[string]any{"name": name, "public": true})
		upload(t, env, tk, []byte("x"))
		wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"size": 1}), http.StatusOK)
		if got := env.get(t, "/blobs/"+tk.uid, nil).Header.Get("Content-Disposition"); got != want {
			t.Errorf("%q: Content-Disposition %q, want %q", name, got, want)
		}
	}
}

// A second upload before complete replaces the first: its content is what
// complete declares and download serves, and the first upload's bytes are
// deleted (each upload has a key of its own, so none ever overwrites the
// bytes a complete blob serves).
func TestReuploadBeforeComplete(t *testing.T) {
	eachStore(t, func(t *testing.T, start func(*testing.T, ...func(*config.Config)) *blobEnv) {
		env := start(t)
		alice := env.NewUser(t)
		tk := createBlob(t, env, alice, map[string]any{"name": "v.txt", "public": true})
		upload(t, env, tk, []byte("first"))
		upload(t, env, tk, []byte("second!"))
		if files := env.contentFiles(t); len(files) != 1 {
			t.Fatalf("after two uploads the store holds %v; want the second only", files)
		}
		wantError(t, complete(t, env, alice, tk.id, map[string]any{"size": 5}), http.StatusUnprocessableEntity, "size")
		wantStatus(t, complete(t, env, alice, tk.id, map[string]any{"size": 7}), http.StatusOK)
		if got := env.get(t, "/blobs/"+tk.uid, nil); string(got.Raw) != "second!" {
			t.Fatalf("download %q", got.Raw)
		}
	})
}
