// Package blob stores encrypted files in a local directory. Uploads are
// streamed to a temporary file (never held in memory), fsynced, then
// renamed into place, so a stored blob is always complete.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

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
// too_large error and leaves nothing behind; so does a full disk
// (insufficient_storage) or a client that stops sending.
func (d *Dir) Receive(r io.Reader, limit int64, field string) (*Upload, error) {
	f, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "upload-*")
	if err != nil {
		return nil, storageError(err, "create upload")
	}
	u := &Upload{dir: d, tmp: f.Name()}
	src := &readErr{r: io.LimitReader(r, limit+1)}
	n, err := io.Copy(f, src)
	if err == nil {
		err = f.Sync() // a full disk may only show here, or at Close
	}
	err = errors.Join(err, f.Close())
	switch {
	case n > limit:
		u.Discard()
		return nil, &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{field: "too_large"},
			Message: fmt.Sprintf("%s is larger than the limit of %d bytes", field, limit)}
	case src.err != nil:
		u.Discard()
		var own *errs.Error
		if errors.As(src.err, &own) {
			return nil, own // the body's reader said why (too slow)
		}
		return nil, errs.Field(errs.Body, field, errs.Malformed, "%s could not be read: %v", field, src.err)
	case err != nil:
		u.Discard()
		return nil, storageError(err, "write upload")
	}
	u.Size = n
	return u, nil
}

// readErr remembers the reader's error, so that a failed read (the
// client's fault) is told from a failed write (the server's).
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

// storageError makes a full disk (or quota) insufficient_storage, with a
// message that names no path: the cause, path included, is only logged.
func storageError(err error, what string) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &errs.Error{Code: errs.InsufficientStorage, Message: "the server has no room left to store this file",
			Err: fmt.Errorf("%s: %w", what, err)}
	}
	return errs.Wrap(err, "%s", what)
}

// Keep moves the upload into place under id.
func (u *Upload) Keep(id string) error {
	path := u.dir.path(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return storageError(err, "blob dir")
	}
	if err := os.Rename(u.tmp, path); err != nil {
		return storageError(err, "keep blob")
	}
	return syncDir(filepath.Dir(path))
}

// Len is the upload's size in bytes.
func (u *Upload) Len() int64 { return u.Size }

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

// List calls fn with the id and time of each kept blob, the uploads not
// yet kept (in tmp/) aside. A blob removed meanwhile may or may not be
// listed.
func (d *Dir) List(ctx context.Context, fn func(id string, modified time.Time) error) error {
	shards, err := os.ReadDir(d.root)
	if err != nil {
		return errs.Wrap(err, "list blobs")
	}
	for _, shard := range shards {
		if !shard.IsDir() || shard.Name() == "tmp" {
			continue
		}
		files, err := os.ReadDir(filepath.Join(d.root, shard.Name()))
		if err != nil {
			return errs.Wrap(err, "list blobs")
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			info, err := f.Info()
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return errs.Wrap(err, "list blobs")
			}
			if err := fn(f.Name(), info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveUnfinished removes the uploads in tmp/ last written before t:
// those a crash left between Receive and Keep or Discard. It returns how
// many it removed.
func (d *Dir) RemoveUnfinished(ctx context.Context, before time.Time) (int, error) {
	tmp := filepath.Join(d.root, "tmp")
	files, err := os.ReadDir(tmp)
	if err != nil {
		return 0, errs.Wrap(err, "list uploads")
	}
	n := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if !strings.HasPrefix(f.Name(), "upload-") {
			continue // not one of Receive's
		}
		info, err := f.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue // gone meanwhile, or an upload still under way
		}
		if err := os.Remove(filepath.Join(tmp, f.Name())); err == nil {
			n++
		} else if !errors.Is(err, os.ErrNotExist) {
			return n, errs.Wrap(err, "remove upload")
		}
	}
	return n, nil
}
