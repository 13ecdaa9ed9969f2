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
