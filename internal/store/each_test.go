package store_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

// The streamed lists resume each chunk where the last ended, also among
// rows that tie on their first ordering column (same display name, same
// creation time): every row once, in the list's order.
func TestEachListsCrossChunks(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	n := 2*store.ChunkRows + 11
	var (
		boxID   = uuid.NewString()
		members []string // ids in the list's order: display name, then id
		actions []string // one transaction: one created_at, then id
	)
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var people []*identity.Identity
		for i := 0; i < n; i++ {
			p := newIdentity(fmt.Sprintf("m%d@example.com", i))
			p.DisplayName = fmt.Sprintf("Name %d", i%5) // ties across chunks
			if err := tx.CreateIdentity(ctx, p); err != nil {
				return err
			}
			people = append(people, p)
		}
		creator := people[0]
		b := &boxrules.Box{ID: boxID, Title: "t", PublicKey: "k", AccessMode: boxrules.Public, Lifecycle: boxrules.Open, CreatorID: creator.ID}
		if err := tx.InsertBox(ctx, b); err != nil {
			return err
		}
		for _, p := range people[1:] {
			if err := tx.Join(ctx, boxID, p.ID, uuid.NewString()); err != nil {
				return err
			}
		}
		sort.Slice(people, func(i, j int) bool {
			if people[i].DisplayName != people[j].DisplayName {
				return people[i].DisplayName < people[j].DisplayName
			}
			return people[i].ID < people[j].ID
		})
		for _, p := range people {
			members = append(members, p.ID)
		}
		for i := 0; i < n; i++ {
			a := &store.CryptoAction{ID: uuid.NewString(), Type: "invitation", BoxID: boxID, SenderID: creator.ID}
			if err := tx.InsertCryptoAction(ctx, creator.ID, a); err != nil {
				return err
			}
			actions = append(actions, a.ID)
		}
		sort.Strings(actions)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.EachMemberIdentity(ctx, boxID, func(i identity.Identity) error { got = append(got, i.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, members) {
		t.Fatalf("members: %d listed, want %d by display name then id, each once", len(got), len(members))
	}
	got = nil
	creator, _ := s.BoxState(ctx, boxID)
	if err := s.EachCryptoAction(ctx, creator.CreatorID, func(a store.CryptoAction) error { got = append(got, a.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, actions) {
		t.Fatalf("crypto actions: %d listed, want %d by time then id, each once", len(got), len(actions))
	}
}
