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
