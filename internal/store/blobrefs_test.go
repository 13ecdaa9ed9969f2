package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

// TestUnreferencedBlobs: of a batch of blob ids, those no table refers
// to are returned in order; a file forgotten by its last event is one.
func TestUnreferencedBlobs(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, id := range []string{"kept-1", "kept-2", "forgotten"} {
			if err := tx.InsertFile(ctx, id, 10); err != nil {
				return err
			}
		}
		_, err := tx.FileUnreferenced(ctx, "forgotten")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.UnreferencedBlobs(ctx, []string{"orphan-1", "kept-1", "forgotten", "kept-2", "orphan-2"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"orphan-1", "forgotten", "orphan-2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("unreferenced %v, want %v", got, want)
	}
	// A sweep's batch: hundreds of ids in one question, on both engines.
	var many []string
	for i := range 500 {
		many = append(many, fmt.Sprintf("id-%d", i))
	}
	many = append(many, "kept-2")
	if got, err := s.UnreferencedBlobs(ctx, many); err != nil || len(got) != 500 {
		t.Fatalf("a batch of 501 ids: %d unreferenced, %v; want 500", len(got), err)
	}
}

// TestEveryBlobColumnIsSwept: a column named for a blob (…blob…) that
// the sweep does not know would have its blobs removed after the grace
// period; this fails until it is added to blobReferences.
func TestEveryBlobColumnIsSwept(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	cols := blobColumns(t, s)
	known := map[string]bool{}
	for _, c := range store.BlobReferenceColumns() {
		known[c] = true
	}
	for _, c := range cols {
		if !known[c] {
			t.Errorf("column %s names blobs but is not in internal/store/blobrefs.go: the sweep would remove its blobs", c)
		}
	}
	// The check itself finds such a column.
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.ExecForTest(ctx, `CREATE TABLE sweep_probe (media_blob_id TEXT)`)
	})
	if err != nil {
		t.Fatal(err)
	}
	if found := blobColumns(t, s); len(found) != len(cols)+1 {
		t.Fatalf("the schema query found %v after adding sweep_probe.media_blob_id", found)
	}
}

// blobColumns lists the schema's columns whose name holds "blob", as
// "table.column", on either engine.
func blobColumns(t *testing.T, s *store.Store) []string {
	t.Helper()
	cols, err := s.ColumnForTest(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name LIKE '%blob%'`)
	if err != nil { // SQLite
		cols, err = s.ColumnForTest(ctx, `SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND p.name LIKE '%blob%'`)
	}
	if err != nil {
		t.Fatal(err)
	}
	return cols
}
