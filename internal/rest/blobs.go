package rest

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/blob"
)

// uploadPath is Parley's own upload endpoint (REST.md §8.2), the URL of
// every write ticket.
const uploadPath = "/blobs/upload"

// transferIdle is how long an upload or download may stall before the
// connection is dropped. It replaces the server's whole-request timeouts
// for these two, which would cut off a large file on a slow link.
const transferIdle = 60 * time.Second

func (a *API) blobRoutes() {
	a.route("POST /blobs", userSession, a.createBlob)
	a.route("GET /blobs", userSession, a.listBlobs)
	a.mux.HandleFunc("POST "+uploadPath, a.upload)
	a.route("PUT /blobs/{ref}/complete", userSession, a.completeBlob)
	info := a.wrap(userSession, a.blobInfo)
	a.mux.HandleFunc("GET /blobs/{ref}", func(w http.ResponseWriter, r *http.Request) {
		// The one route where ".json" matters (§1.1): with it metadata,
		// without it the file.
		if hadJSONSuffix(r.Context()) {
			info(w, r)
			return
		}
		a.download(w, r)
	})
	a.mux.HandleFunc("GET /blobs/{ref}/download", a.download)
	a.route("GET /blobs/{ref}/object", userSession, a.blobObject)
	a.route("PUT /blobs/{ref}", userSession, a.renameBlob)
	a.route("DELETE /blobs/{ref}", userSession, a.deleteBlob)
}

func blobCaller(r *request) blob.Caller {
	return blob.Caller{AppID: r.sess.AppID, UserID: r.sess.UserID}
}

type blobJSON struct {
	ID             int64          `json:"id"`
	UID            string         `json:"uid"`
	ContentType    string         `json:"content_type"`
	Name           string         `json:"name"`
	Size           *int64         `json:"size"`
	Public         bool           `json:"public"`
	BlobStatus     *string        `json:"blob_status"`
	SetCompletedAt *string        `json:"set_completed_at"`
	AccountID      int64          `json:"account_id"`
	AppID          int64          `json:"app_id"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
	ObjectAccess   map[string]any `json:"blob_object_access,omitempty"`
}

func toBlobJSON(b *blob.Blob) *blobJSON {
	j := &blobJSON{ID: b.ID, UID: b.UID, ContentType: b.ContentType, Name: b.Name, Size: b.Size, Public: b.Public,
		AccountID: b.AppID, AppID: b.AppID, CreatedAt: isoTime(b.CreatedAt), UpdatedAt: isoTime(b.UpdatedAt)}
	if b.Complete() {
		status, at := "complete", isoTime(b.CompletedAt)
		j.BlobStatus, j.SetCompletedAt = &status, &at
	}
	return j
}

// baseURL is the absolute URL of the API root as the client sees it.
func (a *API) baseURL(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return strings.TrimSuffix(a.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// createBlob is POST /blobs (REST.md §8.1).
func (a *API) createBlob(r *request) (reply, error) {
	p, err := r.params.object("blob")
	if err != nil {
		return reply{}, err
	}
	if p == nil {
		return reply{}, apperr.Invalid("blob", "is required")
	}
	var in blob.CreateInput
	if in.Name, err = p.text("name"); err != nil {
		return reply{}, err
	}
	if in.ContentType, err = p.text("content_type"); err != nil {
		return reply{}, err
	}
	if p.has("public") {
		if in.Public, err = boolParam(p, "public"); err != nil {
			return reply{}, err
		}
	}
	b, t, err := a.blobs.Create(r.Context(), blobCaller(r), in)
	if err != nil {
		return reply{}, err
	}
	// The SDK posts to scheme://host/path and turns each query parameter
	// into a form field (values through decodeURIComponent, keys as they
	// are): plain keys, and values that need no escaping at all.
	q := "key=" + t.Key + "&expires=" + strconv.FormatInt(t.Expires.Unix(), 10) + "&signature=" + t.Signature
	j := toBlobJSON(b)
	j.ObjectAccess = map[string]any{"id": b.ID, "blob_id": b.ID, "expires": isoTime(t.Expires),
		"object_access_type": "Write", "params": a.baseURL(r.Request) + uploadPath + "?" + q}
	return created(map[string]any{"blob": j})
}

// boolParam reads true/false/1/0 in any of their JSON or string forms.
func boolParam(p params, key string) (bool, error) {
	switch v := p[key].(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	default:
		s, err := leafString(key, v)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
	}
	return false, apperr.Invalid(key, "must be true or false")
}

// completeBlob is PUT /blobs/{id}/complete (§8.3): {"size": n} from the
// SDK, {"blob": {"size": "n"}} from the docs.
func (a *API) completeBlob(r *request) (reply, error) {
	size, err := r.params.int("size")
	if err != nil {
		return reply{}, err
	}
	if size == nil {
		inner, err := r.params.object("blob")
		if err != nil {
			return reply{}, err
		}
		if inner != nil {
			if size, err = inner.int("size"); err != nil {
				return reply{}, err
			}
		}
	}
	if size == nil {
		return reply{}, apperr.Invalid("size", "is required")
	}
	if err := a.blobs.Complete(r.Context(), blobCaller(r), r.PathValue("ref"), *size); err != nil {
		return reply{}, err
	}
	return empty()
}

// blobInfo is GET /blobs/{id or uid}.json (§8.7), and the SDK's rename
// (§8.10), which sends GET with blob[name].
func (a *API) blobInfo(r *request) (reply, error) {
	ref := r.PathValue("ref")
	if inner, err := r.params.object("blob"); err == nil && inner != nil && inner.has("name") {
		return a.rename(r, inner)
	}
	b, err := a.blobs.Info(r.Context(), blobCaller(r), ref)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"blob": toBlobJSON(b)})
}

// renameBlob is PUT /blobs/{id} with {"blob": {"name": ...}} (§8.10).
func (a *API) renameBlob(r *request) (reply, error) {
	inner, err := r.params.object("blob")
	if err != nil {
		return reply{}, err
	}
	if inner == nil || !inner.has("name") {
		return reply{}, apperr.Invalid("name", "is required")
	}
	return a.rename(r, inner)
}

func (a *API) rename(r *request, inner params) (reply, error) {
	name, err := inner.text("name")
	if err != nil {
		return reply{}, err
	}
	b, err := a.blobs.Rename(r.Context(), blobCaller(r), r.PathValue("ref"), name)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"blob": toBlobJSON(b)})
}

// blobObject is GET /blobs/{uid}/object (§8.8): the blob, and with
// download_url a URL that downloads it with the caller's own token.
func (a *API) blobObject(r *request) (reply, error) {
	b, err := a.blobs.Info(r.Context(), blobCaller(r), r.PathValue("ref"))
	if err != nil {
		return reply{}, err
	}
	j := toBlobJSON(b)
	out := map[string]any{"blob": j}
	if r.params.has("download_url") {
		want, err := boolParam(r.params, "download_url")
		if err != nil {
			return reply{}, err
		}
		if want {
			u := a.baseURL(r.Request) + "/blobs/" + b.UID + "?token=" + url.QueryEscape(r.sess.Token)
			access := map[string]any{"download_url": u, "dowload_url": u} // the docs' spelling too
			j.ObjectAccess = access
			out["blob_object_access"] = access
		}
	}
	return ok(out)
}

// listBlobs is GET /blobs (§8.9): page or current_page, per_page.
func (a *API) listBlobs(r *request) (reply, error) {
	key := "page"
	if !r.params.has("page") && r.params.has("current_page") {
		key = "current_page"
	}
	page, err := r.params.intIn(key, 1, 1, 1_000_000)
	if err != nil {
		return reply{}, err
	}
	perPage, err := r.params.intIn("per_page", 10, 1, 100)
	if err != nil {
		return reply{}, err
	}
	blobs, total, err := a.blobs.List(r.Context(), blobCaller(r), int(page), int(perPage))
	if err != nil {
		return reply{}, err
	}
	items := make([]map[string]any, len(blobs))
	for i := range blobs {
		items[i] = map[string]any{"blob": toBlobJSON(&blobs[i])}
	}
	return ok(map[string]any{"current_page": page, "per_page": perPage, "total_entries": total, "items": items})
}

// deleteBlob is DELETE /blobs/{id} (§8.6).
func (a *API) deleteBlob(r *request) (reply, error) {
	if err := a.blobs.Delete(r.Context(), blobCaller(r), r.PathValue("ref")); err != nil {
		return reply{}, err
	}
	return empty()
}

// download is GET /blobs/{uid} and /blobs/{uid}/download (§8.4, §8.5):
// the bytes with Range, ETag and conditional requests (http.ServeContent),
// streamed from the store without holding them.
func (a *API) download(w http.ResponseWriter, r *http.Request) {
	authn := func() (*blob.Caller, error) {
		token := r.URL.Query().Get("token")
		if token == "" {
			token = r.Header.Get("CB-Token")
		}
		sess, err := a.auth.Authenticate(r.Context(), token)
		if err != nil {
			return nil, err
		}
		return &blob.Caller{AppID: sess.AppID, UserID: sess.UserID}, nil
	}
	b, obj, err := a.blobs.Download(r.Context(), r.PathValue("ref"), authn)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Content-Type", b.ContentType)
	h.Set("Content-Disposition", contentDisposition(b.Name))
	// The content key names one upload's bytes, which never change: a
	// strong validator.
	h.Set("ETag", `"`+b.ContentKey+`"`)
	// User content on the API's origin: never sniffed into HTML, and a
	// document opened from it runs no script.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; media-src 'self'")
	if b.Public {
		h.Set("Cache-Control", "public, max-age=3600")
	} else {
		h.Set("Cache-Control", "private, max-age=3600")
	}
	http.ServeContent(&idleWriter{ResponseWriter: w, rc: http.NewResponseController(w)}, r, "", b.CompletedAt, obj)
}

// idleWriter pushes the write deadline forward on every write: a download
// may take as long as it needs while it moves.
type idleWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w *idleWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(transferIdle))
	return w.ResponseWriter.Write(p)
}

// maxTicketField bounds a form field of the upload (the ticket's fields
// are a few dozen bytes) and maxTicketFields their number.
const (
	maxTicketField  = 1024
	maxTicketFields = 16
	// multipartSlack is what a multipart body may carry beside the file
	// (boundaries, part headers, ticket fields) when its Content-Length
	// is judged against the limit before reading.
	multipartSlack = 64 << 10
)

// upload is POST /blobs/upload (§8.2): multipart/form-data with the
// ticket's fields first and the file last, as the SDK sends it. The
// ticket is checked before a byte of the file is read; the file streams
// to the content store through the app's size limit, and an upload over
// it is cut off there (413), its connection closed without reading on.
func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	err := a.receive(w, r)
	// The server's write deadline was set when the request began; a long
	// upload has outlived it by now.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(transferIdle))
	if err != nil {
		// Whatever is left of the body is not read: the connection closes.
		w.Header().Set("Connection", "close")
		writeError(w, r, a.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
}

func (a *API) receive(w http.ResponseWriter, r *http.Request) error {
	rc := http.NewResponseController(w)
	r.Body = &idleReader{r: r.Body, rc: rc}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return apperr.Malformed("Upload must be multipart/form-data")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return apperr.Malformed("Upload must be multipart/form-data: %v", err)
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return apperr.Malformed("Upload has no file part")
		}
		if err != nil {
			return apperr.Malformed("Upload body is not valid multipart: %v", err)
		}
		name := part.FormName()
		if name != "file" {
			if len(fields) == maxTicketFields {
				return apperr.Malformed("Upload has too many form fields")
			}
			if _, dup := fields[name]; dup {
				return apperr.Malformed("Upload repeats the form field %q", name)
			}
			v, err := io.ReadAll(io.LimitReader(part, maxTicketField+1))
			if err != nil {
				return apperr.Malformed("Upload body is not valid multipart: %v", err)
			}
			if len(v) > maxTicketField {
				return apperr.Malformed("Upload form field %q is too long", name)
			}
			fields[name] = string(v)
			continue
		}
		b, max, err := a.blobs.CheckTicket(r.Context(), fields["key"], fields["expires"], fields["signature"])
		if err != nil {
			return err
		}
		if r.ContentLength > max+multipartSlack {
			// Refused on its announced length, before reading a byte of it.
			return apperr.TooLarge("File is larger than this application's limit of %d bytes", max)
		}
		declared := int64(-1)
		if s, ok := fields["size"]; ok {
			if declared, err = strconv.ParseInt(s, 10, 64); err != nil || declared < 0 {
				return apperr.Invalid("size", "must be a non-negative integer")
			}
		}
		_, err = a.blobs.Upload(r.Context(), b, max, declared, &lastPart{part: part, mr: mr})
		return err
	}
}

// lastPart reads the file part and, at its end, makes sure it was the
// last part: the error comes before the content store sees EOF, so it
// never publishes the file of a body with a second file (or anything
// after it).
type lastPart struct {
	part *multipart.Part
	mr   *multipart.Reader
	end  error // the answer at the end, repeated to later reads
}

func (l *lastPart) Read(p []byte) (int, error) {
	if l.end != nil {
		return 0, l.end
	}
	n, err := l.part.Read(p)
	if err != nil && l.end == nil {
		l.end = l.finish(err)
		return n, l.end
	}
	return n, nil
}

// finish judges the end of the file part: io.EOF when the body ends there.
func (l *lastPart) finish(err error) error {
	if err != io.EOF {
		return apperr.Malformed("Upload body could not be read: %v", err)
	}
	next, err := l.mr.NextPart()
	switch {
	case err == io.EOF:
		return io.EOF
	case err != nil:
		return apperr.Malformed("Upload body is not valid multipart: %v", err)
	case next.FormName() == "file":
		return apperr.Malformed("Upload has more than one file part")
	}
	return apperr.Malformed("The file must be the last part of the upload (found %q after it)", next.FormName())
}

// idleReader pushes the read deadline forward on every read, as
// idleWriter does for downloads.
type idleReader struct {
	r  io.ReadCloser
	rc *http.ResponseController
}

func (i *idleReader) Read(p []byte) (int, error) {
	_ = i.rc.SetReadDeadline(time.Now().Add(transferIdle))
	return i.r.Read(p)
}

func (i *idleReader) Close() error { return i.r.Close() }

// contentDisposition is `inline; filename="<name>"` (REST.md §8.4), with
// an ASCII stand-in and RFC 6266's filename* when the name is not plain
// ASCII, or holds a quote or backslash that would need escaping.
func contentDisposition(name string) string {
	plain := true
	var fallback strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			plain = false
			fallback.WriteByte('_')
			continue
		}
		fallback.WriteRune(r)
	}
	if plain {
		return `inline; filename="` + name + `"`
	}
	return `inline; filename="` + fallback.String() + `"; filename*=UTF-8''` + url.PathEscape(name)
}
