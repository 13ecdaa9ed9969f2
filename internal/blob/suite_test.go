package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/blob/s3"
	"github.com/boxwire/boxwire/internal/blob/sealed"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/errs"
)

// store is what both implementations offer, seen from the tests.
type store interface {
	receive(r io.Reader, limit int64) (upload, error)
	Open(id string) (io.ReadSeekCloser, error)
	Remove(id string) error
	Exists(id string) bool
}

type upload interface {
	Keep(id string) error
	Discard()
	Len() int64
}

type dirStore struct{ *blob.Dir }

func (d dirStore) receive(r io.Reader, limit int64) (upload, error) {
	u, err := d.Receive(r, limit, "file")
	if err != nil {
		return nil, err
	}
	return u, nil
}
func (d dirStore) Open(id string) (io.ReadSeekCloser, error) {
	f, err := d.Dir.Open(id)
	if err != nil {
		return nil, err
	}
	return f, nil
}

type s3Store struct{ *s3.Store }

func (d s3Store) receive(r io.Reader, limit int64) (upload, error) {
	u, err := d.Receive(r, limit, "file")
	if err != nil {
		return nil, err
	}
	return u, nil
}

// TestStores runs the same cases against the local directory and against
// S3 (gofakes3, a real S3-protocol server, on a loopback port).
func TestStores(t *testing.T) {
	d, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("dir", func(t *testing.T) { storeCases(t, dirStore{d}) })
	t.Run("s3", func(t *testing.T) { storeCases(t, s3Store{fakeS3(t)}) })
	// The same cases through the wrapper that seals blobs at rest.
	t.Run("sealed dir", func(t *testing.T) { storeCases(t, sealedOver(t, dirStore{d}, testKey(1))) })
	t.Run("sealed s3", func(t *testing.T) { storeCases(t, sealedOver(t, s3Store{fakeS3(t)}, testKey(1))) })
}

// blobs makes a test store the boxservice.Blobs the wrapper seals into, as
// cmd/boxwire's adapters do.
type blobs struct{ store }

func (b blobs) Receive(r io.Reader, limit int64, field string) (boxservice.Upload, error) {
	u, err := b.receive(r, limit)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// sealedStore is the sealing wrapper seen as a test store; Exists asks
// the inner store.
type sealedStore struct {
	*sealed.Blobs
	inner store
}

func (s sealedStore) receive(r io.Reader, limit int64) (upload, error) {
	return s.Receive(r, limit, "file")
}
func (s sealedStore) Exists(id string) bool { return s.inner.Exists(id) }

func sealedOver(t *testing.T, inner store, key []byte) sealedStore {
	t.Helper()
	sb, err := sealed.New(blobs{inner}, key)
	if err != nil {
		t.Fatal(err)
	}
	return sealedStore{Blobs: sb, inner: inner}
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func fakeS3(t *testing.T) *s3.Store {
	backend := s3mem.New()
	if err := backend.CreateBucket("files"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gofakes3.New(backend).Server()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testsecret")
	st, err := s3.Open(context.Background(), "s3://files?endpoint=http://"+ln.Addr().String()+"&region=us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func storeCases(t *testing.T, s store) {
	const id = "ab0123456789"
	data := bytes.Repeat([]byte("0123456789abcdef"), 700_000) // 11 MB: several S3 parts
	u, err := s.receive(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != int64(len(data)) {
		t.Fatalf("size %d, want %d", u.Len(), len(data))
	}
	if s.Exists(id) {
		t.Fatal("visible before Keep")
	}
	if err := u.Keep(id); err != nil {
		t.Fatal(err)
	}
	u.Discard()
	f, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), want %d identical", len(got), err, len(data))
	}

	// Over the limit: too_large naming the field, nothing kept.
	_, err = s.receive(bytes.NewReader(data), 1000)
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.TooLarge || e.Fields["file"] != "too_large" {
		t.Fatalf("oversize: %v", err)
	}

	if err := s.Remove(id); err != nil {
		t.Fatal(err)
	}
	if s.Exists(id) {
		t.Fatal("still there after Remove")
	}
	if _, err := s.Open(id); !errors.As(err, &e) || e.Code != errs.NotFound {
		t.Fatalf("open removed: %v", err)
	}
	if err := s.Remove(id); err != nil {
		t.Fatalf("removing a missing blob: %v", err)
	}
}
