package realtime_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/broker"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/realtime"
)

// memJournal is an in-memory journal whose reads can be made to fail.
type memJournal struct {
	mu      sync.Mutex
	entries []journal.Entry
	failing int // the next n reads fail
}

func (m *memJournal) append(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		p := int64(len(m.entries) + 1)
		m.entries = append(m.entries, journal.Entry{Position: p, Scope: "s"})
	}
}

func (m *memJournal) ReadJournal(_ context.Context, q journal.Query) ([]journal.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing > 0 {
		m.failing--
		return nil, errors.New("database restarting")
	}
	var out []journal.Entry
	for _, e := range m.entries {
		if e.Position > q.After && (q.Limit == 0 || len(out) < q.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memJournal) JournalHead(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.entries)), nil
}

type everything struct{}

func (everything) Frame(_ context.Context, e journal.Entry) (realtime.Frame, bool, error) {
	return realtime.Frame{Type: "x", Position: e.Position}, true, nil
}

const fromNow = -1

// collect follows the hub from since; fromNow is the hub's Now.
func collect(t *testing.T, hub *realtime.Hub, since int64) (func() []int64, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if since == fromNow {
		var err error
		if since, err = hub.Now(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu  sync.Mutex
		got []int64
	)
	go (&realtime.Stream{Hub: hub, Viewer: everything{}}).Run(ctx, since, func(f realtime.Frame) error {
		mu.Lock()
		got = append(got, f.Position)
		mu.Unlock()
		return nil
	})
	return func() []int64 { mu.Lock(); defer mu.Unlock(); return append([]int64(nil), got...) }, cancel
}

func waitLen(t *testing.T, get func() []int64, n int) []int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(get()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %v, want %d entries", get(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return get()
}

// runHub runs a hub over j until the test ends.
func runHub(t *testing.T, j *memJournal) (*realtime.Hub, *broker.Local, context.Context) {
	b := broker.NewLocal()
	hub := realtime.NewHub(j, b)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go hub.Run(ctx)
	return hub, b, ctx
}

// waitUntil polls cond until it holds or ten seconds pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for " + what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReplayThenLiveWithoutGapOrRepeat(t *testing.T) {
	j := &memJournal{}
	j.append(10)
	hub, b, ctx := runHub(t, j)
	get, cancel := collect(t, hub, 3) // resume after position 3
	defer cancel()
	j.append(5)
	b.Publish(ctx, []journal.Notice{{Position: 15}})
	got := waitLen(t, get, 12)
	for i, p := range got {
		if p != int64(i+4) {
			t.Fatalf("positions %v, want 4..15 once each", got)
		}
	}
}

func TestHubSurvivesAFailingRead(t *testing.T) {
	j := &memJournal{}
	b := broker.NewLocal()
	hub := realtime.NewHub(j, b)
	var errs int
	var mu sync.Mutex
	hub.OnError = func(error) { mu.Lock(); errs++; mu.Unlock() }
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go hub.Run(ctx)
	get, cancel := collect(t, hub, fromNow)
	defer cancel()
	waitUntil(t, "the subscription", func() bool { return hub.Connections() == 1 })
	j.mu.Lock()
	j.failing = 2
	j.mu.Unlock()
	j.append(3)
	b.Publish(ctx, []journal.Notice{{Position: 3}})
	got := waitLen(t, get, 3)
	if len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("after the failed reads: %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if errs == 0 {
		t.Fatal("the failure was not reported")
	}
}

// Entries this node committed reach the streams from memory: here every
// read of the journal fails, and they arrive all the same, without a
// notice. A batch the hub cannot place (a gap before it) is read instead.
func TestCommittedEntriesNeedNoRead(t *testing.T) {
	j := &memJournal{}
	j.append(2)
	hub, _, _ := runHub(t, j)
	get, cancel := collect(t, hub, fromNow)
	defer cancel()
	waitUntil(t, "the subscription", func() bool { return hub.Connections() == 1 && hub.Head() == 2 })
	j.mu.Lock()
	j.failing = 1 << 30
	j.mu.Unlock()
	j.append(3)
	hub.Committed(j.entries[2:5])
	if got := waitLen(t, get, 3); got[0] != 3 || got[2] != 5 || len(got) != 3 {
		t.Fatalf("from the committed batch: %v, want 3..5", got)
	}

	// Position 6 was handed to nobody: the next batch, 7, waits for a read.
	j.append(2)
	hub.Committed(j.entries[6:7])
	time.Sleep(50 * time.Millisecond) // a wrong hub would deliver 7 now
	if got := get(); len(got) != 3 {
		t.Fatalf("delivered %v past a gap at 6", got)
	}
	j.mu.Lock()
	j.failing = 0
	j.mu.Unlock()
	if got := waitLen(t, get, 5); got[3] != 6 || got[4] != 7 {
		t.Fatalf("after the read: %v, want 3..7", got)
	}
}

// evenOnly shows even positions and, as a Skipper, tells the hub so for
// live entries; it counts what it was asked to render.
type evenOnly struct {
	mu    sync.Mutex
	asked []int64
}

func (v *evenOnly) Frame(_ context.Context, e journal.Entry) (realtime.Frame, bool, error) {
	v.mu.Lock()
	v.asked = append(v.asked, e.Position)
	v.mu.Unlock()
	return realtime.Frame{Type: "x", Position: e.Position}, e.Position%2 == 0, nil
}

func (v *evenOnly) Skips(e *journal.Entry) bool { return e.Position%2 == 1 }

// A viewer that skips an entry is not woken for it: the hub never hands
// it over. The replay still goes through Frame.
func TestHubPassesOverWhatAViewerSkips(t *testing.T) {
	j := &memJournal{}
	j.append(3)
	hub, b, ctx := runHub(t, j)
	v := &evenOnly{}
	var mu sync.Mutex
	var got []int64
	go (&realtime.Stream{Hub: hub, Viewer: v}).Run(ctx, 0, func(f realtime.Frame) error {
		mu.Lock()
		got = append(got, f.Position)
		mu.Unlock()
		return nil
	})
	waitUntil(t, "the subscription", func() bool { return hub.Connections() == 1 })
	j.append(6) // positions 4..9, live
	b.Publish(ctx, []journal.Notice{{Position: 9}})
	waitUntil(t, "positions 2, 4, 6, 8", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 })
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range v.asked {
		if p > 3 && p%2 == 1 {
			t.Fatalf("the viewer was asked about skipped position %d (asked %v)", p, v.asked)
		}
	}
}
