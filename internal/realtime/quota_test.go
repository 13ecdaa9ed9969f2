package realtime

import (
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
)

func TestQuota(t *testing.T) {
	q := &Quota{Max: 2}
	r1, err1 := q.Take("alice", WebSocket)
	_, err2 := q.Take("alice", WebSocket)
	if err1 != nil || err2 != nil {
		t.Fatalf("the first two streams: %v, %v", err1, err2)
	}
	if _, err := q.Take("alice", WebSocket); errs.CodeOf(err) != errs.RateLimited || errs.As(err).RetryAfter <= 0 {
		t.Fatalf("the third stream: %v, want rate_limited with a Retry-After", err)
	}
	if _, err := q.Take("bob", WebSocket); err != nil {
		t.Fatalf("another identity: %v", err)
	}
	r1()
	r1() // a second release must not free a place that is taken
	if q.Open("alice") != 1 {
		t.Fatalf("after one release alice holds %d", q.Open("alice"))
	}
	if _, err := q.Take("alice", WebSocket); err != nil {
		t.Fatalf("the place given back: %v", err)
	}
	if _, err := q.Take("alice", WebSocket); err == nil {
		t.Fatal("a double release gave two places back")
	}
	if _, err := (&Quota{}).Take("x", WebSocket); err != nil || DefaultStreamsPerIdentity != 32 {
		t.Fatalf("the zero quota allows the default: %v", err)
	}
}
