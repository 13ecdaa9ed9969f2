package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/store"
)

// fillBox appends n msg.text events from sender to a box through the
// store, a thousand per transaction, and returns their ids in order.
func fillBox(tb testing.TB, s *store.Store, boxID, senderID string, n int) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	// The size of a real message: a short text sealed with NaCl, base64.
	sealed := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 120))
	for done := 0; done < n; {
		k := min(1000, n-done)
		err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			for i := 0; i < k; i++ {
				content, _ := json.Marshal(map[string]string{"encrypted": sealed, "public_key": fmt.Sprintf("key-%d", done+i)})
				ev := &store.Event{BoxID: boxID, Type: "msg.text", SenderID: senderID, Content: content}
				if err := tx.AppendBoxEvent(ctx, ev); err != nil {
					return err
				}
				ids = append(ids, ev.ID)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		done += k
	}
	return ids
}

// A box of more events than one read of the store holds is listed whole,
// each event once and in order, also across pages that start and end
// inside a chunk; the accesses, read newest first, cross chunks too.
func TestBoxEventsStreamAcrossChunks(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "big", "limited")["id"].(string)
	before := idsOf(alice.getArray(t, "/boxes/"+id+"/events")) // the create event
	want := append(before, fillBox(t, ts.Store, id, alice.id, 2*store.ChunkRows+37)...)

	r := alice.do("GET", "/boxes/"+id+"/events", nil)
	expect(t, "list", r, 200)
	if !bytes.HasSuffix(r.body, []byte("}]\n")) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("not a whole JSON array (%s): …%s", r.header.Get("Content-Type"), r.body[max(0, len(r.body)-40):])
	}
	if got := idsOf(list(t, r)); !reflect.DeepEqual(got, want) {
		t.Fatalf("%d events listed, want %d in order, each once", len(got), len(want))
	}
	for _, p := range []struct{ offset, limit int }{{100, 300}, {store.ChunkRows, store.ChunkRows}, {store.ChunkRows - 1, 2}, {500, 0}, {0, len(want)}} {
		path := fmt.Sprintf("/boxes/%s/events?offset=%d", id, p.offset)
		end := len(want)
		if p.limit > 0 {
			path += fmt.Sprintf("&limit=%d", p.limit)
			end = min(end, p.offset+p.limit)
		}
		if got := idsOf(alice.getArray(t, path)); !reflect.DeepEqual(got, want[p.offset:end]) {
			t.Fatalf("%s: %d events, want want[%d:%d]", path, len(got), p.offset, end)
		}
	}
	if got := alice.getArray(t, "/boxes/"+id+"/files"); len(got) != 0 {
		t.Fatalf("files of a box without any: %d", len(got))
	}

	var rules []string
	for i := 0; i < 3; i++ {
		var batch []map[string]any
		for j := 0; j < boxservice.MaxBatch; j++ {
			batch = append(batch, accessAdd("identifier", fmt.Sprintf("guest%d-%d@example.net", i, j)))
		}
		r := alice.batch(t, id, batch...)
		expect(t, "accesses", r, 201)
		rules = append(rules, idsOf(list(t, r))...)
	}
	slices.Reverse(rules) // newest first
	if got := idsOf(alice.getArray(t, "/boxes/"+id+"/accesses")); !reflect.DeepEqual(got, rules) {
		t.Fatalf("%d accesses listed, want %d newest first, each once", len(got), len(rules))
	}
}

// The lists read whole before they are answered refuse a page larger
// than boxservice.MaxLimit, naming limit, and change nothing; the largest page
// allowed still works. The event stream keeps Box's limit (at most 500).
func TestPagedListsRefuseHugePages(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	alice.createBox(t, "one", "limited")
	for _, path := range []string{"/boxes/joined", "/identities/" + alice.id + "/notifications"} {
		for _, lim := range []string{"101", "1000000", "9223372036854775807"} {
			r := alice.do("GET", path+"?limit="+lim, nil)
			expectOrigin(t, path+"?limit="+lim, r, 400, "bad_request", "query", "limit", "invalid")
		}
		alice.getArray(t, fmt.Sprintf("%s?limit=%d", path, boxservice.MaxLimit))
	}
	if n := alice.headCount(t, "/boxes/joined"); n != 1 {
		t.Fatalf("%d boxes after refused lists, want 1", n)
	}
}
