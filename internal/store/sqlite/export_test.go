package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
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
	read, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
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

func (d upTo) Migrations() fs.FS {
	all := d.dialect.Migrations()
	kept := map[string]bool{}
	names, _ := fs.Glob(all, "*.sql")
	for _, n := range names {
		kept[n] = n[:4] <= d.version
	}
	return filteredFS{all, kept}
}

type filteredFS struct {
	fs.FS
	kept map[string]bool
}

func (f filteredFS) Open(name string) (fs.File, error) {
	if name != "." && !f.kept[name] {
		return nil, fs.ErrNotExist
	}
	return f.FS.Open(name)
}

func (f filteredFS) Glob(pattern string) ([]string, error) {
	names, err := fs.Glob(f.FS, pattern)
	var out []string
	for _, n := range names {
		if f.kept[n] {
			out = append(out, n)
		}
	}
	return out, err
}
