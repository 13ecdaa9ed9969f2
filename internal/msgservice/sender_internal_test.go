package msgservice

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/store/storetest"
)

// The sender looks for due sends on every kick and every second. With
// nothing queued, each look must be a read: a write transaction would
// cost an fsync a second on an idle server.
func TestAnIdleSenderWritesNothing(t *testing.T) {
	s, commits := storetest.OpenCounting(t)
	svc := &Service{Store: s}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunSender(ctx, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()

	before := commits()
	// The sender takes a kick only between two looks, so once the last of
	// these kicks is taken, every look before it has finished.
	for range 10 {
		svc.wake()
		deadline := time.Now().Add(10 * time.Second)
		for len(svc.kicks()) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the sender does not take its kicks")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if n := commits() - before; n != 0 {
		t.Errorf("%d write transactions for 10 looks with nothing queued", n)
	}
}
