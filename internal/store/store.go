// Package store is Boxwire's persistence: raw SQL over database/sql, the
// same statements on SQLite and PostgreSQL. The two engines differ only in
// what a Dialect says (driver set-up, migrations, how appends are
// serialised); sqlite/ and postgres/ provide one each and never import each
// other.
//
// Every write goes through Write, which gathers concurrent callers into one
// transaction and one fsync (group commit). Times are stored as Unix
// microseconds (BIGINT) so that both engines read and compare them alike.
package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"sync"
	"time"

	"github.com/boxwire/boxwire/internal/atrest"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
)

// Dialect is what an engine adapter provides.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Migrations holds the engine's own NNNN_name.sql files, applied in
	// order with the shared ones of internal/store/migrations.
	Migrations() fs.FS
	// LockWrites runs first in every write transaction. It must make
	// transactions that append to the journal commit in position order,
	// also across processes and nodes.
	LockWrites(ctx context.Context, tx *sql.Tx) error
	// IsUniqueViolation reports a unique or primary key constraint failure.
	IsUniqueViolation(err error) bool
	// CacheStatements asks the store to keep prepared statements, for an
	// engine whose driver does not (SQLite through database/sql).
	CacheStatements() bool
	// MaxRowsPerInsert bounds the rows of one multi-row INSERT, a power
	// of two: large ones save PostgreSQL round trips.
	MaxRowsPerInsert() int
	// BindsByPosition says the driver takes ? placeholders, bound in
	// order, for the multi-row INSERTs: the SQLite driver looks each $N
	// name up in a list, a cost quadratic in their number.
	BindsByPosition() bool
	// KeepsPayloads says a journal payload reads back byte for byte as it
	// was written, so committed entries can be handed to Options.Committed
	// instead of being read back.
	KeepsPayloads() bool
}

// Options tune a Store.
type Options struct {
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time
	// Publish is called after each commit with the notices of the journal
	// entries it made durable. It must not block for long.
	Publish func(ctx context.Context, notices []journal.Notice)
	// Committed, if set, is called after each commit, before Publish, with
	// the entries it made durable, in position order and exactly as
	// ReadJournal would return them; only on an engine that KeepsPayloads.
	// It must not block, nor change the entries.
	Committed func(entries []journal.Entry)
	// MaxBatch bounds how many writes share one transaction. Default 256.
	MaxBatch int
	// Metrics receives commit statistics; nil for none.
	Metrics *Metrics
	// Description says where the data lives, for logs ("sqlite /x/y.db").
	Description string
	// SyncAfterCommit, when set, makes committed data durable. The engine
	// then commits without waiting for the disk, and writers are answered
	// only after this returns, so the next batch runs during the sync.
	SyncAfterCommit func() error
	// Release, when set, runs in Close once every write is answered and
	// before the pools close: the engine lets go of what it opened beside
	// them (the SQLite WAL descriptor SyncAfterCommit uses).
	Release func()
	// SecretKey seals the secrets the store keeps (webhook secrets,
	// channel tokens, server secrets); nil keeps them in plaintext. See
	// secrets.go.
	SecretKey *atrest.Key
}

// Store is an open database.
type Store struct {
	dialect Dialect
	write   *sql.DB // used only by the committer
	read    *sql.DB
	rq      querier // read, through the statement cache where wanted
	// writeCache holds the writer's prepared statements, nil if unused.
	writeCache *stmtCache
	readCache  *stmtCache
	opts       Options
	jobs       chan *job
	done       chan struct{}
	closing    chan struct{}
	enqueue    sync.RWMutex    // Write (read) against Close (write)
	syncs      chan *committed // to syncLoop, when the engine syncs after commit
	synced     chan struct{}
	syncFree   chan struct{} // syncLoop is done with the batch it was given
	syncing    bool          // the committer's: a batch is with syncLoop
}

// Open wraps the engine's connection pools, migrates the schema and
// starts the committer. write may equal read (PostgreSQL).
func Open(ctx context.Context, d Dialect, write, read *sql.DB, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Publish == nil {
		opts.Publish = func(context.Context, []journal.Notice) {}
	}
	if opts.Committed == nil || !d.KeepsPayloads() {
		opts.Committed = func([]journal.Entry) {}
	}
	s := &Store{
		dialect: d, write: write, read: read, rq: read, opts: opts,
		jobs:    make(chan *job, 4096),
		done:    make(chan struct{}),
		closing: make(chan struct{}),
	}
	if err := s.migrate(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.sealAtRest(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if d.CacheStatements() {
		s.writeCache, s.readCache = newStmtCache(write, true), newStmtCache(read, false)
		s.rq = cachedDB{s.readCache}
	}
	if opts.SyncAfterCommit != nil {
		s.syncs, s.synced, s.syncFree = make(chan *committed, 1), make(chan struct{}), make(chan struct{}, 1)
		go s.syncLoop()
	}
	go s.commitLoop()
	return s, nil
}

// Engine names the engine: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.dialect.Name() }

// Description says where the data lives.
func (s *Store) Description() string { return s.opts.Description }

// SecretKey is the key the store seals secrets with (nil: none); the
// wiring derives from it the key that seals blobs at rest.
func (s *Store) SecretKey() *atrest.Key { return s.opts.SecretKey }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.opts.Now() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.rq.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// isClosing says Close has begun; hold enqueue to act on the answer.
func (s *Store) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Close finishes the writes already queued, then closes the database.
func (s *Store) Close() error {
	s.enqueue.Lock() // waits for Writes that are queueing
	if !s.isClosing() {
		close(s.closing)
	}
	s.enqueue.Unlock()
	<-s.done
	if s.opts.Release != nil {
		s.opts.Release()
	}
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	if s.writeCache != nil {
		s.writeCache.close()
		s.readCache.close()
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// conflict turns a unique violation into errs.Conflict naming field.
func (s *Store) conflict(err error, field, msg string) error {
	if err != nil && s.dialect.IsUniqueViolation(err) {
		return &errs.Error{Code: errs.Conflict, Message: msg, Where: errs.Body,
			Fields: map[string]string{field: errs.Conflicts}}
	}
	return err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// eachRow runs a query and calls fn for every row.
func eachRow(ctx context.Context, q querier, sqlText string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return errs.Wrap(err, "query")
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errs.Wrap(err, "scan")
		}
	}
	return errs.Wrap(rows.Err(), "query")
}

// column reads a query of one text column (ids, mostly).
func column(ctx context.Context, q querier, sqlText string, args ...any) ([]string, error) {
	var out []string
	err := eachRow(ctx, q, sqlText, args, func(rows *sql.Rows) error {
		var v string
		err := rows.Scan(&v)
		out = append(out, v)
		return err
	})
	return out, err
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}
