package sqlite_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/sqlite"
)

// TestTheWALStaysSmallUnderSustainedWrites: writers that never pause,
// with a reader beside them, must not grow the WAL without end. SQLite
// reuses the WAL only when a write begins with every frame copied back;
// a checkpointer beside a busy writer never sees that moment, and the WAL
// grew to 300 MB in 8 s of load. Every entry must still be there after
// the WAL has been reused many times.
func TestTheWALStaysSmallUnderSustainedWrites(t *testing.T) {
	const (
		writers   = 8
		perWriter = 250
		limit     = 16 << 20 // the WAL would pass 32 MiB if never reused
	)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "boxwire.db")
	s, err := sqlite.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	payload, _ := json.Marshal(map[string]string{"blob": strings.Repeat("w", 16<<10)})

	var (
		mu      sync.Mutex
		largest int64
	)
	measure := func() {
		fi, err := os.Stat(path + "-wal") // there once a write has committed
		if err != nil {
			t.Error(err) // a WAL never measured must not pass as a small one
			return
		}
		mu.Lock()
		largest = max(largest, fi.Size())
		mu.Unlock()
	}
	done := make(chan struct{})
	readerDone := make(chan error, 1)
	go func() { // short reads all along, as the API's listings do
		for {
			select {
			case <-done:
				readerDone <- nil
				return
			default:
			}
			if _, err := s.ReadJournal(ctx, journal.Query{Scopes: []string{"wal"}, Limit: 5}); err != nil {
				readerDone <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range perWriter {
				if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					_, err := tx.Append(ctx, journal.Entry{Scope: "wal", Type: "test.blob", Payload: payload})
					return err
				}); err != nil {
					errc <- err
					return
				}
				measure()
			}
		})
	}
	wg.Wait()
	close(done)
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("largest WAL %d KiB", largest>>10)
	if largest > limit {
		t.Fatalf("the WAL reached %d MiB under sustained writes; want at most %d MiB", largest>>20, limit>>20)
	}
	var n int
	var after int64
	for {
		es, err := s.ReadJournal(ctx, journal.Query{Scopes: []string{"wal"}, After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if string(e.Payload) != string(payload) {
				t.Fatalf("entry %d came back with a %d-byte payload", e.Position, len(e.Payload))
			}
		}
		n += len(es)
		after = es[len(es)-1].Position
	}
	if n != writers*perWriter {
		t.Fatalf("%d entries read back, want %d", n, writers*perWriter)
	}
}
