// Package sqlite is the embedded store: one SQLite file in WAL mode through
// a pure-Go driver, so the binary needs no C toolchain.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/boxwire/boxwire/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

type dialect struct{}

func (dialect) Name() string { return "sqlite" }

func (dialect) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// LockWrites has nothing to do: the writer opens every transaction with
// BEGIN IMMEDIATE, which holds SQLite's single write lock until commit, so
// positions are assigned and committed in order across processes too.
func (dialect) LockWrites(context.Context, *sql.Tx) error { return nil }

// CacheStatements: database/sql would re-parse every statement.
func (dialect) CacheStatements() bool { return true }

// MaxRowsPerInsert: 16 rows measured cheapest per row.
func (dialect) MaxRowsPerInsert() int { return 16 }

// BindsByPosition: the driver asks SQLite for each parameter's name and
// looks a $N name up in a list (a cost quadratic in the parameters, 5 %
// of a durable append's CPU with $N); a ? has no name to look up.
func (dialect) BindsByPosition() bool { return true }

// KeepsPayloads: payloads are TEXT, stored as written.
func (dialect) KeepsPayloads() bool { return true }

func (dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Pragmas for every connection. synchronous(FULL) fsyncs the WAL at each
// commit, which group commit amortises; busy_timeout lets a second process
// (boxwire user add) wait for the write lock instead of failing;
// temp_store(MEMORY) keeps the savepoint sub-journal of each write out of
// temporary files. The page cache is set per pool (writerPragmas,
// readerPragmas).
const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=temp_store(MEMORY)"

// The writer commits with synchronous(NORMAL): the commit reaches the OS,
// and the store's syncer fsyncs the WAL before any writer is answered
// (see walSyncer), so the next batch runs while the disk works.
//
// The writer checkpoints itself, after the commit that takes the WAL past
// 1,000 pages (wal_autocheckpoint(1000), SQLite's default). SQLite reuses
// the WAL from its start only when a write begins with every frame
// copied back, which a checkpointer beside a writer that never pauses
// does not see: the WAL then grows without end under sustained appends
// (300 MB in 8 s of wrk), each commit appends to the file, and fdatasync
// must journal its new size. Run by the only writer, between two of its
// own transactions, the checkpoint copies every frame no reader still
// needs, and the WAL stays at about 4 MiB. SQLite fsyncs the WAL before
// the checkpoint and the database after it.
//
// Its cache_size(-65536) is 64 MiB of page cache: the one writer keeps
// the hot pages of every box it appends to.
const writerPragmas = "&_txlock=immediate&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(1000)" +
	"&_pragma=cache_size(-65536)"

// Readers get 2 MiB of page cache each instead of the writer's 64 MiB:
// eight readers listing a large box at once
// would otherwise grow to 512 MiB of cache. The OS page cache keeps the
// file warm; a reader's own cache only spares it the copy.
const readerPragmas = "&_pragma=cache_size(-2048)"

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string, opts store.Options) (*store.Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(abs, "?#") {
		return nil, fmt.Errorf("sqlite: path %q must not contain ? or #", abs)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// One connection writes, so the committer never waits on itself.
	write, err := sql.Open("sqlite", "file:"+abs+"?"+pragmas+writerPragmas)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", "file:"+abs+"?"+pragmas+readerPragmas)
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	opts.Description = "sqlite " + abs
	wal := &walSyncer{path: abs + "-wal"}
	opts.SyncAfterCommit, opts.Release = wal.sync, wal.close
	return store.Open(ctx, dialect{}, write, read, opts)
}

// Scrub rewrites the database without its free pages and empties the
// WAL, so rows replaced since (plaintext secrets the store just sealed)
// are no longer anywhere in the files. It runs at start-up, before
// any other connection is busy.
func (dialect) Scrub(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("sqlite: vacuum after sealing secrets: %w", err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("sqlite: checkpoint after sealing secrets: %w", err)
	}
	return nil
}

// walSyncer fsyncs the WAL file. fsync works on the file, not the
// descriptor, so our own descriptor flushes what SQLite's connection
// wrote. The WAL stays the same file while the store's connections are
// open (SQLite removes it only when the last one closes). sync runs on
// the store's syncer alone and close once that has stopped
// (store.Options.Release), so the two never overlap.
type walSyncer struct {
	path string
	f    *os.File
}

func (w *walSyncer) sync() error {
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		w.f = f
	}
	return syncData(w.f)
}

func (w *walSyncer) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
