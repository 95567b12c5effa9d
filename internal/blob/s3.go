package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is Content on any S3-compatible service (AWS S3, MinIO, SeaweedFS,
// Ceph RGW, Versity...), through minio-go.
//
// Uploads stream: the size is not known in advance (the multipart body is
// read as it arrives), so minio-go sends the object as a multipart upload
// of S3PartSize parts, holding one part in memory at a time. An object is
// visible only once its upload completes, so a failed or cut-off upload
// publishes nothing; minio-go aborts it, and Sweep removes any multipart
// upload a crash left unfinished.
//
// Downloads stream through Parley (Open returns a seekable object that
// fetches ranges on demand) rather than redirecting to a presigned URL: the
// private-blob rule of REST.md §8.4 (any live user session of the app,
// checked at every request, so a destroyed session stops working at once)
// stays Parley's, ETag, Range and Content-Disposition are the same as on
// disk, and the S3 service need not be reachable by clients.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
}

// S3PartSize is the multipart part size of streamed uploads: the memory
// one upload in progress holds. S3 requires at least 5 MiB, and allows at
// most 10,000 parts (here: objects up to 80 GiB).
const S3PartSize = 8 << 20

// S3Config is what ParseS3URL reads from --blob-store.
type S3Config struct {
	Endpoint  string // host:port
	Bucket    string
	Prefix    string
	Region    string
	Secure    bool // https to the endpoint
	PathStyle bool // bucket in the path, not the host name (MinIO, SeaweedFS)
	AccessKey string
	SecretKey string
}

// ParseS3URL reads s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R]
// [&secure=false][&path_style=false]. Credentials never come in the URL
// (it shows in logs); the caller passes them (--s3-access-key and
// --s3-secret-key, best set as PARLEY_S3_ACCESS_KEY and
// PARLEY_S3_SECRET_KEY in the environment).
func ParseS3URL(raw, accessKey, secretKey string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, fmt.Errorf("%q is not s3://BUCKET[/PREFIX]?endpoint=HOST:PORT", raw)
	}
	if u.User != nil {
		return S3Config{}, errors.New("credentials do not go in the URL: set PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY")
	}
	q := u.Query()
	c := S3Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), Endpoint: q.Get("endpoint"), Region: q.Get("region"),
		Secure: true, PathStyle: true}
	if c.Endpoint == "" {
		return S3Config{}, errors.New("endpoint is required (endpoint=HOST:PORT, e.g. s3.amazonaws.com)")
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"secure", &c.Secure}, {"path_style", &c.PathStyle}} {
		if v := q.Get(b.key); v != "" {
			if *b.dst, err = strconv.ParseBool(v); err != nil {
				return S3Config{}, fmt.Errorf("%s=%q is not true or false", b.key, v)
			}
		}
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "secure", "path_style":
		default:
			return S3Config{}, fmt.Errorf("unknown parameter %q", k)
		}
	}
	if c.Prefix != "" {
		c.Prefix += "/"
	}
	c.AccessKey, c.SecretKey = accessKey, secretKey
	if c.AccessKey == "" || c.SecretKey == "" {
		return S3Config{}, errors.New("no credentials: set PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY")
	}
	return c, nil
}

// NewS3 connects to the bucket of c and checks that it exists.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	lookup := minio.BucketLookupPath
	if !c.PathStyle {
		lookup = minio.BucketLookupDNS
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       c.Secure,
		Region:       c.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("blob store s3://%s: %w", c.Bucket, err)
	}
	ok, err := client.BucketExists(ctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob store s3://%s at %s: %w", c.Bucket, c.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob store s3://%s at %s: no such bucket", c.Bucket, c.Endpoint)
	}
	return &S3{client: client, bucket: c.Bucket, prefix: c.Prefix}, nil
}

func (s *S3) name(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return s.prefix + key, nil
}

func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	// Count what was read: on a reader error minio-go reports its own
	// wrapping, and the caller wants the reader's error back.
	cr := &errKeeper{r: r}
	// Not cancelled with the request: minio-go aborts a failed multipart
	// upload with this context, and a client that went away must not
	// leave its parts behind. The request body's reads fail on their own.
	info, err := s.client.PutObject(context.WithoutCancel(ctx), s.bucket, name, cr, -1, minio.PutObjectOptions{
		PartSize: S3PartSize, ContentType: "application/octet-stream", DisableContentSha256: true,
	})
	if cr.err != nil {
		return cr.n, cr.err
	}
	if err != nil {
		return cr.n, err
	}
	return info.Size, nil
}

// errKeeper remembers the first error of the reader it wraps (other than
// io.EOF).
type errKeeper struct {
	r   io.Reader
	n   int64
	err error
}

func (e *errKeeper) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.n += int64(n)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

type s3Object struct {
	*minio.Object
	size int64
}

func (o s3Object) Size() int64 { return o.size }

func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, ErrNotFound
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Err(err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, s3Err(err)
	}
	return s3Object{Object: obj, size: st.Size}, nil
}

func s3Err(err error) error {
	if code := minio.ToErrorResponse(err).Code; code == minio.NoSuchKey || code == "NotFound" {
		return ErrNotFound
	}
	return err
}

func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return nil
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && s3Err(err) != ErrNotFound {
		return err
	}
	return nil
}

func (s *S3) Keys(ctx context.Context, fn func(key string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing if fn fails
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		key := strings.TrimPrefix(obj.Key, s.prefix)
		if !validKey(key) {
			continue // not Parley's
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return nil
}

// Sweep aborts the multipart uploads that a crash left unfinished (they
// hold storage, invisibly, until aborted).
func (s *S3) Sweep(ctx context.Context) error {
	var errs []error
	for up := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
		if up.Err != nil {
			return up.Err
		}
		if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, up.Key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
