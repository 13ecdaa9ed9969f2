package boxservice

import (
	"context"
	"sync"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
)

// sightCache shares, between the live connections of a node, what the
// database says about who may see a box: its state and each identity's
// join. Thousands of connections following one box then cost one read
// instead of one each.
//
// Staleness is ruled out by positions. The hub calls NoteEntry for every
// entry before any connection sees it, recording the position of each
// box's last entry that can change who sees it. A cached value remembers
// the hub's position when it was read (asOf): everything up to asOf was
// already committed, so the read saw it. The value counts only while
// asOf is at or after the box's last change. A connection only handles
// entries the hub delivered, so a value that counts is at least as new as
// the entry being shown.
type sightCache struct {
	mu      sync.Mutex
	head    func() int64 // the hub's position
	floor   int64        // the position of the last reset: what was known before it no longer counts
	changed map[string]int64
	states  map[string]cachedState
	joins   map[[2]string]cachedJoin
}

type cachedState struct {
	state boxrules.State
	found bool
	asOf  int64
}

type cachedJoin struct {
	join string
	asOf int64
}

// maxSights bounds the cache; past it, everything is dropped at once
// (dropping only part of changed could make a stale value count).
const maxSights = 50_000

// UseHubPosition switches the shared sight cache on, with the hub's
// position function. Without it every viewer asks the database.
func (s *Service) UseHubPosition(head func() int64) {
	now := head() // not under mu: the hub takes mu while it holds its own lock
	s.sights.mu.Lock()
	defer s.sights.mu.Unlock()
	s.sights.head = head
	s.sights.reset(now)
}

// NoteEntry is called by the hub for every entry, before connections see
// it.
func (s *Service) NoteEntry(e journal.Entry) {
	if !changesSight(e.Type) {
		return
	}
	c := &s.sights
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		return
	}
	if len(c.changed) >= maxSights {
		c.reset(e.Position)
	}
	c.changed[e.Scope] = e.Position
	delete(c.states, e.Scope)
}

func (c *sightCache) reset(position int64) {
	c.floor = position
	c.changed = map[string]int64{}
	c.states = map[string]cachedState{}
	c.joins = map[[2]string]cachedJoin{}
}

// stillTrue reports whether what was read about a box as of position asOf
// still holds: no entry that changes who sees the box came after it. It is
// false when the cache is off (nothing records the changes).
func (s *Service) stillTrue(boxID string, asOf int64) bool {
	c := &s.sights
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head != nil && asOf >= max(c.changed[boxID], c.floor)
}

// hubHead is the hub's position, or -1 when the cache is off.
func (s *Service) hubHead() int64 {
	c := &s.sights
	c.mu.Lock()
	head := c.head
	c.mu.Unlock()
	if head == nil {
		return -1
	}
	return head()
}

// state returns a box's state (found=false for an unknown or deleted box).
func (s *Service) sharedState(ctx context.Context, boxID string) (boxrules.State, bool, error) {
	c := &s.sights
	c.mu.Lock()
	head := c.head
	if head != nil {
		if v, ok := c.states[boxID]; ok && v.asOf >= c.changed[boxID] {
			c.mu.Unlock()
			return v.state, v.found, nil
		}
	}
	c.mu.Unlock()
	var asOf int64
	if head != nil {
		asOf = head() // before the read: everything up to it is visible to it
	}
	st, err := s.Store.BoxState(ctx, boxID)
	found := err == nil
	if errs.CodeOf(err) == errs.NotFound {
		err = nil
	}
	if err != nil || head == nil {
		return st, found, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.states != nil && len(c.states) < maxSights {
		c.states[boxID] = cachedState{state: st, found: found, asOf: asOf}
	}
	return st, found, nil
}

// sharedJoin returns an identity's active join in a box, "" if none.
func (s *Service) sharedJoin(ctx context.Context, boxID, identityID string) (string, error) {
	c := &s.sights
	key := [2]string{boxID, identityID}
	c.mu.Lock()
	head := c.head
	if head != nil {
		if v, ok := c.joins[key]; ok && v.asOf >= c.changed[boxID] {
			c.mu.Unlock()
			return v.join, nil
		}
	}
	c.mu.Unlock()
	var asOf int64
	if head != nil {
		asOf = head()
	}
	join, err := s.Store.JoinOf(ctx, boxID, identityID)
	if err != nil || head == nil {
		return join, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.joins != nil && len(c.joins) < maxSights {
		c.joins[key] = cachedJoin{join: join, asOf: asOf}
	}
	return join, nil
}
