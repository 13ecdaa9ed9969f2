package main

import (
	"context"
	"io"
	"path/filepath"

	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/blob/s3"
	"github.com/boxwire/boxwire/internal/boxes"
)

// dirBlobs lets the local blob directory serve as the boxes service's
// blob store: the adapter returns its own concrete types, the service
// asks for interfaces, and only the wiring knows both.
type dirBlobs struct{ *blob.Dir }

func (d dirBlobs) Receive(r io.Reader, limit int64, field string) (boxes.Upload, error) {
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

// openBlobs picks the file store: S3 when --blobs is set, else DATA/files.
func openBlobs(ctx context.Context, cfg Config) (boxes.Blobs, error) {
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

func (d s3Blobs) Receive(r io.Reader, limit int64, field string) (boxes.Upload, error) {
	up, err := d.Store.Receive(r, limit, field)
	if err != nil {
		return nil, err
	}
	return up, nil
}

// openMediaBlobs is where messages' files are kept: DATA/media, or the
// same S3 bucket as the boxes' files under media/. Apart from the boxes'
// files, so that what cleans those never sees a message's file.
func openMediaBlobs(ctx context.Context, cfg Config, files boxes.Blobs) (boxes.Blobs, error) {
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
	boxes.Blobs
	prefix string
}

func (p prefixed) Receive(r io.Reader, limit int64, field string) (boxes.Upload, error) {
	up, err := p.Blobs.Receive(r, limit, field)
	if err != nil {
		return nil, err
	}
	return prefixedUpload{up, p.prefix}, nil
}

func (p prefixed) Open(id string) (io.ReadSeekCloser, error) { return p.Blobs.Open(p.prefix + id) }
func (p prefixed) Remove(id string) error                    { return p.Blobs.Remove(p.prefix + id) }

type prefixedUpload struct {
	boxes.Upload
	prefix string
}

func (u prefixedUpload) Keep(id string) error { return u.Upload.Keep(u.prefix + id) }
