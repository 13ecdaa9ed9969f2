package blob

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// A blob is stored before the transaction that refers to it commits (so
// no committed reference names a missing blob), and removed after the
// one that stops referring to it. A crash, or a failed Remove, between
// the two leaves an orphan: a blob nothing refers to. A crash during an
// upload leaves an unfinished one (tmp/). Sweep removes both, once they
// are older than a grace period that covers the uploads still under way
// on any node and the time from Keep to the commit.
//
// Boxwire names every blob by a UUID (its canonical, lower-case form):
// the sweep removes nothing else, so an object an operator put in the
// bucket by hand, or another program's, is left alone.

// Sweepable is a blob store Sweep can walk: Dir and s3.Store.
type Sweepable interface {
	List(ctx context.Context, fn func(id string, modified time.Time) error) error
	RemoveUnfinished(ctx context.Context, before time.Time) (int, error)
	Remove(id string) error
}

// Unreferenced returns those of ids that nothing in the database refers
// to (store.Store.UnreferencedBlobs).
type Unreferenced func(ctx context.Context, ids []string) ([]string, error)

// Swept counts what a sweep removed.
type Swept struct {
	Orphans    int // kept blobs nothing referred to
	Unfinished int // uploads never kept or discarded
}

// sweepBatch is how many ids one question to the database holds.
const sweepBatch = 500

// Sweep removes the orphans and unfinished uploads of s last written
// before before. It holds one batch of ids at a time, never the whole
// listing.
func Sweep(ctx context.Context, s Sweepable, unreferenced Unreferenced, before time.Time) (Swept, error) {
	var (
		swept Swept
		batch []string
	)
	flush := func() error {
		gone, err := unreferenced(ctx, batch)
		batch = batch[:0]
		if err != nil {
			return err
		}
		for _, id := range gone {
			if err := s.Remove(id); err != nil {
				return err
			}
			swept.Orphans++
		}
		return nil
	}
	err := s.List(ctx, func(id string, modified time.Time) error {
		if !modified.Before(before) || !IsBlobID(id) {
			return nil
		}
		if batch = append(batch, id); len(batch) == sweepBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return swept, err
	}
	swept.Unfinished, err = s.RemoveUnfinished(ctx, before)
	return swept, err
}

// IsBlobID says whether id is named as Boxwire names blobs: a UUID in
// its canonical form (uuid.NewString).
func IsBlobID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
