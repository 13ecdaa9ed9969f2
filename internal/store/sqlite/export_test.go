package sqlite

import (
	"context"
	"database/sql"
	"testing"

	"github.com/boxwire/boxwire/internal/store"
)

// OpenUpTo opens path with the migrations up to version only (a file-name
// prefix such as "0003"): the database as an older binary left it.
func OpenUpTo(tb testing.TB, path, version string) *store.Store {
	tb.Helper()
	write, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+writerPragmas)
	if err != nil {
		tb.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+readerPragmas)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := store.Open(context.Background(), upTo{version: version}, write, read, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// upTo is the SQLite dialect without the migrations after version.
type upTo struct {
	dialect
	version string
}

// KeepMigration keeps the shared and the engine's migrations up to version.
func (d upTo) KeepMigration(name string) bool { return name[:4] <= d.version }
