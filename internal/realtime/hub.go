// Package realtime delivers the journal live: one Hub per node follows the
// journal by position and hands every entry to the connections of that
// node; each connection's Stream replays what its client missed from the
// database, then goes live, and shows only what its identity may see.
package realtime

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/boxwire/boxwire/internal/broker"
	"github.com/boxwire/boxwire/internal/journal"
)

// Reader is the journal as the hub and streams read it.
type Reader interface {
	journal.Reader
	JournalHead(ctx context.Context) (int64, error)
}

// Hub follows the journal once for every connection of this node.
type Hub struct {
	reader Reader
	broker broker.Broker
	// OnError hears read failures the hub recovers from (for the log).
	OnError func(error)
	// OnEntry sees every entry before any connection does (caches keyed
	// by position rely on that). Set before Run.
	OnEntry func(journal.Entry)

	committed chan []journal.Entry // this node's commits, see Committed

	offering []*Sub // deliver's list of subscribers, reused

	mu    sync.Mutex
	subs  map[*Sub]struct{}
	head  int64
	ready chan struct{}
}

// NewHub returns a hub; Run starts it.
func NewHub(r Reader, b broker.Broker) *Hub {
	return &Hub{reader: r, broker: b, subs: map[*Sub]struct{}{}, ready: make(chan struct{}), OnError: func(error) {},
		committed: make(chan []journal.Entry, 64)}
}

// Committed hands the hub entries this node just made durable, so it need
// not read them back (see journal.Wake). It never blocks the committer: a
// batch that finds the queue full is dropped, and its notice makes the hub
// read instead. The hub keeps es; the caller must not change it.
func (h *Hub) Committed(es []journal.Entry) {
	select {
	case h.committed <- es:
	default:
	}
}

// Run follows the journal from its current head until ctx ends. This
// node's commits and the broker's notices wake it; a one-second poll
// covers lost ones.
func (h *Hub) Run(ctx context.Context) error {
	wake := h.broker.Subscribe(64)
	defer wake.Close()
	head, err := h.reader.JournalHead(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.head = head
	h.mu.Unlock()
	close(h.ready)
	// A failed read (the database restarting) must not silence the node:
	// log it and go on from the last position delivered.
	for {
		err = journal.Follow(ctx, h.reader, journal.Wake{Notices: wake.C, Committed: h.committed}, journal.Query{After: h.Head(), Limit: 500}, h.deliver)
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return nil
		}
		h.OnError(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// deliver hands e to every subscriber. Only moving the head and listing
// the subscribers hold the hub's lock: a subscriber that joins after it
// starts from e's position (e is in the database), and the offers to a
// thousand connections do not keep Subscribe, Close and Head waiting.
// It runs on Run's goroutine alone, which owns h.offering.
func (h *Hub) deliver(e journal.Entry) error {
	if h.OnEntry != nil {
		h.OnEntry(e)
	}
	end, ends := endingOf(&e)
	h.mu.Lock()
	h.head = e.Position
	subs := h.offering[:0]
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		switch {
		case ends && end.hits(s.session):
			s.end(&Ended{Reason: end.reason})
		case s.skip == nil || !s.skip(&e):
			s.offer(&e)
		}
	}
	clear(subs) // the list kept for the next entry must not hold closed subscribers
	h.offering = subs
	return nil
}

// Subscribe registers a subscriber and returns the hub's position at that
// moment: entries after it arrive on the subscriber, entries up to it are
// in the database. Nothing falls between. At most limit entries wait for
// the subscriber; one more drops it. notify is called, from the hub's
// goroutine and without blocking, whenever Take has something to say.
// skip, if set, is asked first (same goroutine, must not block): entries
// it skips never reach the subscriber.
// session, if set, is whose stream it is: entries that end the session
// end the subscriber (see Sub.Ended).
func (h *Hub) Subscribe(ctx context.Context, limit int, notify func(), skip func(*journal.Entry) bool, session *Session) (*Sub, int64, error) {
	if err := h.wait(ctx); err != nil {
		return nil, 0, err
	}
	s := &Sub{notify: notify, skip: skip, limit: limit, hub: h, session: session}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[s] = struct{}{}
	return s, h.head, nil
}

// Now is where a stream "from now" starts: the hub's head once it runs.
// Entries committed after Now returns come after that position.
func (h *Hub) Now(ctx context.Context) (int64, error) {
	if err := h.wait(ctx); err != nil {
		return 0, err
	}
	return h.Head(), nil
}

// wait returns once Run has read the journal's head, or ctx ends.
func (h *Hub) wait(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Head is the newest position the hub has delivered.
func (h *Hub) Head() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.head
}

// Connections counts subscribers, for metrics.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Sub receives entries until it is closed or dropped. Its queue is
// allocated only while entries wait, so an idle subscriber costs a few
// words: a node holds tens of thousands of them.
type Sub struct {
	notify  func()
	skip    func(*journal.Entry) bool
	limit   int
	hub     *Hub
	session *Session

	mu      sync.Mutex
	queue   []*journal.Entry
	dropped bool   // the queue overflowed: the reader was too slow
	ended   *Ended // the session no longer allows the stream
}

// end ends the subscriber for good: what waits is dropped, and Ended
// reports why from now on.
func (s *Sub) end(why *Ended) {
	s.mu.Lock()
	if s.ended == nil {
		s.ended, s.queue = why, nil
	}
	s.mu.Unlock()
	s.notify()
}

// Ended is why the subscriber's session ended its stream, or nil.
func (s *Sub) Ended() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended == nil {
		return nil
	}
	return s.ended
}

// offer never blocks the hub: a full queue drops the subscriber, whose
// client reconnects from its last position (memory stays bounded).
func (s *Sub) offer(e *journal.Entry) {
	s.mu.Lock()
	switch {
	case s.dropped, s.ended != nil:
	case len(s.queue) >= s.limit:
		s.dropped, s.queue = true, nil
	default:
		s.queue = append(s.queue, e)
	}
	s.mu.Unlock()
	s.notify()
}

// Take hands over the waiting entries, oldest first, or reports that the
// subscriber was dropped because it fell too far behind.
func (s *Sub) Take() (entries []*journal.Entry, dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, s.queue = s.queue, nil
	return entries, s.dropped
}

// Close unregisters the subscriber.
func (s *Sub) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}
