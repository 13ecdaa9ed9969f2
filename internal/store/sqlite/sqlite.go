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

func (dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Pragmas for every connection. synchronous(FULL) fsyncs the WAL at each
// commit, which group commit amortises; busy_timeout lets a second process
// (boxwire user add) wait for the write lock instead of failing.
const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"

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
	write, err := sql.Open("sqlite", "file:"+abs+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", "file:"+abs+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	opts.Description = "sqlite " + abs
	return store.Open(ctx, dialect{}, write, read, opts)
}
