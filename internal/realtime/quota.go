package realtime

import (
	"sync"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
)

// DefaultStreamsPerIdentity is the quota when none is configured.
const DefaultStreamsPerIdentity = 32

// Quota bounds the live streams one identity holds open on this node:
// WebSockets, SSE streams and waiting long-polls count against the same
// number, so no transport is a way around it. Each stream costs the node
// memory and a subscriber on the hub; without a bound one token could
// open them until the node runs out. The zero Quota allows
// DefaultStreamsPerIdentity.
type Quota struct {
	Max int

	mu          sync.Mutex
	open        map[string]int    // identity id → streams open
	byTransport map[Transport]int // for the operator's metrics
}

// Transport is how a live stream is delivered.
type Transport string

// The transports of live streams.
const (
	WebSocket Transport = "websocket"
	SSE       Transport = "sse"
	LongPoll  Transport = "longpoll"
)

// Transports are every Transport, for metrics.
var Transports = []Transport{WebSocket, SSE, LongPoll}

// Take counts one more stream for identity, or refuses it with
// rate_limited when the identity holds Max already. release gives the
// place back; call it once, when the stream ends.
func (q *Quota) Take(identity string, t Transport) (release func(), err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	limit := q.Max
	if limit <= 0 {
		limit = DefaultStreamsPerIdentity
	}
	if q.open == nil {
		q.open = map[string]int{}
	}
	if q.open[identity] >= limit {
		return nil, &errs.Error{Code: errs.RateLimited, RetryAfter: time.Second,
			Message: "too many live streams (WebSocket, SSE, long-poll) open for this user; close one first"}
	}
	q.open[identity]++
	if q.byTransport == nil {
		q.byTransport = map[Transport]int{}
	}
	q.byTransport[t]++
	var once sync.Once
	return func() { once.Do(func() { q.release(identity, t) }) }, nil
}

func (q *Quota) release(identity string, t Transport) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.open[identity]--; q.open[identity] <= 0 {
		delete(q.open, identity)
	}
	q.byTransport[t]--
}

// OpenBy is how many streams of transport t are open on this node.
func (q *Quota) OpenBy(t Transport) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.byTransport[t]
}

// Open is how many streams identity holds open (metrics and tests).
func (q *Quota) Open(identity string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.open[identity]
}
