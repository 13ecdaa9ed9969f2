package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/atrest"

	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/blob/s3"
	"github.com/boxwire/boxwire/internal/blob/sealed"
	"github.com/boxwire/boxwire/internal/boxservice"
)

// dirBlobs lets the local blob directory serve as the boxes service's
// blob store: the adapter returns its own concrete types, the service
// asks for interfaces, and only the wiring knows both.
type dirBlobs struct{ *blob.Dir }

func (d dirBlobs) Receive(r io.Reader, limit int64, field string) (boxservice.Upload, error) {
	up, err := d.Dir.Receive(r, limit, field)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return up, nil
}

func (d dirBlobs) Open(id string) (io.ReadSeekCloser, error) {
	f, err := d.Dir.Open(id)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// fileStore is the file store as the wiring sees it: blobs for the
// services, and what the sweep of orphans walks.
type fileStore interface {
	boxservice.Blobs
	blob.Sweepable
}

// openBlobs picks the file store: S3 when --blobs is set, else DATA/files.
func openBlobs(ctx context.Context, cfg Config) (fileStore, error) {
	if cfg.Blobs != "" {
		st, err := s3.Open(ctx, cfg.Blobs)
		if err != nil {
			return nil, err
		}
		return s3Blobs{st}, nil
	}
	d, err := blob.Open(filepath.Join(cfg.Data, "files"))
	if err != nil {
		return nil, err
	}
	return dirBlobs{d}, nil
}

// s3Blobs adapts the S3 store the same way.
type s3Blobs struct{ *s3.Store }

func (d s3Blobs) Receive(r io.Reader, limit int64, field string) (boxservice.Upload, error) {
	up, err := d.Store.Receive(r, limit, field)
	if err != nil {
		return nil, err
	}
	return up, nil
}

// openMediaBlobs is where messages' files are kept: DATA/media, or the
// same S3 bucket as the boxes' files under media/. Apart from the boxes'
// files, so that what cleans those never sees a message's file.
func openMediaBlobs(ctx context.Context, cfg Config, files boxservice.Blobs) (boxservice.Blobs, error) {
	if cfg.Blobs != "" {
		return prefixed{files, "media/"}, nil
	}
	d, err := blob.Open(filepath.Join(cfg.Data, "media"))
	if err != nil {
		return nil, err
	}
	return dirBlobs{d}, nil
}

// prefixed keeps blobs under a key prefix of another store.
type prefixed struct {
	boxservice.Blobs
	prefix string
}

func (p prefixed) Receive(r io.Reader, limit int64, field string) (boxservice.Upload, error) {
	up, err := p.Blobs.Receive(r, limit, field)
	if err != nil {
		return nil, err
	}
	return prefixedUpload{up, p.prefix}, nil
}

// List walks the blobs under the prefix by their ids without it, for the
// sweep of messages' files kept in the boxes' bucket.
func (p prefixed) List(ctx context.Context, fn func(id string, modified time.Time) error) error {
	s, ok := p.Blobs.(blob.Sweepable)
	if !ok {
		return errors.New("this file store cannot be listed")
	}
	return s.List(ctx, func(key string, modified time.Time) error {
		if id, ok := strings.CutPrefix(key, p.prefix); ok {
			return fn(id, modified)
		}
		return nil
	})
}

// RemoveUnfinished leaves the bucket's unfinished uploads to the sweep of
// the store itself, which takes them all, prefix or not.
func (p prefixed) RemoveUnfinished(context.Context, time.Time) (int, error) { return 0, nil }

func (p prefixed) Open(id string) (io.ReadSeekCloser, error) { return p.Blobs.Open(p.prefix + id) }
func (p prefixed) Remove(id string) error                    { return p.Blobs.Remove(p.prefix + id) }

type prefixedUpload struct {
	boxservice.Upload
	prefix string
}

func (u prefixedUpload) Keep(id string) error { return u.Upload.Keep(u.prefix + id) }

// sealBlobs is the file store sealed with a key derived from the
// operator's (--secret-key-file), for what the server holds in the clear;
// without a key (never so in serve) the files are stored as they come.
func sealBlobs(files boxservice.Blobs, key *atrest.Key) (boxservice.Blobs, error) {
	if key == nil {
		return files, nil
	}
	return sealed.New(files, key.Derive("boxwire sealed blobs v1"))
}

// sweepEvery is how often each node sweeps the file store for orphans.
const sweepEvery = time.Hour

// sweepBlobs removes, at start and then every sweepEvery, the files and
// unfinished uploads that a crash or a failed removal left without a
// reference in the database (blob.Sweep), once older than
// --blob-sweep-grace. File times are the wall clock's, so is the cut-off.
func (s *Server) sweepBlobs(ctx context.Context, name string, files blob.Sweepable) {
	for {
		started := time.Now()
		swept, err := blob.Sweep(ctx, files, s.Store.UnreferencedBlobs, started.Add(-s.Config.BlobSweepGrace))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.Log.Warn("sweeping the file store failed; trying again later", "store", name, "error", err)
		default:
			s.Log.Info("file store swept", "store", name, "orphans_removed", swept.Orphans, "unfinished_uploads_removed", swept.Unfinished,
				"grace", s.Config.BlobSweepGrace.String(), "took", time.Since(started).Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(sweepEvery):
		}
	}
}
