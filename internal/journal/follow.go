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

// Follow calls fn for every entry after q.After, in position order and each
// exactly once, first replaying what exists and then waiting for wake-ups
// on wake. It returns when ctx ends or fn or the reader fails.
//
// Correctness never depends on wake: the journal is the truth, and a
// periodic read covers notices that were dropped or never sent.
func Follow(ctx context.Context, r Reader, wake <-chan Notice, q Query, fn func(Entry) error) error {
	tick := time.NewTicker(SafetyPoll)
	defer tick.Stop()
	for {
		for {
			entries, err := r.ReadJournal(ctx, q)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if err := fn(e); err != nil {
					return err
				}
				q.After = e.Position
			}
			limit := q.Limit
			if limit <= 0 {
				limit = DefaultLimit
			}
			if len(entries) < limit {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-tick.C:
		}
	}
}
