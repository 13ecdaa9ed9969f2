package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
)

// Tx is the write transaction a Write callback runs in. Its time is fixed
// once per transaction, so every row and entry it writes agrees on "now".
type Tx struct {
	tx      *sql.Tx
	q       querier // tx, through the statement cache where the engine wants one
	store   *Store
	now     time.Time
	notices []journal.Notice
}

// Now is the transaction's time.
func (t *Tx) Now() time.Time { return t.now }

type job struct {
	ctx    context.Context
	fn     func(ctx context.Context, tx *Tx) error
	result chan error
}

// Write runs fn in a write transaction and returns once its effects are
// durable, or fn's error. Concurrent Writes share one transaction and one
// fsync; each runs under its own savepoint, so a failing fn undoes only its
// own work. Journal notices are published after the commit.
//
// fn's context carries the caller's values but is never cancelled midway:
// cancelling a statement could abort the shared transaction.
func (s *Store) Write(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	j := &job{ctx: ctx, fn: fn, result: make(chan error, 1)}
	// The read lock keeps Close from finishing the committer's last drain
	// while this job is being queued: a queued job is always answered.
	s.enqueue.RLock()
	if s.isClosing() {
		s.enqueue.RUnlock()
		return errs.E(errs.Internal, "store is closed")
	}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		s.enqueue.RUnlock()
		return ctx.Err()
	}
	s.enqueue.RUnlock()
	// Always wait: the answer says whether the write is durable.
	return <-j.result
}

func (s *Store) commitLoop() {
	defer func() {
		if s.syncs != nil {
			close(s.syncs)
			<-s.synced
		}
		close(s.done)
	}()
	for {
		var first *job
		select {
		case first = <-s.jobs:
		case <-s.closing:
			// Finish what was queued before Close; new Writes are refused.
			for {
				select {
				case first = <-s.jobs:
					s.commit(s.gather(first))
				default:
					return
				}
			}
		}
		s.commit(s.gather(first))
	}
}

// gather takes first and whatever else is already waiting: the batch grows
// by itself while the previous commit is in flight.
func (s *Store) gather(first *job) []*job {
	batch := []*job{first}
	for len(batch) < s.opts.MaxBatch {
		select {
		case j := <-s.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

func (s *Store) commit(batch []*job) {
	c := &committed{batch: batch, results: make([]error, len(batch)), started: time.Now()}
	c.notices, c.err = s.runBatch(batch, c.results)
	if c.err == nil && s.syncs != nil {
		s.syncs <- c // acknowledged once the WAL is on disk, while the next batch runs
	} else {
		s.finish(c, nil)
	}
	if s.writeCache != nil {
		s.writeCache.prepareWanted(context.Background()) // only helps later batches
	}
}

// committed is a batch whose transaction has committed (or failed).
type committed struct {
	batch   []*job
	results []error
	notices []journal.Notice
	err     error
	started time.Time
}

// finish publishes a batch's notices and answers its writers; syncErr
// fails the batch if its data could not be made durable.
func (s *Store) finish(c *committed, syncErr error) {
	if c.err == nil {
		c.err = syncErr
	}
	if c.err != nil {
		for i := range c.results {
			if c.results[i] == nil {
				c.results[i] = c.err
			}
		}
		c.notices = nil
	}
	if len(c.notices) > 0 {
		s.opts.Publish(context.Background(), c.notices)
	}
	for i, j := range c.batch {
		j.result <- c.results[i]
	}
	s.opts.Metrics.observeCommit(len(c.batch), len(c.notices), time.Since(c.started), c.err)
}

// syncLoop makes committed batches durable with one fsync for all that
// are waiting, then acknowledges them in commit order.
func (s *Store) syncLoop() {
	defer close(s.synced)
	for c := range s.syncs {
		pending := []*committed{c}
	more:
		for {
			select {
			case next, ok := <-s.syncs:
				if !ok {
					break more
				}
				pending = append(pending, next)
			default:
				break more
			}
		}
		err := s.opts.SyncAfterCommit()
		if err != nil {
			err = errs.Wrap(err, "sync write-ahead log")
		}
		for _, p := range pending {
			s.finish(p, err)
		}
	}
}

// runBatch runs every job in one transaction; it returns the notices of
// the jobs that succeeded, or an error that failed the whole batch.
func (s *Store) runBatch(batch []*job, results []error) ([]journal.Notice, error) {
	ctx := context.Background()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, errs.Wrap(err, "begin write")
	}
	defer tx.Rollback()
	if err := s.dialect.LockWrites(ctx, tx); err != nil {
		return nil, errs.Wrap(err, "lock writes")
	}
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	var q querier = tx
	if s.writeCache != nil {
		q = cachedTx{tx: tx, cache: s.writeCache}
	}
	// A lone job needs no savepoint: its failure rolls back the transaction.
	savepoints := len(batch) > 1
	var notices []journal.Notice
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		t := &Tx{tx: tx, q: q, store: s, now: now}
		if savepoints {
			if _, err := q.ExecContext(ctx, "SAVEPOINT job"); err != nil {
				return nil, errs.Wrap(err, "savepoint")
			}
		}
		results[i] = run(j, t)
		switch {
		case results[i] != nil && !savepoints:
			return nil, results[i]
		case results[i] != nil:
			if _, err := q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT job"); err != nil {
				return nil, errs.Wrap(err, "rollback to savepoint")
			}
		default:
			notices = append(notices, t.notices...)
		}
		if savepoints {
			if _, err := q.ExecContext(ctx, "RELEASE SAVEPOINT job"); err != nil {
				return nil, errs.Wrap(err, "release savepoint")
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, errs.Wrap(err, "commit")
	}
	return notices, nil
}

// run calls the job's function; a panic fails that job, not the committer.
func run(j *job, t *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errs.Wrap(fmt.Errorf("panic: %v\n%s", p, debug.Stack()), "write panicked")
		}
	}()
	return j.fn(context.WithoutCancel(j.ctx), t)
}
