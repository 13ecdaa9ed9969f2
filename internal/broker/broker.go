// Package broker carries journal notices from writers to readers after a
// commit. Notices only wake readers; losing one delays, never loses, a
// delivery, so every queue here is bounded and drops when full.
package broker

import (
	"context"
	"sync"

	"github.com/boxwire/boxwire/internal/journal"
)

// Broker publishes notices and hands them to local subscribers. The
// in-process Local serves one node; a NATS implementation (issue
// "Realtime") carries them between nodes behind the same interface.
type Broker interface {
	Publish(ctx context.Context, notices []journal.Notice) error
	Subscribe(buffer int) *Subscription
	Close() error
}

// Subscription receives notices on C until Close.
type Subscription struct {
	C      <-chan journal.Notice
	c      chan journal.Notice
	fanout *Fanout
}

// Close stops delivery; C is not closed, so readers select on their ctx.
func (s *Subscription) Close() { s.fanout.remove(s) }

// Fanout delivers notices to local subscribers without ever blocking the
// publisher: a full subscriber queue drops the notice, which is safe
// because that subscriber already has a wake-up pending.
type Fanout struct {
	mu   sync.RWMutex
	subs map[*Subscription]struct{}
}

func NewFanout() *Fanout { return &Fanout{subs: map[*Subscription]struct{}{}} }

func (f *Fanout) Subscribe(buffer int) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan journal.Notice, buffer)
	s := &Subscription{C: c, c: c, fanout: f}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	return s
}

func (f *Fanout) remove(s *Subscription) {
	f.mu.Lock()
	delete(f.subs, s)
	f.mu.Unlock()
}

// Deliver hands notices to every subscriber, dropping where a queue is full.
func (f *Fanout) Deliver(notices []journal.Notice) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for s := range f.subs {
		for _, n := range notices {
			select {
			case s.c <- n:
			default:
			}
		}
	}
}

// Local is the in-process broker of a single node.
type Local struct{ *Fanout }

func NewLocal() *Local { return &Local{NewFanout()} }

func (l *Local) Publish(_ context.Context, notices []journal.Notice) error {
	l.Deliver(notices)
	return nil
}

func (l *Local) Close() error { return nil }
