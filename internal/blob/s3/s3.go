// Package s3 stores blobs in S3-compatible object storage, so that every
// node of a deployment reads the same files. An upload is streamed in
// parts under tmp/ and copied into place by Keep; nothing is visible
// under its id before that.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/boxwire/boxwire/internal/errs"
)

// partSize bounds the memory one upload holds: minio buffers one part.
const partSize = 5 << 20

// Store is a bucket of blobs named by id.
type Store struct {
	c      *minio.Client
	bucket string
}

// Open parses s3://BUCKET?endpoint=HOST:PORT&region=R[&insecure=1];
// credentials come from the standard AWS environment variables.
func Open(ctx context.Context, raw string) (*Store, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("blobs: want s3://BUCKET?endpoint=…&region=…, got %q", raw)
	}
	q := u.Query()
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	secure := q.Get("insecure") == ""
	if after, ok := strings.CutPrefix(endpoint, "http://"); ok {
		endpoint, secure = after, false
	} else if after, ok := strings.CutPrefix(endpoint, "https://"); ok {
		endpoint = after
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
		Secure: secure, Region: q.Get("region"),
	})
	if err != nil {
		return nil, fmt.Errorf("blobs: %w", err)
	}
	ok, err := c.BucketExists(ctx, u.Host)
	if err != nil {
		return nil, fmt.Errorf("blobs: bucket %s: %w", u.Host, err)
	}
	if !ok {
		return nil, fmt.Errorf("blobs: bucket %s does not exist", u.Host)
	}
	return &Store{c: c, bucket: u.Host}, nil
}

// Upload is a received blob not yet kept.
type Upload struct {
	s    *Store
	tmp  string
	Size int64
}

// Receive streams r into a temporary object. More than limit bytes is a
// too_large error and leaves nothing behind.
func (s *Store) Receive(r io.Reader, limit int64, field string) (*Upload, error) {
	ctx := context.Background()
	u := &Upload{s: s, tmp: "tmp/" + uuid.NewString()}
	src := &readErr{r: io.LimitReader(r, limit+1)}
	// Unsigned payload: over plain HTTP minio otherwise sends the
	// aws-chunked framing, which not every S3-compatible store decodes
	// (gofakes3 stores it raw); integrity rests on TLS and the size check.
	info, err := s.c.PutObject(ctx, s.bucket, u.tmp, src, -1, minio.PutObjectOptions{PartSize: partSize, DisableContentSha256: true})
	switch {
	case err == nil && info.Size > limit:
		u.Discard()
		return nil, &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{field: "too_large"},
			Message: fmt.Sprintf("%s is larger than the limit of %d bytes", field, limit)}
	case src.err != nil:
		u.Discard()
		var own *errs.Error
		if errors.As(src.err, &own) {
			return nil, own
		}
		return nil, errs.Field(errs.Body, field, errs.Malformed, "%s could not be read: %v", field, src.err)
	case err != nil:
		u.Discard()
		return nil, errs.Wrap(err, "put upload")
	}
	u.Size = info.Size
	return u, nil
}

type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// Len is the upload's size in bytes.
func (u *Upload) Len() int64 { return u.Size }

// Keep copies the upload into place under id; it returns once stored.
func (u *Upload) Keep(id string) error {
	_, err := u.s.c.CopyObject(context.Background(),
		minio.CopyDestOptions{Bucket: u.s.bucket, Object: id},
		minio.CopySrcOptions{Bucket: u.s.bucket, Object: u.tmp})
	return errs.Wrap(err, "keep blob")
}

// Discard removes the temporary object.
func (u *Upload) Discard() {
	u.s.c.RemoveObject(context.Background(), u.s.bucket, u.tmp, minio.RemoveObjectOptions{})
}

// Open gives a stored blob, or not_found.
func (s *Store) Open(id string) (io.ReadSeekCloser, error) {
	ctx := context.Background()
	if _, err := s.c.StatObject(ctx, s.bucket, id, minio.StatObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, errs.E(errs.NotFound, "no such file")
		}
		return nil, errs.Wrap(err, "open blob")
	}
	o, err := s.c.GetObject(ctx, s.bucket, id, minio.GetObjectOptions{})
	if err != nil {
		return nil, errs.Wrap(err, "open blob")
	}
	return o, nil
}

// Remove deletes a blob; a missing one is not an error.
func (s *Store) Remove(id string) error {
	return errs.Wrap(s.c.RemoveObject(context.Background(), s.bucket, id, minio.RemoveObjectOptions{}), "remove blob")
}

// Exists reports whether a blob is stored.
func (s *Store) Exists(id string) bool {
	_, err := s.c.StatObject(context.Background(), s.bucket, id, minio.StatObjectOptions{})
	return err == nil
}

// List calls fn with the id and time of each kept blob, the uploads not
// yet kept (under tmp/) aside.
func (s *Store) List(ctx context.Context, fn func(id string, modified time.Time) error) error {
	for o := range s.c.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return errs.Wrap(o.Err, "list blobs")
		}
		if strings.HasPrefix(o.Key, "tmp/") {
			continue
		}
		if err := fn(o.Key, o.LastModified); err != nil {
			return err
		}
	}
	return nil
}

// RemoveUnfinished removes the uploads under tmp/ from before t that a
// crash left behind: objects written and never kept or discarded, and
// multipart uploads never completed (they hold storage while invisible).
// It returns how many it removed.
func (s *Store) RemoveUnfinished(ctx context.Context, before time.Time) (int, error) {
	n := 0
	for o := range s.c.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: "tmp/", Recursive: true}) {
		if o.Err != nil {
			return n, errs.Wrap(o.Err, "list uploads")
		}
		if !o.LastModified.Before(before) || !isUploadKey(o.Key) {
			continue
		}
		if err := s.c.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return n, errs.Wrap(err, "remove upload")
		}
		n++
	}
	for u := range s.c.ListIncompleteUploads(ctx, s.bucket, "tmp/", true) {
		if u.Err != nil {
			return n, errs.Wrap(u.Err, "list multipart uploads")
		}
		if !u.Initiated.Before(before) || !isUploadKey(u.Key) {
			continue
		}
		if err := s.c.RemoveIncompleteUpload(ctx, s.bucket, u.Key); err != nil {
			return n, errs.Wrap(err, "abort multipart upload")
		}
		n++
	}
	return n, nil
}

// isUploadKey says whether key is named as Receive names uploads, so
// that nothing else under tmp/ is ever removed.
func isUploadKey(key string) bool {
	id, ok := strings.CutPrefix(key, "tmp/")
	u, err := uuid.Parse(id)
	return ok && err == nil && u.String() == id
}

// Client is the store's S3 client, for tests that look at the bucket.
func (s *Store) Client() *minio.Client { return s.c }
