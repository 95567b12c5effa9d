package blob

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/apperr"
)

// DefaultMaxSize is an app's largest blob unless the operator sets another
// (REST.md §1.6: the docs' 100 MB).
const DefaultMaxSize = 100 << 20

// DefaultTicketTTL is how long an upload ticket is good for (§8.1's
// recommended hour).
const DefaultTicketTTL = time.Hour

// MaxNameBytes bounds a blob's name: a file name, not a document.
const MaxNameBytes = 255

// Limits are an app's blob rules. Zero MaxSize means DefaultMaxSize; empty
// ContentTypes allows every type.
type Limits struct {
	MaxSize      int64
	ContentTypes []string // "image/jpeg", or "image/*" for a whole family
}

// AppLimits gives an app's limits (the auth service owns apps).
type AppLimits interface {
	BlobLimits(ctx context.Context, appID int64) (Limits, error)
}

// Caller is who acts: a user of an app (UserID 0 for an app-only session).
type Caller struct {
	AppID  int64
	UserID int64
}

// Config holds the service's knobs.
type Config struct {
	// Secret signs upload tickets (LoadSecret keeps one in the data dir).
	Secret    []byte
	TicketTTL time.Duration
}

// Service implements the rules of §8.
type Service struct {
	store   Store
	content Content
	apps    AppLimits
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
}

// NewService returns a Service; now may be nil (time.Now).
func NewService(store Store, content Content, apps AppLimits, cfg Config, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if cfg.TicketTTL <= 0 {
		cfg.TicketTTL = DefaultTicketTTL
	}
	return &Service{store: store, content: content, apps: apps, cfg: cfg, log: log, now: now}
}

// LoadSecret reads the ticket-signing key from path, creating it (32
// random bytes, readable by the owner only) on first start. Kept in the
// data dir so tickets survive a restart and every process on the same
// data sees one key.
func LoadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadSecret(path) // another process made it first
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// Sweep removes what a crash left behind: temporary files, and content no
// blob row points to (a delete that removed the row but died before the
// content). Run it before serving uploads.
func (s *Service) Sweep(ctx context.Context) error {
	if err := s.content.Sweep(ctx); err != nil {
		return fmt.Errorf("blob sweep: %w", err)
	}
	var batch []string
	removed := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		exist, err := s.store.BlobContentKeysExist(ctx, batch)
		if err != nil {
			return err
		}
		for _, k := range batch {
			if !exist[k] {
				if err := s.content.Delete(ctx, k); err != nil {
					return err
				}
				removed++
			}
		}
		batch = batch[:0]
		return nil
	}
	err := s.content.Keys(ctx, func(key string) error {
		batch = append(batch, key)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("blob sweep: %w", err)
	}
	if removed > 0 {
		s.log.Info("removed blob content without a blob", "count", removed)
	}
	return nil
}

// CreateInput is §8.1's request.
type CreateInput struct {
	Name        string
	ContentType string
	Public      bool
}

// Ticket is a signed permission to upload the content of one blob.
type Ticket struct {
	Key       string
	Expires   time.Time
	Signature string
}

// Create makes a blob (no content yet) and its upload ticket.
func (s *Service) Create(ctx context.Context, c Caller, in CreateInput) (*Blob, Ticket, error) {
	if c.UserID == 0 {
		return nil, Ticket{}, apperr.Forbidden("Forbidden. Need user.")
	}
	name, err := CheckName(in.Name)
	if err != nil {
		return nil, Ticket{}, err
	}
	ct, err := s.checkContentType(ctx, c.AppID, in.ContentType)
	if err != nil {
		return nil, Ticket{}, err
	}
	now := s.now().UTC()
	b := &Blob{AppID: c.AppID, OwnerID: c.UserID, UID: newUID(), Name: name, ContentType: ct, Public: in.Public,
		CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateBlob(ctx, b); err != nil {
		return nil, Ticket{}, err
	}
	return b, s.ticket(b.UID, now.Add(s.cfg.TicketTTL)), nil
}

// CheckName validates a blob name: a file's name, not a path. The name is
// never used as a path (content lives under the uid), but it is echoed in
// Content-Disposition and shown to other users, so separators, control
// characters and oversized names are refused outright.
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", apperr.Invalid("name", "is required")
	case len(name) > MaxNameBytes:
		return "", apperr.Invalid("name", "is longer than %d bytes", MaxNameBytes)
	case !utf8.ValidString(name):
		return "", apperr.Invalid("name", "is not valid UTF-8")
	case name == "." || name == ".." || strings.ContainsAny(name, `/\`):
		return "", apperr.Invalid("name", "must be a file name, not a path")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", apperr.Invalid("name", "must not contain control characters")
		}
	}
	return name, nil
}

func (s *Service) limits(ctx context.Context, appID int64) (Limits, error) {
	l, err := s.apps.BlobLimits(ctx, appID)
	if err != nil {
		return Limits{}, err
	}
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	return l, nil
}

func (s *Service) checkContentType(ctx context.Context, appID int64, ct string) (string, error) {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		ct = "application/octet-stream"
	}
	if len(ct) > 255 {
		return "", apperr.Invalid("content_type", "is longer than 255 bytes")
	}
	base, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(base, "/") {
		return "", apperr.Invalid("content_type", "is not a media type")
	}
	l, err := s.limits(ctx, appID)
	if err != nil {
		return "", err
	}
	if !TypeAllowed(l.ContentTypes, base) {
		return "", apperr.Invalid("content_type", "%s is not allowed in this application", base)
	}
	return ct, nil
}

// TypeAllowed reports whether media type base (lowercase, no parameters)
// is in allowed; an empty list allows all, "image/*" a whole family.
func TypeAllowed(allowed []string, base string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == base || strings.HasSuffix(a, "/*") && strings.HasPrefix(base, strings.TrimSuffix(a, "*")) {
			return true
		}
	}
	return false
}

// CheckContentTypes validates an operator's list of allowed types.
func CheckContentTypes(list []string) error {
	for _, t := range list {
		if t == "*/*" {
			continue
		}
		major, minor, ok := strings.Cut(t, "/")
		if !ok || major == "" || minor == "" || strings.ContainsAny(t, " ;,") {
			return apperr.Invalid("blob-content-types", "%q is not a media type (type/subtype or type/*)", t)
		}
	}
	return nil
}

func newUID() string { return randomHex(16) }

// newContentKey names the content of one upload of uid.
func newContentKey(uid string) string { return uid + randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("blob: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}

func (s *Service) sign(key string, expires int64) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(m, "parley-blob-upload\x00%s\x00%d", key, expires)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) ticket(key string, expires time.Time) Ticket {
	return Ticket{Key: key, Expires: expires, Signature: s.sign(key, expires.Unix())}
}

// errTooLarge ends a read that went past the limit.
var errTooLarge = errors.New("blob: over the size limit")

// limitReader fails as soon as more than max bytes have come through, so
// an oversized upload is cut off where it crosses the limit, not at its
// end.
type limitReader struct {
	r    io.Reader
	left int64 // bytes still allowed, plus one to detect the excess
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left <= 0 {
		return n, errTooLarge
	}
	return n, err
}

type sizeMismatch struct{ got int64 }

func (e *sizeMismatch) Error() string { return fmt.Sprintf("blob: size mismatch at %d bytes", e.got) }

// sizeCheck fails a read whose stream turns out longer or shorter than
// the size declared, before Content publishes it.
type sizeCheck struct {
	r       io.Reader
	n, want int64
}

func (c *sizeCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.want || err == io.EOF && c.n != c.want {
		return n, &sizeMismatch{got: c.n}
	}
	return n, err
}

// CheckTicket verifies an upload ticket and returns its blob and the
// most bytes its content may have. Checked before a byte of the file is
// read.
func (s *Service) CheckTicket(ctx context.Context, key, expires, signature string) (*Blob, int64, error) {
	if key == "" || expires == "" || signature == "" {
		return nil, 0, apperr.Forbidden("Upload ticket missing: key, expires and signature are required")
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !hmac.Equal([]byte(signature), []byte(s.sign(key, exp))) {
		return nil, 0, apperr.Forbidden("Upload ticket signature is invalid")
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return nil, 0, apperr.Forbidden("Upload ticket has expired")
	}
	b, err := s.store.BlobByUID(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, 0, apperr.NotFound("Blob")
	}
	if err != nil {
		return nil, 0, err
	}
	if b.Complete() {
		return nil, 0, &apperr.Error{Kind: apperr.KindConflict, Message: "Blob is already complete; create a new one"}
	}
	l, err := s.limits(ctx, b.AppID)
	if err != nil {
		return nil, 0, err
	}
	return b, l.MaxSize, nil
}

// Upload stores the content of b (from CheckTicket) from r, reading at
// most max+1 bytes of it: past max it stops and answers 413, and what was
// read is discarded. declared, when not negative, is the size the client
// announced; content of another size is refused.
func (s *Service) Upload(ctx context.Context, b *Blob, max, declared int64, r io.Reader) (int64, error) {
	if declared > max {
		return 0, apperr.TooLarge("File is larger than this application's limit of %d bytes", max)
	}
	var r2 io.Reader = &limitReader{r: r, left: max + 1}
	if declared >= 0 {
		r2 = &sizeCheck{r: r2, want: declared}
	}
	key := newContentKey(b.UID)
	n, err := s.content.Put(ctx, key, r2)
	var mismatch *sizeMismatch
	switch {
	case errors.Is(err, errTooLarge):
		return 0, apperr.TooLarge("File is larger than this application's limit of %d bytes", max)
	case errors.As(err, &mismatch):
		return 0, apperr.Invalid("size", "declared %d bytes but the file has %d or more", declared, mismatch.got)
	case err != nil:
		// A reader's own error (the front end's: a malformed body) passes
		// through; anything else is the store's.
		return 0, err
	}
	old, err := s.store.SetBlobUploaded(ctx, b.ID, key, n, s.now().UTC())
	if err != nil {
		s.dropContent(ctx, key)
		if errors.Is(err, ErrNotFound) {
			// Completed or deleted while the bytes came in.
			return 0, &apperr.Error{Kind: apperr.KindConflict, Message: "Blob was completed or deleted during the upload"}
		}
		return 0, err
	}
	if old != "" {
		s.dropContent(ctx, old) // an earlier upload of the same blob
	}
	return n, nil
}

// byRef finds a blob of the caller's app by id (all digits) or uid.
func (s *Service) byRef(ctx context.Context, c Caller, ref string) (*Blob, error) {
	var b *Blob
	var err error
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		b, err = s.store.BlobByID(ctx, c.AppID, id)
	} else if validKey(ref) {
		b, err = s.store.BlobByUID(ctx, ref)
		if err == nil && b.AppID != c.AppID {
			err = ErrNotFound
		}
	} else {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		return nil, apperr.NotFound("Blob")
	}
	return b, err
}

func (s *Service) owned(ctx context.Context, c Caller, ref string) (*Blob, error) {
	b, err := s.byRef(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != c.UserID {
		return nil, apperr.Forbidden("Only the blob's owner may do this")
	}
	return b, nil
}

// Info is §8.7: any user of the app sees any blob of the app.
func (s *Service) Info(ctx context.Context, c Caller, ref string) (*Blob, error) {
	return s.byRef(ctx, c, ref)
}

// Complete is §8.3: the owner declares the upload done with its size,
// which must be the size of what was uploaded.
func (s *Service) Complete(ctx context.Context, c Caller, ref string, size int64) error {
	b, err := s.owned(ctx, c, ref)
	if err != nil {
		return err
	}
	if !b.HasContent {
		return apperr.Invalid("size", "no file was uploaded for this blob")
	}
	if size != b.Uploaded {
		return apperr.Invalid("size", "is %d but the uploaded file has %d bytes", size, b.Uploaded)
	}
	if b.Complete() {
		return nil // the same declaration again
	}
	err = s.store.CompleteBlob(ctx, b.ID, b.ContentKey, size, s.now().UTC())
	if errors.Is(err, ErrNotFound) {
		return &apperr.Error{Kind: apperr.KindConflict, Message: "Blob changed (a new upload, or deleted) while completing; try again"}
	}
	return err
}

// Rename is §8.10, for the owner.
func (s *Service) Rename(ctx context.Context, c Caller, ref, name string) (*Blob, error) {
	b, err := s.owned(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	if name, err = CheckName(name); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if err := s.store.RenameBlob(ctx, b.ID, name, now); err != nil {
		return nil, err
	}
	b.Name, b.UpdatedAt = name, now
	return b, nil
}

// Delete is §8.6: the owner removes the blob and its content. The row
// goes first: were the content delete to fail (or the process to die),
// the startup sweep removes the orphan; the other order could leave a
// complete blob whose download fails.
func (s *Service) Delete(ctx context.Context, c Caller, ref string) error {
	b, err := s.owned(ctx, c, ref)
	if err != nil {
		return err
	}
	if err := s.store.DeleteBlob(ctx, b.ID); err != nil {
		return err
	}
	if b.HasContent {
		s.dropContent(ctx, b.ContentKey)
	}
	return nil
}

// dropContent deletes content no blob uses any more; a failure is only
// logged, as the next start's sweep removes what is left.
func (s *Service) dropContent(ctx context.Context, key string) {
	if err := s.content.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.log.Warn("delete blob content; the next start removes it", "key", key, "err", err)
	}
}

// List is §8.9: the caller's own blobs, page by page (pages from 1).
func (s *Service) List(ctx context.Context, c Caller, page, perPage int) ([]Blob, int, error) {
	return s.store.ListBlobs(ctx, c.AppID, c.UserID, perPage, (page-1)*perPage)
}

// Download is §8.4: a complete blob and its opened content, for anyone
// when public, else for a user session of the blob's app. authn finds the
// caller's session; it is called only for a private blob, so a public
// download needs no token and touches no session.
func (s *Service) Download(ctx context.Context, uid string, authn func() (*Caller, error)) (*Blob, Object, error) {
	if !validKey(uid) {
		return nil, nil, apperr.NotFound("Blob")
	}
	b, err := s.store.BlobByUID(ctx, uid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, apperr.NotFound("Blob")
	}
	if err != nil {
		return nil, nil, err
	}
	if !b.Complete() || !b.HasContent {
		return nil, nil, apperr.NotFound("Blob")
	}
	if !b.Public {
		caller, err := authn()
		switch {
		case err != nil:
			return nil, nil, err
		case caller.AppID != b.AppID:
			return nil, nil, apperr.SessionExpired() // another app's token is no token here
		case caller.UserID == 0:
			return nil, nil, apperr.Forbidden("Forbidden. Need user.")
		}
	}
	obj, err := s.content.Open(ctx, b.ContentKey)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, apperr.NotFound("Blob")
	}
	if err != nil {
		return nil, nil, err
	}
	return b, obj, nil
}
