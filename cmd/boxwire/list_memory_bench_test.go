package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	boxclient "github.com/boxwire/boxwire/client"
	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/store"
)

// listMemoryBound is what 8 clients listing a 200,000-event box may add
// to the server's RSS: buffers and chunks, not the box.
const listMemoryBound = 64 << 20

// vmRSS reads this process's resident set, in bytes.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// peakWhile samples RSS every millisecond while run runs; it returns the
// RSS before (after a full GC) and the highest sample.
func peakWhile(run func()) (idle, peak int64) {
	runtime.GC()
	debug.FreeOSMemory()
	idle = vmRSS()
	var top atomic.Int64
	top.Store(idle)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := vmRSS(); v > top.Load() {
					top.Store(v)
				}
			}
		}
	}()
	run()
	close(done)
	return idle, top.Load()
}

// listAll has 8 clients GET url at once and read every byte.
func listAll(b *testing.B, url, token string) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			defer res.Body.Close()
			n, err := io.Copy(io.Discard, res.Body)
			if err != nil || res.StatusCode != 200 || n < 200_000*100 {
				b.Errorf("status %d, %d bytes, %v", res.StatusCode, n, err)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkListMemory fills a 200,000-event box, then has 8 clients list
// it at once from the real server (streamed), and, as the baseline, from
// a handler that reads the list whole and encodes it as before. It
// fails if the streamed lists add more than listMemoryBound to RSS.
//
//	go test -run '^$' -bench BenchmarkListMemory -benchtime 1x ./cmd/boxwire/
func BenchmarkListMemory(b *testing.B) {
	ctx := b.Context()
	srv, token, box, _ := benchBox(b, "")
	st, _ := srv.Store.BoxState(ctx, box.ID)
	fillBox(b, srv.Store, box.ID, st.CreatorID, 200_000)

	// The old path, for the baseline: read whole, view whole, encode whole.
	buffered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events, err := srv.Store.ListBoxEvents(r.Context(), box.ID, store.EventFilter{})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		out := make([]boxservice.EventView, 0, len(events))
		for _, e := range events {
			out = append(out, boxservice.EventViewOf(e, st.CreatorID, st.CreatorID))
		}
		httpx.JSON(w, 200, out)
	}))
	defer buffered.Close()

	for i := 0; i < b.N; i++ {
		idle, peak := peakWhile(func() { listAll(b, srv.URL()+"/boxes/"+box.ID+"/events", token) })
		bIdle, bPeak := peakWhile(func() { listAll(b, buffered.URL, token) })
		streamed, old := peak-idle, bPeak-bIdle
		b.ReportMetric(float64(streamed)/(1<<20), "streamed-MiB")
		b.ReportMetric(float64(old)/(1<<20), "buffered-MiB")
		b.Logf("8 clients, 200,000 events: streamed adds %.1f MiB to RSS (idle %.1f, peak %.1f); buffered adds %.1f MiB (%.0fx)",
			float64(streamed)/(1<<20), float64(idle)/(1<<20), float64(peak)/(1<<20), float64(old)/(1<<20), float64(old)/float64(max(streamed, 1)))
		if streamed > listMemoryBound {
			b.Fatalf("streamed lists added %d MiB to RSS, above the bound of %d MiB", streamed>>20, listMemoryBound>>20)
		}
	}
}

// benchBox starts the real server on a fresh SQLite data directory with
// one user, Alice, signed in, and one box of hers, as this package's
// benchmarks start. It returns her access token and the box's key pair.
func benchBox(b *testing.B, logLevel string) (*Server, string, boxclient.Box, boxclient.KeyPair) {
	ctx := b.Context()
	data := b.TempDir()
	for _, args := range [][]string{{"migrate"},
		{"user", "add", "--email", "a@example.com", "--password", "alice-password", "--name", "Alice"}} {
		if out, code := runCLIB(data, args...); code != 0 {
			b.Fatal(out)
		}
	}
	srv, err := Start(ctx, Config{StoreConfig: StoreConfig{Data: data}, Addr: "127.0.0.1:0", LogLevel: logLevel}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	alice := boxclient.New(srv.URL())
	tok, err := alice.Login(ctx, "a@example.com", "alice-password")
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := boxclient.NewKeyPair()
	box, err := alice.CreateBox(ctx, boxclient.NewBox{Title: "bench", PublicKey: keys.PublicKey})
	if err != nil {
		b.Fatal(err)
	}
	return srv, tok.AccessToken, box, keys
}

func runCLIB(data string, args ...string) (string, int) {
	var out strings.Builder
	code := Main(context.Background(), append(args, "--data", data), &out, &out)
	return out.String(), code
}
