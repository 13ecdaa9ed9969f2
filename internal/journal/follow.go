package journal

import (
	"context"
	"time"
)

// Reader reads committed entries in position order.
type Reader interface {
	ReadJournal(ctx context.Context, q Query) ([]Entry, error)
}

// SafetyPoll bounds how long a lost notice can delay a delivery.
const SafetyPoll = time.Second

// Wake is what tells a follower that the journal grew.
type Wake struct {
	// Notices come from every node through the broker. A notice at or
	// below the position already followed is stale and costs no read.
	Notices <-chan Notice
	// Committed carries the entries this node's committer made durable,
	// in commit order, exactly as a read would return them. A batch that
	// starts right after the position already followed is delivered from
	// memory; any other (after a dropped batch, or another node's entries
	// in between) makes the follower read. Nil when the store cannot hand
	// entries over (PostgreSQL normalises payloads as it stores them).
	Committed <-chan []Entry
}

// Follow calls fn for every entry after q.After, in position order and each
// exactly once, first replaying what exists and then waiting for wake-ups.
// It returns when ctx ends or fn or the reader fails.
//
// Correctness never depends on wake: the journal is the truth, and a
// periodic read covers notices that were dropped or never sent.
func Follow(ctx context.Context, r Reader, wake Wake, q Query, fn func(Entry) error) error {
	tick := time.NewTicker(SafetyPoll)
	defer tick.Stop()
	read := true
	for {
		if read {
			after, err := catchUp(ctx, r, q, fn)
			if err != nil {
				return err
			}
			q.After = after
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case n := <-wake.Notices:
			read = n.Position > q.After
		case es := <-wake.Committed:
			var err error
			if q.After, read, err = takeCommitted(q, es, fn); err != nil {
				return err
			}
		case <-tick.C:
			read = true
		}
	}
}

// catchUp reads and delivers every entry after q.After and returns the
// position it reached.
func catchUp(ctx context.Context, r Reader, q Query, fn func(Entry) error) (int64, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	for {
		entries, err := r.ReadJournal(ctx, q)
		if err != nil {
			return q.After, err
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return q.After, err
			}
			q.After = e.Position
		}
		if len(entries) < limit {
			return q.After, nil
		}
	}
}

// takeCommitted delivers a committed batch without reading when nothing
// can be missing before it: its new entries start at q.After+1 and have
// no gaps. It returns the position reached and whether the follower must
// read instead. Only a follower of every scope can tell; a scoped one
// always reads.
func takeCommitted(q Query, es []Entry, fn func(Entry) error) (after int64, read bool, err error) {
	for len(es) > 0 && es[0].Position <= q.After {
		es = es[1:] // a read already delivered it
	}
	if len(es) == 0 {
		return q.After, false, nil
	}
	if q.Scopes != nil || es[0].Position != q.After+1 || es[len(es)-1].Position-es[0].Position != int64(len(es)-1) {
		return q.After, true, nil
	}
	for _, e := range es {
		if err := fn(e); err != nil {
			return q.After, false, err
		}
		q.After = e.Position
	}
	return q.After, false, nil
}
