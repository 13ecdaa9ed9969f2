package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/journal"
)

// deadline bounds every wait in these tests; nothing here should come
// close to it unless something is broken.
const deadline = 5 * time.Second

// Local must satisfy the Broker interface the server programs against.
var _ Broker = (*Local)(nil)

func notices(from, to int64) []journal.Notice {
	var ns []journal.Notice
	for p := from; p <= to; p++ {
		ns = append(ns, journal.Notice{Position: p, Scope: fmt.Sprintf("box-%d", p%3)})
	}
	return ns
}

// receive reads exactly len(want) notices from s and compares them in order.
func receive(t *testing.T, s *Subscription, want []journal.Notice) {
	t.Helper()
	timeout := time.After(deadline)
	for i, w := range want {
		select {
		case got := <-s.C:
			if got != w {
				t.Fatalf("notice %d = %+v, want %+v", i, got, w)
			}
		case <-timeout:
			t.Fatalf("timed out after %d of %d notices", i, len(want))
		}
	}
}

// empty asserts nothing is queued for s.
func empty(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case n := <-s.C:
		t.Fatalf("unexpected notice %+v", n)
	default:
	}
}

// publish calls Publish and fails the test if it blocks.
func publish(t *testing.T, b Broker, ns []journal.Notice) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.Publish(context.Background(), ns) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
	case <-time.After(deadline):
		t.Fatalf("Publish of %d notices blocked for %v", len(ns), deadline)
	}
}

func TestLocalDeliversInOrder(t *testing.T) {
	tests := []struct {
		name    string
		buffer  int
		batches [][]journal.Notice
	}{
		{name: "one notice", buffer: 4, batches: [][]journal.Notice{notices(1, 1)}},
		{name: "one batch", buffer: 8, batches: [][]journal.Notice{notices(1, 8)}},
		{name: "several batches", buffer: 16, batches: [][]journal.Notice{notices(1, 3), notices(4, 4), notices(5, 10)}},
		{name: "empty batch delivers nothing", buffer: 4, batches: [][]journal.Notice{nil, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewLocal()
			defer b.Close()
			s := b.Subscribe(tt.buffer)
			defer s.Close()
			var want []journal.Notice
			for _, batch := range tt.batches {
				publish(t, b, batch)
				want = append(want, batch...)
			}
			receive(t, s, want)
			empty(t, s)
		})
	}
}

func TestLocalEverySubscriberGetsEveryNotice(t *testing.T) {
	for _, n := range []int{2, 5} {
		t.Run(fmt.Sprintf("%d subscribers", n), func(t *testing.T) {
			b := NewLocal()
			subs := make([]*Subscription, n)
			for i := range subs {
				subs[i] = b.Subscribe(8)
			}
			want := notices(1, 6)
			publish(t, b, want[:2])
			publish(t, b, want[2:])
			for i, s := range subs {
				t.Run(fmt.Sprintf("subscriber %d", i), func(t *testing.T) {
					receive(t, s, want)
					empty(t, s)
					s.Close()
				})
			}
		})
	}
}

func TestLocalFullQueueDropsInsteadOfBlocking(t *testing.T) {
	tests := []struct {
		buffer, published int
	}{
		{buffer: 1, published: 2},
		{buffer: 4, published: 5},
		{buffer: 4, published: 1000},
		{buffer: 64, published: 10000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("buffer %d published %d", tt.buffer, tt.published), func(t *testing.T) {
			b := NewLocal()
			// Nobody reads this one. It is not closed: if Publish blocked,
			// Close would wait for it and hide the failure in a hang.
			stalled := b.Subscribe(tt.buffer)
			all := notices(1, int64(tt.published))

			// One big batch, then one notice at a time: neither may block.
			publish(t, b, all[:tt.published/2])
			for _, n := range all[tt.published/2:] {
				publish(t, b, []journal.Notice{n})
			}

			if got := len(stalled.C); got != tt.buffer {
				t.Fatalf("queued = %d, want exactly the buffer %d", got, tt.buffer)
			}
			// What stayed queued is the oldest notices, still in order.
			receive(t, stalled, all[:tt.buffer])
			empty(t, stalled)

			// Once drained, the subscriber receives again.
			next := notices(int64(tt.published)+1, int64(tt.published)+1)
			publish(t, b, next)
			receive(t, stalled, next)
		})
	}
}

func TestLocalFullQueueDoesNotStarveOthers(t *testing.T) {
	b := NewLocal()
	stalled := b.Subscribe(1) // never read, never closed (see above)
	reader := b.Subscribe(100)

	want := notices(1, 50)
	publish(t, b, want)

	receive(t, reader, want)
	empty(t, reader)
	if got := len(stalled.C); got != 1 {
		t.Fatalf("stalled subscriber queued %d, want 1", got)
	}
}

func TestSubscriptionCloseStopsOnlyThatSubscriber(t *testing.T) {
	b := NewLocal()
	closed := b.Subscribe(8)
	kept := b.Subscribe(8)
	defer kept.Close()

	first := notices(1, 2)
	publish(t, b, first)
	closed.Close()
	second := notices(3, 5)
	publish(t, b, second)

	// The closed one keeps what arrived before Close, and nothing after.
	receive(t, closed, first)
	empty(t, closed)
	// The other one sees everything.
	receive(t, kept, append(append([]journal.Notice{}, first...), second...))
	empty(t, kept)

	// Closing twice is harmless and still does not affect others.
	closed.Close()
	third := notices(6, 6)
	publish(t, b, third)
	empty(t, closed)
	receive(t, kept, third)
}

func TestSubscribeSmallBufferMeansOne(t *testing.T) {
	for _, buffer := range []int{1, 0, -1, -100} {
		t.Run(fmt.Sprintf("buffer %d", buffer), func(t *testing.T) {
			b := NewLocal()
			s := b.Subscribe(buffer)
			defer s.Close()
			if got := cap(s.C); got != 1 {
				t.Fatalf("cap = %d, want 1", got)
			}
			all := notices(1, 3)
			publish(t, b, all)
			if got := len(s.C); got != 1 {
				t.Fatalf("queued = %d, want 1", got)
			}
			receive(t, s, all[:1])
			empty(t, s)
			publish(t, b, notices(4, 4))
			receive(t, s, notices(4, 4))
		})
	}
}

// Fanout is exported and usable without Local.
func TestFanoutDeliver(t *testing.T) {
	f := NewFanout()
	f.Deliver(notices(1, 1)) // no subscribers: nothing to do, no panic
	a, c := f.Subscribe(4), f.Subscribe(4)
	defer c.Close()
	want := notices(2, 4)
	f.Deliver(want)
	receive(t, a, want)
	receive(t, c, want)
	a.Close()
	f.Deliver(notices(5, 5))
	empty(t, a)
	receive(t, c, notices(5, 5))
}

func TestLocalConcurrentPublishAndSubscribe(t *testing.T) {
	b := NewLocal()
	defer b.Close()
	const publishers, each = 4, 200
	s := b.Subscribe(publishers * each)
	defer s.Close()

	done := make(chan struct{})
	for p := range publishers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				_ = b.Publish(context.Background(), []journal.Notice{{Position: int64(p*each + i + 1)}})
			}
		}()
	}
	// Subscribers come and go while publishing happens.
	for range 50 {
		b.Subscribe(1).Close()
	}
	timeout := time.After(deadline)
	for range publishers {
		select {
		case <-done:
		case <-timeout:
			t.Fatal("publishers blocked")
		}
	}
	if got := len(s.C); got != publishers*each {
		t.Fatalf("queued = %d, want %d", got, publishers*each)
	}
	// Each publisher's notices arrive in that publisher's order.
	last := make([]int64, publishers)
	for range publishers * each {
		n := <-s.C
		p := (n.Position - 1) / each
		if n.Position <= last[p] {
			t.Fatalf("publisher %d: %d after %d", p, n.Position, last[p])
		}
		last[p] = n.Position
	}
}

func TestLocalCloseReturnsNil(t *testing.T) {
	if err := NewLocal().Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
}
