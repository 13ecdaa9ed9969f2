package auth

import (
	"sync"
	"time"
)

// Throttle slows down repeated failed logins per key (a username or an
// address). After Free failures in a row, each further attempt must wait
// twice as long as the previous, up to Window; a success or Window without
// failures clears the key. It lives in memory on each node, bounded to
// MaxKeys keys.
type Throttle struct {
	Free    int
	Window  time.Duration
	MaxKeys int
	Now     func() time.Time

	mu   sync.Mutex
	keys map[string]*strikes
}

type strikes struct {
	failures int
	last     time.Time
	until    time.Time
}

// Wait says how long key must wait before its next attempt; 0 for none.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.keys[key]
	now := t.Now()
	if s == nil || now.After(s.until) {
		return 0
	}
	return s.until.Sub(now)
}

// Fail records a failed attempt.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.keys == nil {
		t.keys = map[string]*strikes{}
	}
	s := t.keys[key]
	if s == nil || now.Sub(s.last) > t.Window {
		if len(t.keys) >= t.MaxKeys {
			t.prune(now)
		}
		s = &strikes{}
		t.keys[key] = s
	}
	s.failures++
	s.last = now
	if over := s.failures - t.Free; over > 0 {
		wait := time.Second << min(over-1, 20)
		s.until = now.Add(min(wait, t.Window))
	}
}

// Reset forgets key's failures.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
}

// prune drops stale keys; under a flood of distinct keys it drops all, so
// memory stays bounded at the price of forgetting some strikes.
func (t *Throttle) prune(now time.Time) {
	for k, s := range t.keys {
		if now.Sub(s.last) > t.Window {
			delete(t.keys, k)
		}
	}
	if len(t.keys) >= t.MaxKeys {
		clear(t.keys)
	}
}
