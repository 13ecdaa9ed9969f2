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
	q       querier // the batch's: writes deferred rows before each statement
	batch   *batch
	store   *Store
	now     time.Time
	memo    *boxMemo        // shared by the transaction's jobs
	entries []journal.Entry // appended, for notices after the commit
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
// fsync; a failing fn undoes only its own work (its deferred rows are
// dropped, and what it ran is rolled back to its savepoint). Journal
// entries are handed over and their notices published after the commit.
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
					s.commit(first)
				default:
					return
				}
			}
		}
		s.commit(first)
	}
}

// commit runs first and the jobs waiting behind it in one transaction,
// and commits it. While the previous batch's fsync is still under way,
// it keeps the transaction open and takes in the jobs that arrive: they
// would wait for that fsync anyway, and one commit of many jobs writes
// each changed page once instead of once per small commit.
func (s *Store) commit(first *job) {
	b := &batch{store: s, started: time.Now()}
	b.begin()
	b.take(first)
	s.gather(b) // what queued while the last commit ran
	for b.err == nil && s.syncing && len(b.jobs) < s.opts.MaxBatch {
		select {
		case j := <-s.jobs:
			b.take(j)
		case <-s.syncFree:
			s.syncing = false
		}
	}
	if b.err == nil && s.syncing { // the batch is full: wait for the disk
		<-s.syncFree
		s.syncing = false
	}
	c := b.end()
	if c.err == nil && s.syncs != nil {
		s.syncing = true
		s.syncs <- c // acknowledged once the WAL is on disk, while the next batch runs
	} else {
		s.finish(c, nil)
	}
	if s.writeCache != nil {
		s.writeCache.prepareWanted(context.Background()) // only helps later batches
	}
}

// gather takes the jobs already waiting, without waiting for more.
func (s *Store) gather(b *batch) {
	for b.err == nil && len(b.jobs) < s.opts.MaxBatch {
		select {
		case j := <-s.jobs:
			b.take(j)
		default:
			return
		}
	}
}

// committed is a batch whose transaction has committed (or failed).
type committed struct {
	batch   []*job
	results []error
	entries []journal.Entry
	err     error
	started time.Time
}

// finish hands over a batch's entries, publishes their notices and
// answers its writers; syncErr fails the batch if its data could not be
// made durable.
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
		c.entries = nil
	}
	if len(c.entries) > 0 {
		s.opts.Committed(c.entries)
		s.opts.Publish(context.Background(), notices(c.entries))
	}
	for i, j := range c.batch {
		j.result <- c.results[i]
	}
	s.opts.Metrics.observeCommit(len(c.batch), len(c.entries), time.Since(c.started), c.err)
}

func notices(es []journal.Entry) []journal.Notice {
	ns := make([]journal.Notice, len(es))
	for i, e := range es {
		ns[i] = journal.Notice{Position: e.Position, Scope: e.Scope}
	}
	return ns
}

// syncLoop makes each committed batch durable, tells the committer it may
// commit the next, and acknowledges the batch.
func (s *Store) syncLoop() {
	defer close(s.synced)
	for c := range s.syncs {
		began := time.Now()
		err := s.opts.SyncAfterCommit()
		s.opts.Metrics.observeSync(time.Since(began))
		if err != nil {
			err = errs.Wrap(err, "sync write-ahead log")
		}
		s.syncFree <- struct{}{}
		s.finish(c, err)
	}
}

// batch is the write transaction the committer is filling.
type batch struct {
	store *Store
	tx    *sql.Tx
	q     querier // tx, through the statement cache where the engine wants one
	now   time.Time
	memo  boxMemo
	// head is the last position given out; read once per transaction,
	// under the write lock, when the first entry is appended.
	head     int64
	headRead bool
	rows     pendingRows
	// The job running: where its rows begin, whether it has run a
	// statement (touched), and whether a savepoint named job is open.
	jobMark     rowMark
	jobHead     int64
	jobHeadRead bool
	touched     bool
	savepoint   bool
	jobs        []*job
	results     []error
	entries     []journal.Entry
	err         error // fails the whole batch
	started     time.Time
}

func (b *batch) begin() {
	ctx := context.Background()
	b.rows, b.head, b.headRead, b.savepoint = pendingRows{}, 0, false, false
	tx, err := b.store.write.BeginTx(ctx, nil)
	if err != nil {
		b.err = errs.Wrap(err, "begin write")
		return
	}
	b.tx, b.q, b.now = tx, tx, b.store.opts.Now().UTC().Truncate(time.Microsecond)
	if b.store.writeCache != nil {
		b.q = cachedTx{tx: tx, cache: b.store.writeCache}
	}
	if err := b.store.dialect.LockWrites(ctx, tx); err != nil {
		b.err = errs.Wrap(err, "lock writes")
	}
}

// take runs j in the transaction. A job that fails before running any
// statement only drops its deferred rows. Otherwise the first job is
// undone by starting the transaction again, and a later one by rolling
// back to the savepoint opened before its first statement.
func (b *batch) take(j *job) {
	b.jobs = append(b.jobs, j)
	b.results = append(b.results, nil)
	i := len(b.jobs) - 1
	if b.err != nil {
		return
	}
	if err := j.ctx.Err(); err != nil {
		b.results[i] = err
		return
	}
	b.jobMark, b.jobHead, b.jobHeadRead, b.touched = b.rows.mark(), b.head, b.headRead, false
	t := &Tx{q: batchQuerier{b}, batch: b, store: b.store, now: b.now, memo: &b.memo}
	if b.results[i] = run(j, t); b.results[i] != nil {
		b.undo(i)
		return
	}
	b.entries = append(b.entries, t.entries...)
}

// touch readies the transaction for a statement of the running job: the
// rows of earlier jobs are written, the job's savepoint opened (for all
// but the first job), then the job's own rows written, so the statement
// sees everything appended before it.
func (b *batch) touch(ctx context.Context) error {
	if b.err != nil {
		return b.err
	}
	if !b.touched {
		if err := b.rows.write(ctx, b.q, b.jobMark, b.store.dialect); err != nil {
			b.err = err
			return err
		}
		if len(b.jobs) > 1 {
			if err := b.markSavepoint(ctx); err != nil {
				b.err = errs.Wrap(err, "savepoint")
				return b.err
			}
		}
		b.touched = true
	}
	if err := b.rows.write(ctx, b.q, b.rows.mark(), b.store.dialect); err != nil {
		b.err = err
		return err
	}
	return nil
}

// undo takes back the failed job i.
func (b *batch) undo(i int) {
	b.memo = boxMemo{} // it may hold what is undone
	if b.err != nil {
		return
	}
	if !b.touched {
		b.rows.drop(b.jobMark, b.rows.mark())
		b.head, b.headRead = b.jobHead, b.jobHeadRead
		return
	}
	if i == 0 {
		b.tx.Rollback()
		b.begin()
		return
	}
	if _, err := b.q.ExecContext(context.Background(), "ROLLBACK TO SAVEPOINT job"); err != nil {
		b.err = errs.Wrap(err, "rollback to savepoint")
		return
	}
	b.rows.drop(b.jobMark, b.jobMark)
	b.head, b.headRead = b.jobHead, b.jobHeadRead
}

// nextPosition gives out the next journal position.
func (b *batch) nextPosition(ctx context.Context) (int64, error) {
	if !b.headRead {
		// Under the write lock no other transaction appends, and the
		// journal is never trimmed, so its maximum is the head.
		if err := b.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM journal`).Scan(&b.head); err != nil {
			return 0, errs.Wrap(err, "read journal head")
		}
		b.headRead = true
	}
	b.head++
	return b.head, nil
}

// markSavepoint ends the last job's savepoint, if any, and opens one for
// the next job; the last one ends with COMMIT. Where statements cost a
// round trip (PostgreSQL) both go in one; SQLite runs its cached,
// prepared statements rather than parse the pair each time.
func (b *batch) markSavepoint(ctx context.Context) error {
	var err error
	switch {
	case !b.savepoint:
		_, err = b.q.ExecContext(ctx, "SAVEPOINT job")
	case b.store.writeCache == nil:
		_, err = b.tx.ExecContext(ctx, "RELEASE SAVEPOINT job; SAVEPOINT job")
	default:
		if _, err = b.q.ExecContext(ctx, "RELEASE SAVEPOINT job"); err == nil {
			_, err = b.q.ExecContext(ctx, "SAVEPOINT job")
		}
	}
	b.savepoint = err == nil
	return err
}

// batchQuerier is the querier jobs run statements through.
type batchQuerier struct{ b *batch }

func (q batchQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := q.b.touch(ctx); err != nil {
		return nil, err
	}
	return q.b.q.ExecContext(ctx, query, args...)
}

func (q batchQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := q.b.touch(ctx); err != nil {
		return nil, err
	}
	return q.b.q.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return touch's error by itself: the row's Scan
// then fails, with the statement run on a transaction that is already
// doomed (b.err fails the batch).
func (q batchQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q.b.touch(ctx)
	return q.b.q.QueryRowContext(ctx, query, args...)
}

// end commits the transaction (or rolls it back if the batch failed).
func (b *batch) end() *committed {
	c := &committed{batch: b.jobs, results: b.results, entries: b.entries, err: b.err, started: b.started}
	if b.tx == nil {
		return c
	}
	if c.err == nil {
		if err := b.rows.write(context.Background(), b.q, b.rows.mark(), b.store.dialect); err != nil {
			c.err = err
		}
	}
	if c.err != nil {
		b.tx.Rollback()
		return c
	}
	if err := b.tx.Commit(); err != nil {
		c.err = errs.Wrap(err, "commit")
	}
	return c
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
