// Package blob stores encrypted files in a local directory. Uploads are
// streamed to a temporary file (never held in memory), fsynced, then
// renamed into place, so a stored blob is always complete.
package blob

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/boxwire/boxwire/internal/errs"
)

// Dir is a directory of blobs named by id.
type Dir struct{ root string }

// Open prepares root (and its tmp/ folder) for blobs.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Dir{root: root}, nil
}

// Upload is a received blob not yet kept.
type Upload struct {
	dir  *Dir
	tmp  string
	Size int64
}

// Receive streams r into a temporary file. More than limit bytes is a
// too_large error and leaves nothing behind.
func (d *Dir) Receive(r io.Reader, limit int64, field string) (*Upload, error) {
	f, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "upload-*")
	if err != nil {
		return nil, errs.Wrap(err, "create upload")
	}
	u := &Upload{dir: d, tmp: f.Name()}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	switch {
	case n > limit:
		u.Discard()
		return nil, &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{field: "too_large"},
			Message: fmt.Sprintf("%s is larger than the limit of %d bytes", field, limit)}
	case err != nil:
		u.Discard()
		return nil, errs.Field(errs.Body, field, errs.Malformed, "%s could not be read: %v", field, err)
	}
	u.Size = n
	return u, nil
}

// Keep moves the upload into place under id.
func (u *Upload) Keep(id string) error {
	path := u.dir.path(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return errs.Wrap(err, "blob dir")
	}
	if err := os.Rename(u.tmp, path); err != nil {
		return errs.Wrap(err, "keep blob")
	}
	return syncDir(filepath.Dir(path))
}

// Discard removes an upload that will not be kept.
func (u *Upload) Discard() { os.Remove(u.tmp) }

// Open opens a stored blob.
func (d *Dir) Open(id string) (*os.File, error) {
	f, err := os.Open(d.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errs.E(errs.NotFound, "no such file")
	}
	return f, errs.Wrap(err, "open blob")
}

// Remove deletes a blob; a missing one is not an error.
func (d *Dir) Remove(id string) error {
	err := os.Remove(d.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Exists reports whether a blob is stored.
func (d *Dir) Exists(id string) bool {
	_, err := os.Stat(d.path(id))
	return err == nil
}

// path shards blobs by the first two characters of their id.
func (d *Dir) path(id string) string {
	return filepath.Join(d.root, id[:2], id)
}

// syncDir makes a rename durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return errs.Wrap(err, "sync dir")
	}
	defer f.Close()
	return errs.Wrap(f.Sync(), "sync dir")
}
