package main

import (
	"io"

	"github.com/boxwire/boxwire/internal/blob"
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
