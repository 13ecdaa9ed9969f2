package journal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/journal"
)

// waitLimit bounds every wait for a condition. It is well above
// SafetyPoll, so a delivery that only the safety poll makes still lands.
const waitLimit = 5 * time.Second

// fakeReader is an in-memory journal. The real database reader is tested
// with the store; this one only has to honour the Reader contract.
type fakeReader struct {
	mu      sync.Mutex
	entries []journal.Entry
	queries []journal.Query
	failOn  int   // fail the failOn-th read (1-based); 0: never
	err     error // returned by the failing read
}

func (r *fakeReader) ReadJournal(_ context.Context, q journal.Query) ([]journal.Entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q.Scopes = slices.Clone(q.Scopes)
	r.queries = append(r.queries, q)
	if r.failOn > 0 && len(r.queries) == r.failOn {
		return nil, r.err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	var out []journal.Entry
	for _, e := range r.entries {
		if e.Position <= q.After {
			continue
		}
		if q.Scopes != nil && !slices.Contains(q.Scopes, e.Scope) {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, e)
	}
	return out, nil
}

// add appends entries with the given positions, which must increase.
func (r *fakeReader) add(positions ...int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range positions {
		r.entries = append(r.entries, entry(p, "box-1"))
	}
}

func (r *fakeReader) addEntries(es ...journal.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, es...)
}

func (r *fakeReader) reads() []journal.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queries)
}

func entry(p int64, scope string) journal.Entry {
	return journal.Entry{Position: p, ID: fmt.Sprintf("id-%d", p), Scope: scope, Type: "msg.text"}
}

func span(from, to int64) []int64 {
	var ps []int64
	for p := from; p <= to; p++ {
		ps = append(ps, p)
	}
	return ps
}

// collector is an fn for Follow that records what it was given.
type collector struct {
	mu  sync.Mutex
	got []journal.Entry
}

func (c *collector) fn(e journal.Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, e)
	return nil
}

func (c *collector) positions() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := make([]int64, len(c.got))
	for i, e := range c.got {
		ps[i] = e.Position
	}
	return ps
}

// waitFor polls cond until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitPositions waits until c has received at least len(want) entries,
// then checks it received exactly want, in order.
func waitPositions(t *testing.T, c *collector, limit time.Duration, want []int64) {
	t.Helper()
	end := time.Now().Add(limit)
	got := c.positions()
	for len(got) < len(want) {
		if time.Now().After(end) {
			t.Fatalf("after %v: delivered %v, want %v", limit, got, want)
		}
		time.Sleep(5 * time.Millisecond)
		got = c.positions()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// follow runs Follow in the background; the returned channel yields its
// result. The test's cleanup cancels it and waits for it to end.
func follow(t *testing.T, ctx context.Context, r journal.Reader, wake journal.Wake, q journal.Query, fn func(journal.Entry) error) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	result := make(chan error, 1)
	go func() {
		err := journal.Follow(ctx, r, wake, q, fn)
		done <- err
		result <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Errorf("Follow did not return within %v of cancel", waitLimit)
		}
	})
	return result
}

// notify sends a wake-up the way the broker does: dropped if one is
// already pending.
func notify(wake chan<- journal.Notice, position int64) {
	select {
	case wake <- journal.Notice{Position: position, Scope: "box-1"}:
	default:
	}
}

// result waits for Follow to return.
func result(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(waitLimit):
		t.Fatalf("Follow did not return within %v", waitLimit)
		return nil
	}
}

// notFinished asserts Follow is still running.
func notFinished(t *testing.T, errc <-chan error) {
	t.Helper()
	select {
	case err := <-errc:
		t.Fatalf("Follow returned early: %v", err)
	default:
	}
}

func TestFollowReplaysThenFollowsWakeUps(t *testing.T) {
	r := &fakeReader{}
	r.add(1, 2, 5) // positions may have gaps
	wake := make(chan journal.Notice, 1)
	var c collector

	// Without the wake-ups, nothing appended later could arrive before the
	// safety poll's first tick, one SafetyPoll after Follow started.
	start := time.Now()
	errc := follow(t, context.Background(), r, journal.Wake{Notices: wake}, journal.Query{}, c.fn)

	waitPositions(t, &c, waitLimit, []int64{1, 2, 5})

	want := []int64{1, 2, 5}
	for round, batch := range [][]int64{{6}, {7, 9}, {10, 11, 12}} {
		r.add(batch...)
		notify(wake, batch[len(batch)-1])
		want = append(want, batch...)
		waitPositions(t, &c, waitLimit, want)
		if took := time.Since(start); took >= journal.SafetyPoll {
			t.Fatalf("round %d delivered %v after start; a wake-up should not wait for the %v safety poll", round, took, journal.SafetyPoll)
		}
	}
	notFinished(t, errc)
}

func TestFollowStaleWakeUpsCostNoRead(t *testing.T) {
	r := &fakeReader{}
	r.add(1, 2, 3)
	wake := make(chan journal.Notice) // unbuffered: a send means Follow took it
	var c collector
	start := time.Now()
	errc := follow(t, context.Background(), r, journal.Wake{Notices: wake}, journal.Query{}, c.fn)
	waitPositions(t, &c, waitLimit, []int64{1, 2, 3})

	readsBefore := len(r.reads())
	for i, p := range []int64{3, 2, 3, 1, 3} {
		select {
		case wake <- journal.Notice{Position: p, Scope: "box-1"}:
		case <-time.After(waitLimit):
			t.Fatalf("wake-up %d not taken", i)
		}
	}
	// A notice of what was already delivered reads nothing. (Only the
	// safety poll may read, and not before SafetyPoll has passed.)
	if n := len(r.reads()); n != readsBefore && time.Since(start) < journal.SafetyPoll {
		t.Fatalf("%d reads after stale wake-ups, want none", n-readsBefore)
	}
	if got := c.positions(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("after wake-ups with nothing new, delivered %v", got)
	}

	r.add(4)
	select {
	case wake <- journal.Notice{Position: 4, Scope: "box-1"}:
	case <-time.After(waitLimit):
		t.Fatal("wake-up not taken")
	}
	waitPositions(t, &c, waitLimit, []int64{1, 2, 3, 4})
	if q := r.reads()[len(r.reads())-1]; q.After != 3 {
		t.Fatalf("read after %d, want after 3", q.After)
	}
	notFinished(t, errc)
}

// TestFollowTakesCommittedBatches hands a follower that has delivered 1–3
// a batch its node committed. The batch is delivered from memory when
// nothing can be missing before it; otherwise the follower reads, and
// either way each entry arrives once, in order.
func TestFollowTakesCommittedBatches(t *testing.T) {
	tests := []struct {
		name   string
		stored []int64 // in the journal after 1–3
		batch  []int64 // handed over as committed
		scopes []string
		want   []int64 // delivered after 1–3
		read   bool
	}{
		{name: "next batch", stored: span(4, 6), batch: span(4, 6), want: span(4, 6)},
		{name: "one entry", stored: []int64{4}, batch: []int64{4}, want: []int64{4}},
		{name: "already read", batch: span(2, 3), want: nil},
		{name: "partly read", stored: span(4, 5), batch: span(2, 5), want: span(4, 5)},
		{name: "empty batch", batch: nil, want: nil},
		{name: "an earlier batch was dropped", stored: span(4, 6), batch: span(5, 6), want: span(4, 6), read: true},
		{name: "another node's entry within", stored: span(4, 6), batch: []int64{4, 6}, want: span(4, 6), read: true},
		{name: "a gap before it", stored: []int64{7, 8}, batch: []int64{7, 8}, want: []int64{7, 8}, read: true},
		{name: "scoped follower", stored: span(4, 5), batch: span(4, 5), scopes: []string{"box-1"}, want: span(4, 5), read: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReader{}
			r.add(1, 2, 3)
			committed := make(chan []journal.Entry) // unbuffered: a send means Follow took it
			var c collector
			start := time.Now()
			errc := follow(t, context.Background(), r, journal.Wake{Committed: committed}, journal.Query{Scopes: tt.scopes}, c.fn)
			waitPositions(t, &c, waitLimit, []int64{1, 2, 3})
			readsBefore := len(r.reads())

			r.add(tt.stored...)
			var batch []journal.Entry
			for _, p := range tt.batch {
				batch = append(batch, entry(p, "box-1"))
			}
			select {
			case committed <- batch:
			case <-time.After(waitLimit):
				t.Fatal("batch not taken")
			}
			want := append([]int64{1, 2, 3}, tt.want...)
			waitPositions(t, &c, waitLimit, want)
			// The next batch, taken from memory, makes sure the first is
			// finished with.
			next := want[len(want)-1] + 1
			r.add(next)
			committed <- []journal.Entry{entry(next, "box-1")}
			if tt.scopes == nil {
				waitPositions(t, &c, waitLimit, append(want, next))
			}
			if took := time.Since(start); took >= journal.SafetyPoll {
				t.Fatalf("took %v: the safety poll's reads cannot be told from the batch's", took)
			}
			if read := len(r.reads()) > readsBefore; read != tt.read {
				t.Fatalf("read the journal: %v, want %v (reads %v)", read, tt.read, r.reads()[readsBefore:])
			}
			notFinished(t, errc)
		})
	}
}

func TestFollowPaginates(t *testing.T) {
	tests := []struct {
		name      string
		positions []int64
		q         journal.Query
		want      []int64
		pageLimit int // largest page the reader may be asked for
	}{
		{name: "10 entries limit 3", positions: span(1, 10), q: journal.Query{Limit: 3}, want: span(1, 10), pageLimit: 3},
		{name: "9 entries limit 3 (exact pages)", positions: span(1, 9), q: journal.Query{Limit: 3}, want: span(1, 9), pageLimit: 3},
		{name: "limit 1", positions: span(1, 5), q: journal.Query{Limit: 1}, want: span(1, 5), pageLimit: 1},
		{name: "gaps in positions", positions: []int64{2, 3, 7, 8, 20, 21, 22, 40}, q: journal.Query{Limit: 3}, want: []int64{2, 3, 7, 8, 20, 21, 22, 40}, pageLimit: 3},
		{name: "starts after q.After", positions: span(1, 10), q: journal.Query{After: 4, Limit: 3}, want: span(5, 10), pageLimit: 3},
		{name: "after everything", positions: span(1, 10), q: journal.Query{After: 10, Limit: 3}, want: nil, pageLimit: 3},
		{name: "default limit", positions: span(1, 2*journal.DefaultLimit+7), q: journal.Query{}, want: span(1, 2*journal.DefaultLimit+7), pageLimit: journal.DefaultLimit},
		{name: "negative limit is the default", positions: span(1, journal.DefaultLimit+1), q: journal.Query{Limit: -1}, want: span(1, journal.DefaultLimit+1), pageLimit: journal.DefaultLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReader{}
			r.add(tt.positions...)
			var c collector
			// No wake-up is ever sent: every page must be read in one go,
			// well before the safety poll would pick up a missed one.
			errc := follow(t, context.Background(), r, journal.Wake{}, tt.q, c.fn)
			waitPositions(t, &c, journal.SafetyPoll/2, tt.want)
			// Full pages, then one short (possibly empty) page.
			wantReads := len(tt.want)/tt.pageLimit + 1
			waitFor(t, waitLimit, fmt.Sprintf("fewer than %d reads", wantReads), func() bool { return len(r.reads()) >= wantReads })
			notFinished(t, errc)

			reads := r.reads()
			for i, q := range reads {
				if q.Limit != tt.q.Limit {
					t.Errorf("read %d: Limit %d, want the caller's %d", i, q.Limit, tt.q.Limit)
				}
			}
			// Pages follow each other: each read starts after the last
			// entry delivered, and the first after the caller's position.
			if reads[0].After != tt.q.After {
				t.Errorf("first read after %d, want %d", reads[0].After, tt.q.After)
			}
			for i := 1; i < wantReads; i++ {
				if want := tt.want[i*tt.pageLimit-1]; reads[i].After != want {
					t.Errorf("read %d after %d, want %d", i, reads[i].After, want)
				}
			}
		})
	}
}

func TestFollowPassesScopes(t *testing.T) {
	r := &fakeReader{}
	r.addEntries(entry(1, "box-1"), entry(2, "box-2"), entry(3, "org:o"), entry(4, "box-1"), entry(5, "box-3"), entry(6, "org:o"))
	var c collector
	q := journal.Query{Scopes: []string{"box-1", "org:o"}, Limit: 2}
	errc := follow(t, context.Background(), r, journal.Wake{}, q, c.fn)
	waitPositions(t, &c, journal.SafetyPoll/2, []int64{1, 3, 4, 6})
	for i, got := range r.reads() {
		if !slices.Equal(got.Scopes, q.Scopes) {
			t.Errorf("read %d: scopes %v, want %v", i, got.Scopes, q.Scopes)
		}
	}
	notFinished(t, errc)
}

func TestFollowSafetyPollWithoutWakeUps(t *testing.T) {
	tests := []struct {
		name string
		wake chan journal.Notice
	}{
		{name: "nil wake channel", wake: nil},
		{name: "wake channel never sent on", wake: make(chan journal.Notice, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits for the safety poll twice
			r := &fakeReader{}
			r.add(1)
			var c collector
			errc := follow(t, context.Background(), r, journal.Wake{Notices: tt.wake}, journal.Query{}, c.fn)
			waitPositions(t, &c, waitLimit, []int64{1})

			// Appended with no notice: a lost wake-up delays, never loses.
			r.add(2, 3)
			waitPositions(t, &c, waitLimit, []int64{1, 2, 3})
			r.add(4)
			waitPositions(t, &c, waitLimit, []int64{1, 2, 3, 4})
			notFinished(t, errc)
		})
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		cancel bool // cancel once the replay is done; else wait for the deadline
		want   error
	}{
		{name: "cancelled", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, cancel: true, want: context.Canceled},
		{name: "deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, want: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			r := &fakeReader{}
			r.add(1, 2)
			var c collector
			errc := follow(t, ctx, r, journal.Wake{Notices: make(chan journal.Notice)}, journal.Query{}, c.fn)
			waitPositions(t, &c, waitLimit, []int64{1, 2})
			if tt.cancel {
				cancel()
			}
			err := result(t, errc)
			if !errors.Is(err, tt.want) || err != ctx.Err() {
				t.Fatalf("Follow = %v, want ctx.Err() = %v", err, tt.want)
			}
		})
	}
}

func TestFollowReturnsFnError(t *testing.T) {
	errStop := errors.New("subscriber gone")
	tests := []struct {
		name     string
		initial  []int64
		later    []int64 // appended after the initial replay, then woken
		failAt   int64
		want     []int64 // positions fn was called with, the failing one last
		limitOne bool
	}{
		{name: "first entry", initial: span(1, 3), failAt: 1, want: []int64{1}},
		{name: "middle of replay", initial: span(1, 5), failAt: 3, want: []int64{1, 2, 3}},
		{name: "on a later page", initial: span(1, 5), failAt: 4, want: []int64{1, 2, 3, 4}, limitOne: true},
		{name: "after a wake-up", initial: span(1, 2), later: span(3, 5), failAt: 4, want: []int64{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReader{}
			r.add(tt.initial...)
			var c collector
			fn := func(e journal.Entry) error {
				_ = c.fn(e)
				if e.Position == tt.failAt {
					return errStop
				}
				return nil
			}
			q := journal.Query{}
			if tt.limitOne {
				q.Limit = 1
			}
			wake := make(chan journal.Notice, 1)
			errc := follow(t, context.Background(), r, journal.Wake{Notices: wake}, q, fn)
			if tt.later != nil {
				waitPositions(t, &c, waitLimit, tt.initial)
				r.add(tt.later...)
				notify(wake, tt.later[len(tt.later)-1])
			}
			if err := result(t, errc); err != errStop {
				t.Fatalf("Follow = %v, want fn's error %v", err, errStop)
			}
			if got := c.positions(); !slices.Equal(got, tt.want) {
				t.Fatalf("fn called with %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFollowReturnsReaderError(t *testing.T) {
	errDB := errors.New("connection reset")
	tests := []struct {
		name   string
		failOn int // which read fails
		q      journal.Query
		wake   bool // send a wake-up after the replay
		want   []int64
	}{
		{name: "first read", failOn: 1, want: nil},
		{name: "second page", failOn: 2, q: journal.Query{Limit: 2}, want: []int64{1, 2}},
		{name: "read after a wake-up", failOn: 2, wake: true, want: []int64{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReader{failOn: tt.failOn, err: errDB}
			r.add(1, 2, 3)
			var c collector
			wake := make(chan journal.Notice, 1)
			errc := follow(t, context.Background(), r, journal.Wake{Notices: wake}, tt.q, c.fn)
			if tt.wake {
				waitPositions(t, &c, waitLimit, []int64{1, 2, 3})
				notify(wake, 3)
			}
			if err := result(t, errc); err != errDB {
				t.Fatalf("Follow = %v, want the reader's error %v", err, errDB)
			}
			if got := c.positions(); !slices.Equal(got, tt.want) {
				t.Fatalf("fn called with %v, want %v", got, tt.want)
			}
			if n := len(r.reads()); n != tt.failOn {
				t.Fatalf("%d reads, want %d (none after the failure)", n, tt.failOn)
			}
		})
	}
}
