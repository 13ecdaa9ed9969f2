package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

// inOneBatch runs first, then the others, in one transaction: first holds
// the committer until the others are queued behind it.
func inOneBatch(t *testing.T, s *store.Store, first func(ctx context.Context, tx *store.Tx) error,
	others ...func(ctx context.Context, tx *store.Tx) error) []error {
	t.Helper()
	results := make([]chan error, 1+len(others))
	for i := range results {
		results[i] = make(chan error, 1)
	}
	running := make(chan struct{})
	go func() {
		results[0] <- s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			close(running)
			err := first(ctx, tx)
			deadline := time.Now().Add(10 * time.Second)
			for s.QueuedWrites() < len(others) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			return err
		})
	}()
	<-running
	for i, fn := range others {
		// Queue in order: each waits until the one before it is queued.
		deadline := time.Now().Add(10 * time.Second)
		for s.QueuedWrites() < i && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		go func() { results[i+1] <- s.Write(ctx, fn) }()
	}
	out := make([]error, len(results))
	for i, r := range results {
		out[i] = <-r
	}
	return out
}

// The jobs of one transaction read a box's state once; what a later job
// reads must still be what the transaction holds, after another job
// changed it, appended to it, or was rolled back.
func TestBoxStateWithinOneTransaction(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	b, creator := storetest.NewBox(t, s)
	state := func(into *boxrules.State) func(ctx context.Context, tx *store.Tx) error {
		return func(ctx context.Context, tx *store.Tx) (err error) {
			*into, err = tx.BoxState(ctx, b.ID)
			return err
		}
	}
	refused := errors.New("refused")

	var before, afterRollback, afterAppend, afterClose boxrules.State
	var appended store.Event
	results := inOneBatch(t, s, state(&before),
		func(ctx context.Context, tx *store.Tx) error { // changes the box, then fails
			if err := tx.SetBoxLifecycle(ctx, b.ID, boxrules.Closed); err != nil {
				return err
			}
			if _, err := tx.BoxState(ctx, b.ID); err != nil {
				return err
			}
			return refused
		},
		state(&afterRollback),
		func(ctx context.Context, tx *store.Tx) error {
			appended = store.Event{BoxID: b.ID, Type: boxrules.TypeMsgText, SenderID: creator, Content: []byte(`{}`)}
			return tx.AppendBoxEvent(ctx, &appended)
		},
		state(&afterAppend),
		func(ctx context.Context, tx *store.Tx) error { return tx.SetBoxLifecycle(ctx, b.ID, boxrules.Closed) },
		state(&afterClose),
	)
	for i, err := range results {
		if want := error(nil); i == 1 {
			want = refused
			if !errors.Is(err, want) {
				t.Errorf("job %d: %v, want %v", i, err, want)
			}
		} else if err != nil {
			t.Errorf("job %d: %v", i, err)
		}
	}
	if before.Lifecycle != boxrules.Open || afterRollback.Lifecycle != boxrules.Open {
		t.Errorf("lifecycle %q, then %q after a rolled-back close: want open both times", before.Lifecycle, afterRollback.Lifecycle)
	}
	if afterAppend.LastPosition != appended.Position || appended.Position == 0 {
		t.Errorf("last position %d after appending at %d", afterAppend.LastPosition, appended.Position)
	}
	if afterClose.Lifecycle != boxrules.Closed {
		t.Errorf("lifecycle %q after a committed close in the same transaction", afterClose.Lifecycle)
	}
	if st, err := s.BoxState(ctx, b.ID); err != nil || st.Lifecycle != boxrules.Closed || st.LastPosition != appended.Position {
		t.Errorf("after commit: %+v, %v", st, err)
	}
}

// A join, a leave and a rolled-back join in one transaction: each later
// job reads the membership the transaction holds.
func TestJoinsWithinOneTransaction(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	b, _ := storetest.NewBox(t, s)
	member := newIdentity(uuid.NewString() + "@example.com")
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.CreateIdentity(ctx, member) }); err != nil {
		t.Fatal(err)
	}
	join := func(id string, fail error) func(ctx context.Context, tx *store.Tx) error {
		return func(ctx context.Context, tx *store.Tx) error {
			if err := tx.Join(ctx, b.ID, member.ID, id); err != nil {
				return err
			}
			if _, err := tx.JoinOf(ctx, b.ID, member.ID); err != nil {
				return err
			}
			return fail
		}
	}
	read := func(into *string) func(ctx context.Context, tx *store.Tx) error {
		return func(ctx context.Context, tx *store.Tx) (err error) {
			*into, err = tx.JoinOf(ctx, b.ID, member.ID)
			return err
		}
	}
	var none, afterRollback, joined, left string
	refused := errors.New("refused")
	first, second := uuid.NewString(), uuid.NewString()
	results := inOneBatch(t, s, read(&none),
		join(first, refused), read(&afterRollback),
		join(second, nil), read(&joined),
		func(ctx context.Context, tx *store.Tx) error { return tx.EndJoin(ctx, b.ID, member.ID) }, read(&left),
	)
	if !errors.Is(results[1], refused) {
		t.Errorf("rolled-back join: %v", results[1])
	}
	for _, i := range []int{0, 2, 3, 4, 5, 6} {
		if results[i] != nil {
			t.Errorf("job %d: %v", i, results[i])
		}
	}
	if none != "" || afterRollback != "" || joined != second || left != "" {
		t.Errorf("joins read %q, %q after a rolled-back join, %q after joining with %q, %q after leaving",
			none, afterRollback, joined, second, left)
	}
}

// Jobs of one transaction failing after they wrote, first (no savepoint:
// the transaction starts again) and deep inside it, after others
// succeeded: each undoes its own writes and nothing else.
func TestAFailingJobInABatchUndoesOnlyItsOwnWrites(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	emails := make([]string, 6)
	jobs := make([]func(ctx context.Context, tx *store.Tx) error, len(emails))
	refused := errors.New("refused")
	for i := range emails {
		emails[i] = uuid.NewString() + "@example.com"
		jobs[i] = func(ctx context.Context, tx *store.Tx) error {
			if err := tx.CreateIdentity(ctx, newIdentity(emails[i])); err != nil {
				return err
			}
			if i%2 == 0 {
				return refused
			}
			return nil
		}
	}
	results := inOneBatch(t, s, jobs[0], jobs[1:]...)
	for i, err := range results {
		_, readErr := s.IdentityByIdentifier(ctx, emails[i])
		if i%2 == 0 {
			if !errors.Is(err, refused) || readErr == nil {
				t.Errorf("job %d: %v, and its write read back: %v", i, err, readErr)
			}
		} else if err != nil || readErr != nil {
			t.Errorf("job %d: %v, read back: %v", i, err, readErr)
		}
	}
}
