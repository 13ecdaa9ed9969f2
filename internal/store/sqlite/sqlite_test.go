package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/sqlite"
)

// TestPositionsBecomeRowidsWithoutLosingAnEvent: migration 0004 rebuilds
// the journal and box_events of a database written by an older binary.
// Every entry and event must come through with its position, and the
// next append must take the next position.
func TestPositionsBecomeRowidsWithoutLosingAnEvent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "boxwire.db")
	old := sqlite.OpenUpTo(t, path, "0003")
	if v, err := old.SchemaVersion(ctx); err != nil || v != 3 {
		t.Fatalf("old schema version %d, %v; want 3", v, err)
	}
	b, written := boxWithEvents(t, old, path, 3)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := sqlite.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, err := s.SchemaVersion(ctx); err != nil || v < 4 {
		t.Fatalf("schema version %d, %v; want 4 or later", v, err)
	}
	// Migration 0005: identities admitted before addresses were proven
	// keep their access.
	if who, err := s.IdentityByID(ctx, b.CreatorID); err != nil || !who.Verified() {
		t.Fatalf("an identity of the old schema: %+v, %v; want it verified", who, err)
	}
	listed, err := s.ListBoxEvents(ctx, b.ID, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(written) {
		t.Fatalf("%d events after the migration, want %d", len(listed), len(written))
	}
	for i, e := range listed {
		w := written[i]
		if e.Position != w.Position || e.ID != w.ID || string(e.Content) != string(w.Content) || e.SenderID != w.SenderID {
			t.Fatalf("event %d after the migration: %+v, want %+v", i, e, w)
		}
	}
	entries, err := s.ReadJournal(ctx, journal.Query{Scopes: []string{b.ID}})
	if err != nil || len(entries) != len(written) || entries[len(entries)-1].Position != written[len(written)-1].Position {
		t.Fatalf("journal after the migration: %d entries, %v", len(entries), err)
	}

	next := appendEvent(t, s, b, written[0].SenderID, "after")
	if last := written[len(written)-1].Position; next.Position <= last {
		t.Fatalf("the append after the migration took position %d, not after %d", next.Position, last)
	}
	if again, err := s.BoxEventAt(ctx, next.Position); err != nil || again.ID != next.ID {
		t.Fatalf("event at %d: %+v, %v", next.Position, again, err)
	}
	schemaIsRowids(t, path)
}

// schemaIsRowids checks what the migration is for: no AUTOINCREMENT and
// no separate index on box_events' position.
func schemaIsRowids(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var journalSQL string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal'`).Scan(&journalSQL); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(journalSQL), "AUTOINCREMENT") {
		t.Errorf("journal still uses AUTOINCREMENT: %s", journalSQL)
	}
	var autoIndexes int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'box_events'
		AND name LIKE 'sqlite_autoindex%'`).Scan(&autoIndexes); err != nil {
		t.Fatal(err)
	}
	if autoIndexes != 0 {
		t.Errorf("box_events keeps %d automatic index(es): position is not its rowid", autoIndexes)
	}
}

// boxWithEvents creates a box and n events in it, one journal entry each,
// in a database of schema 0003 at path.
func boxWithEvents(t *testing.T, s *store.Store, path string, n int) (boxrules.Box, []store.Event) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	creator := uuid.NewString() // in the identities table of schema 0003
	if _, err := db.Exec(`INSERT INTO identities (id, identifier_value, display_name, password_hash, created_at)
		VALUES ($1, $2, 'Old', 'x', 0)`, creator, creator+"@example.com"); err != nil {
		t.Fatal(err)
	}
	b := boxrules.Box{ID: uuid.NewString(), Title: "t", PublicKey: "k", AccessMode: boxrules.Public, Lifecycle: boxrules.Open, CreatorID: creator}
	if err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertBox(ctx, &b)
	}); err != nil {
		t.Fatal(err)
	}
	var events []store.Event
	for i := range n {
		events = append(events, appendEvent(t, s, b, creator, strings.Repeat("x", i+1)))
	}
	return b, events
}

func appendEvent(t *testing.T, s *store.Store, b boxrules.Box, sender, text string) store.Event {
	t.Helper()
	content, _ := json.Marshal(map[string]string{"text": text})
	e := store.Event{ID: uuid.NewString(), BoxID: b.ID, Type: "msg.text", SenderID: sender, Content: content}
	if err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.AppendBoxEvent(ctx, &e)
	}); err != nil {
		t.Fatal(err)
	}
	return e
}
