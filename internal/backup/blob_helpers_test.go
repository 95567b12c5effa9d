package backup_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

// uploadBlob stores data as a completed private blob of u, as the SDK
// does (REST.md §8: create with a ticket, upload the form, complete), and
// returns its uid.
func uploadBlob(t *testing.T, env *servertest.Env, u *servertest.User, data []byte) string {
	t.Helper()
	resp := env.Do(t, servertest.Req{Method: "POST", Path: "/blobs.json", Token: u.Token,
		Body: map[string]any{"blob": map[string]any{"name": "kept.bin", "content_type": "application/octet-stream"}}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create blob: %d %s", resp.Status, resp.Raw)
	}
	b := resp.JSON["blob"].(map[string]any)
	pu, err := url.Parse(b["blob_object_access"].(map[string]any)["params"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for kv := range strings.SplitSeq(pu.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		v, _ = url.PathUnescape(v)
		mw.WriteField(k, v)
	}
	w, _ := mw.CreateFormFile("file", "kept.bin")
	w.Write(data)
	mw.Close()
	resp = env.Do(t, servertest.Req{Method: "POST", Path: pu.Path, Body: buf.Bytes(), ContentType: mw.FormDataContentType()})
	if resp.Status != http.StatusCreated {
		t.Fatalf("upload blob: %d %s", resp.Status, resp.Raw)
	}
	id := int64(b["id"].(float64))
	resp = env.Do(t, servertest.Req{Method: "PUT", Path: "/blobs/" + strconv.FormatInt(id, 10) + "/complete.json", Token: u.Token,
		Body: map[string]any{"blob": map[string]any{"size": len(data)}}})
	if resp.Status != http.StatusOK {
		t.Fatalf("complete blob: %d %s", resp.Status, resp.Raw)
	}
	return b["uid"].(string)
}
