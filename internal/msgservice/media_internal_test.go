package msgservice

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/store/storetest"
)

// The media fetcher looks for due fetches on every kick and every
// second, like the sender: with nothing pending, each look is a read.
func TestAnIdleMediaFetcherWritesNothing(t *testing.T) {
	s, commits := storetest.OpenCounting(t)
	svc := &Service{Store: s}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunMediaFetcher(ctx, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()

	before := commits()
	for range 10 {
		svc.wakeFetcher()
		deadline := time.Now().Add(10 * time.Second)
		for len(svc.fetchKicks()) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the fetcher does not take its kicks")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if n := commits() - before; n != 0 {
		t.Errorf("%d write transactions for 10 looks with nothing pending", n)
	}
}
