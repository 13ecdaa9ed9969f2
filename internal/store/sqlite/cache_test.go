package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// Readers run with a small page cache: eight of them listing a large box
// must not each grow a 64 MiB one (issue 13, point 3).
func TestReadersHaveASmallPageCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	for dsn, want := range map[string]int{pragmas + readerPragmas: -2048, pragmas + writerPragmas: -65536} {
		db, err := sql.Open("sqlite", "file:"+path+"?"+dsn)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := db.QueryRow("PRAGMA cache_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if got != want {
			t.Errorf("cache_size %d, want %d (%s)", got, want, dsn)
		}
	}
}
