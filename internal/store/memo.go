package store

import (
	"context"
	"slices"

	"github.com/boxwire/boxwire/internal/boxrules"
)

// boxMemo remembers, for one write transaction, the box states and joins
// its jobs have read: a batch of appends to one box then reads them once
// instead of once per append. Every write that changes them forgets them,
// and the committer forgets everything when it rolls a job back, so the
// memo never holds what the transaction does not.
type boxMemo struct {
	states map[string]boxrules.State
	joins  map[memoJoin]string
}

type memoJoin struct{ box, identity string }

// BoxState reads a box inside the write transaction, so that rules are
// checked against the state the write will change.
func (t *Tx) BoxState(ctx context.Context, id string) (boxrules.State, error) {
	if st, ok := t.memo.states[id]; ok {
		st.Accesses = slices.Clone(st.Accesses) // callers edit theirs as events take effect
		return st, nil
	}
	st, err := boxState(ctx, t.q, id)
	if err != nil {
		return st, err
	}
	if t.memo.states == nil {
		t.memo.states = map[string]boxrules.State{}
	}
	t.memo.states[id] = st
	st.Accesses = slices.Clone(st.Accesses)
	return st, nil
}

// JoinOf returns an identity's active join event id in a box, "" if none.
func (t *Tx) JoinOf(ctx context.Context, boxID, identityID string) (string, error) {
	k := memoJoin{boxID, identityID}
	if id, ok := t.memo.joins[k]; ok {
		return id, nil
	}
	id, err := joinOf(ctx, t.q, boxID, identityID)
	if err != nil {
		return id, err
	}
	if t.memo.joins == nil {
		t.memo.joins = map[memoJoin]string{}
	}
	t.memo.joins[k] = id
	return id, nil
}

// boxChanged and joinsChanged forget what a write is about to change.
func (t *Tx) boxChanged(id string) { delete(t.memo.states, id) }

func (t *Tx) joinsChanged(boxID string) {
	for k := range t.memo.joins {
		if k.box == boxID {
			delete(t.memo.joins, k)
		}
	}
}

// listedEvent keeps a remembered box's LastPosition current.
func (t *Tx) listedEvent(boxID string, position int64) {
	if st, ok := t.memo.states[boxID]; ok {
		st.LastPosition = position
		t.memo.states[boxID] = st
	}
}
