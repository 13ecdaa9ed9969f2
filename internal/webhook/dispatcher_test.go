package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/netguard"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
	"github.com/boxwire/boxwire/internal/webhook"
)

// waitLimit bounds every wait; it is well above journal.SafetyPoll, the
// longest a dispatcher takes to notice a re-enabled hook.
const waitLimit = 15 * time.Second

// onPremises lets hooks reach the tests' receivers on 127.0.0.1, as
// --webhook-allow-private does: without it they are refused (guard_test.go).
var onPremises = &webhook.Guard{Policy: netguard.Policy{AllowPrivate: true}}

// quickRetry keeps retries fast in tests.
func quickRetry(int) time.Duration { return 10 * time.Millisecond }

// TestEveryEventArrivesInOrderAfterFailures is the scenario: a
// receiver that fails several times, then succeeds.
func TestEveryEventArrivesInOrderAfterFailures(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	admin, org := newOrg(t, s, "acme")
	rcv := newReceiver(t, 0) // fails until released
	hook := createHook(t, s, admin, msgrules.WebhookContact, rcv.url)
	rcv.setSecret(hook.Secret)

	want := appendEntries(t, s, org, msgrules.EntryContactCreated, msgrules.EntryContactUpdated, msgrules.EntryContactCreated)
	d := &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry}
	start(t, d)
	waitFor(t, "failureCount to reach 3", func() bool { return storedHook(t, s, hook).FailureCount >= 3 })
	rcv.release()
	want = append(want, appendEntries(t, s, org, msgrules.EntryContactCreated)...)
	d.Wake()

	rcv.waitDelivered(t, want)
	// The last success is recorded just after the receiver answered it.
	waitFor(t, "the position to reach the last entry", func() bool {
		return storedHook(t, s, hook).Position == want[len(want)-1].Position
	})
	if h := storedHook(t, s, hook); h.FailureCount != 0 || !h.IsEnabled {
		t.Fatalf("after the deliveries: failureCount %d, enabled %v; want 0, true", h.FailureCount, h.IsEnabled)
	}
}

func TestHookIsDisabledAfterMaxFailuresAndReenabledWithItsBacklog(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	admin, org := newOrg(t, s, "acme")
	svc := &msgservice.Service{Store: s}
	failing := newReceiver(t, 0)
	hook := createHook(t, s, admin, msgrules.WebhookContact, failing.url)
	failing.setSecret(hook.Secret)
	// A second hook of the same type is the barrier that shows the
	// dispatcher went on while the first stayed silent.
	healthy := newReceiver(t, -1)
	barrier := createHook(t, s, admin, msgrules.WebhookContact, healthy.url)
	healthy.setSecret(barrier.Secret)

	want := appendEntries(t, s, org, msgrules.EntryContactCreated, msgrules.EntryContactUpdated)
	d := &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry, MaxFailures: 3}
	start(t, d)
	waitFor(t, "the failing hook to be disabled", func() bool { return !storedHook(t, s, hook).IsEnabled })
	if h := storedHook(t, s, hook); h.FailureCount != 3 {
		t.Fatalf("disabled with failureCount %d, want 3", h.FailureCount)
	}
	want = append(want, appendEntries(t, s, org, msgrules.EntryContactCreated)...)
	d.Wake()
	healthy.waitDelivered(t, want)
	if n := failing.attemptCount(); n != 3 {
		t.Fatalf("a disabled hook was tried: %d attempts, want 3", n)
	}

	failing.release()
	on := true
	if _, err := svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{IsEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	if h := storedHook(t, s, hook); h.FailureCount != 0 || !h.IsEnabled {
		t.Fatalf("re-enabled: failureCount %d, enabled %v; want 0, true", h.FailureCount, h.IsEnabled)
	}
	failing.waitDelivered(t, want)
}

func TestHooksReceiveOnlyTheirTypeAndTheirOrganisation(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	acmeAdmin, acme := newOrg(t, s, "acme")
	globexAdmin, globex := newOrg(t, s, "globex")
	contacts, messages, other := newReceiver(t, -1), newReceiver(t, -1), newReceiver(t, -1)
	contactHook := createHook(t, s, acmeAdmin, msgrules.WebhookContact, contacts.url)
	contacts.setSecret(contactHook.Secret)
	messageHook := createHook(t, s, acmeAdmin, msgrules.WebhookMessage, messages.url)
	messages.setSecret(messageHook.Secret)
	otherHook := createHook(t, s, globexAdmin, msgrules.WebhookContact, other.url)
	other.setSecret(otherHook.Secret)

	d := &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry}
	start(t, d)
	var wantContacts, wantMessages, wantOther []journal.Entry
	for i := range 3 {
		wantContacts = append(wantContacts, appendEntries(t, s, acme, msgrules.EntryContactCreated)...)
		wantOther = append(wantOther, appendEntries(t, s, globex, msgrules.EntryContactCreated)...)
		wantMessages = append(wantMessages, appendEntries(t, s, acme, msgrules.EntryMessageCreated)...)
		appendEntries(t, s, acme, msgrules.EntryInboxCreated, msgrules.EntryConversationUpdated)
		if i == 1 {
			d.Wake()
		}
	}
	// Each hook's last entry is the last of its organisation's entries
	// that it receives: once it arrives, every earlier one was dealt with.
	last := appendEntries(t, s, acme, msgrules.EntryContactUpdated)
	wantContacts = append(wantContacts, last...)
	d.Wake()
	contacts.waitDelivered(t, wantContacts)
	messages.waitDelivered(t, wantMessages)
	other.waitDelivered(t, wantOther)
	// Entries of other types are passed over for good, not read again.
	waitFor(t, "the message hook to move past the contact entry", func() bool {
		return storedHook(t, s, messageHook).Position == last[0].Position
	})
}

// TestAHangingReceiverDelaysNoOtherHook: while one hook's receiver does
// not answer, another hook gets its entries; the timeout then counts as a
// failure, while shutting down does not.
func TestAHangingReceiverDelaysNoOtherHook(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	admin, org := newOrg(t, s, "acme")
	var hung sync.WaitGroup
	hung.Add(1)
	var once sync.Once
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a closed connection only once the body is read
		once.Do(hung.Done)
		<-r.Context().Done() // answers nothing until the dispatcher gives up
	}))
	t.Cleanup(hanging.Close)
	stuck := createHook(t, s, admin, msgrules.WebhookContact, hanging.URL)
	healthy := newReceiver(t, -1)
	hook := createHook(t, s, admin, msgrules.WebhookContact, healthy.url)
	healthy.setSecret(hook.Secret)

	want := appendEntries(t, s, org, msgrules.EntryContactCreated, msgrules.EntryContactUpdated)
	stop := start(t, &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry, Timeout: time.Hour})
	hung.Wait()
	healthy.waitDelivered(t, want)
	stop()
	if h := storedHook(t, s, stuck); h.FailureCount != 0 || h.Position != stuck.Position {
		t.Fatalf("shutting down was counted against the receiver: %+v", h)
	}

	start(t, &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry, Timeout: 20 * time.Millisecond})
	waitFor(t, "the timeouts to count as failures", func() bool { return storedHook(t, s, stuck).FailureCount >= 2 })
}

// TestDeliveriesResumeAfterARestart stops the dispatcher while the
// receiver fails, closes the store and opens it again, as a restarted
// server would.
func TestDeliveriesResumeAfterARestart(t *testing.T) {
	db := storetest.Database(t)
	first := storetest.Reopen(t, db, store.Options{})
	admin, org := newOrg(t, first, "acme")
	rcv := newReceiver(t, 1) // accepts one delivery, then fails
	hook := createHook(t, first, admin, msgrules.WebhookContact, rcv.url)
	rcv.setSecret(hook.Secret)
	want := appendEntries(t, first, org, msgrules.EntryContactCreated, msgrules.EntryContactCreated, msgrules.EntryContactUpdated)

	stop := start(t, &webhook.Dispatcher{Store: first, Guard: onPremises, Backoff: quickRetry})
	waitFor(t, "the second entry to fail twice", func() bool { return storedHook(t, first, hook).FailureCount >= 2 })
	stop()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := storetest.Reopen(t, db, store.Options{})
	if h := storedHook(t, again, hook); h.Position != want[0].Position {
		t.Fatalf("stored position %d after the restart, want %d (the one delivered entry)", h.Position, want[0].Position)
	}
	want = append(want, appendEntries(t, again, org, msgrules.EntryContactCreated)...)
	rcv.release()
	start(t, &webhook.Dispatcher{Store: again, Guard: onPremises, Backoff: quickRetry})
	rcv.waitDelivered(t, want)
	if h := storedHook(t, again, hook); h.FailureCount != 0 {
		t.Fatalf("failureCount %d after the deliveries, want 0", h.FailureCount)
	}
}

func TestDefaultBackoffGrowsAndIsCapped(t *testing.T) {
	for _, tc := range []struct {
		failures int
		min, max time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{12, 150 * time.Second, 5 * time.Minute},
		{1 << 30, 150 * time.Second, 5 * time.Minute},
	} {
		for range 50 {
			if got := webhook.DefaultBackoff(tc.failures); got < tc.min || got > tc.max {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", tc.failures, got, tc.min, tc.max)
			}
		}
	}
}

// newOrg creates an organisation with an admin, and returns the admin's
// context and the organisation's id.
func newOrg(t *testing.T, s *store.Store, name string) (context.Context, string) {
	t.Helper()
	ctx := context.Background()
	who, err := auth.CreateUser(ctx, s, auth.NewUser{Email: name + "@example.com", Password: "correct horse battery",
		Name: "Admin of " + name, Org: name, Role: identity.Admin})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.MemberOf(ctx, who.ID)
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithCaller(ctx, auth.Caller{Identity: who}), m.OrgID
}

func createHook(t *testing.T, s *store.Store, admin context.Context, typ, url string) msgrules.Webhook {
	t.Helper()
	h, err := (&msgservice.Service{Store: s, WebhookTargets: onPremises}).CreateWebhook(admin, msgservice.WebhookChange{Type: &typ, TargetURL: &url})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func storedHook(t *testing.T, s *store.Store, h msgrules.Webhook) msgrules.Webhook {
	t.Helper()
	got, err := s.Webhook(context.Background(), h.OrgID, h.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var entrySeq sync.Map // per test name: how many entries it appended

// appendEntries journals one entry of each type in the organisation's
// scope, each with its own payload, and returns them as committed.
func appendEntries(t *testing.T, s *store.Store, orgID string, types ...string) []journal.Entry {
	t.Helper()
	var out []journal.Entry
	for _, typ := range types {
		n, _ := entrySeq.LoadOrStore(t.Name(), new(int))
		*n.(*int)++
		payload := msgrules.EntryPayload(map[string]any{"name": fmt.Sprintf("record %d", *n.(*int)), "org": orgID})
		err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			e, err := tx.Append(ctx, journal.Entry{Scope: msgrules.OrgScope(orgID), Type: typ, Payload: payload})
			out = append(out, e)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// start runs d until the test ends; the returned stop cancels it and
// waits for Run to return, which shows that no delivery goroutine is left.
func start(t *testing.T, d *webhook.Dispatcher) (stop func()) {
	t.Helper()
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(t.Output(), nil)) // shown when a test fails
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(waitLimit):
				t.Errorf("Run did not return %v after its context ended", waitLimit)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %v: still waiting for %s", waitLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receiver is a local webhook endpoint. It verifies every delivery's
// signature, then accepts a budget of deliveries and fails the rest until
// released.
type receiver struct {
	url string

	mu       sync.Mutex
	secret   string
	budget   int // deliveries still accepted; -1: all
	attempts int
	got      []delivered
	problems []string // checked when the test ends
}

type delivered struct {
	ID, Type  string
	Timestamp time.Time
	Data      json.RawMessage
}

func newReceiver(t *testing.T, budget int) *receiver {
	r := &receiver{budget: budget}
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range r.problems {
			t.Error(p)
		}
	})
	r.url = srv.URL + "/hook"
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if err := msgrules.VerifyWebhook(r.secret, req.Header, body, time.Now(), 0); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("delivery %s: signature does not verify: %v", req.Header.Get("webhook-id"), err))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.problems = append(r.problems, "content-type "+ct)
	}
	if r.budget == 0 {
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	var d delivered
	if err := json.Unmarshal(body, &d); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("body %s: %v", body, err))
	}
	d.ID = req.Header.Get("webhook-id")
	r.got = append(r.got, d)
	if r.budget > 0 {
		r.budget--
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

// release makes the receiver accept every delivery from now on.
func (r *receiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.budget = -1
}

func (r *receiver) attemptCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// waitDelivered waits until every entry of want was accepted, then checks
// that they came in order, each with its type, time and record, and that
// nothing else came. A repeated delivery is allowed (at least once), but
// only of the entry just delivered.
func (r *receiver) waitDelivered(t *testing.T, want []journal.Entry) {
	t.Helper()
	var got []delivered
	waitFor(t, fmt.Sprintf("%d deliveries", len(want)), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = slices.Clone(r.got)
		return len(slices.CompactFunc(slices.Clone(got), sameID)) >= len(want)
	})
	got = slices.CompactFunc(got, sameID)
	if len(got) != len(want) {
		t.Fatalf("received %d distinct deliveries, want %d: %v", len(got), len(want), ids(got))
	}
	for i, e := range want {
		g := got[i]
		if g.ID != e.ID || g.Type != e.Type || !g.Timestamp.Equal(e.At) || !sameJSON(g.Data, e.Payload) {
			t.Fatalf("delivery %d = %s %s %v %s, want %s %s %v %s", i, g.ID, g.Type, g.Timestamp, g.Data,
				e.ID, e.Type, e.At, e.Payload)
		}
	}
}

func sameID(a, b delivered) bool { return a.ID == b.ID }

func ids(ds []delivered) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID + " " + d.Type
	}
	return out
}

// sameJSON compares values, not bytes: PostgreSQL keeps payloads as
// jsonb, which orders the keys its own way.
func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// TestTwoNodesDeliverEachEntryOnce runs two dispatchers on one database,
// as two nodes of a cluster do: the hook's lease lets one deliver, so the
// receiver does not get every entry twice; when that node stops, the
// other takes over at once.
func TestTwoNodesDeliverEachEntryOnce(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	admin, org := newOrg(t, s, "acme")
	rcv := newReceiver(t, -1)
	hook := createHook(t, s, admin, msgrules.WebhookContact, rcv.url)
	rcv.setSecret(hook.Secret)
	stopA := start(t, &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry})
	start(t, &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry})
	want := appendEntries(t, s, org, msgrules.EntryContactCreated, msgrules.EntryContactUpdated, msgrules.EntryContactCreated)
	rcv.waitDelivered(t, want)
	// A delivery still unrecorded when its node stops is sent again, by
	// design (at least once); this test is about two running nodes.
	last := want[len(want)-1].Position
	waitFor(t, "the deliveries to be recorded", func() bool { return storedHook(t, s, hook).Position == last })
	stopA()
	want = append(want, appendEntries(t, s, org, msgrules.EntryContactUpdated)...)
	rcv.waitDelivered(t, want)
	if n := rcv.attemptCount(); n != len(want) {
		t.Fatalf("%d attempts for %d entries: both nodes delivered", n, len(want))
	}
}

// TestWakeUpsWithNothingToDeliverWriteNothing: every wake-up reaches every
// hook, most often with nothing for it. Such a wake-up must cost a read,
// not a durable write per hook.
func TestWakeUpsWithNothingToDeliverWriteNothing(t *testing.T) {
	s, commits := storetest.OpenCounting(t)
	admin, acme := newOrg(t, s, "acme")
	rcv := newReceiver(t, -1)
	hook := createHook(t, s, admin, msgrules.WebhookContact, rcv.url)
	rcv.setSecret(hook.Secret)
	d := &webhook.Dispatcher{Store: s, Guard: onPremises, Backoff: quickRetry}
	start(t, d)
	first := appendEntries(t, s, acme, msgrules.EntryContactCreated)
	rcv.waitDelivered(t, first) // the hook's worker runs

	before := commits()
	const wakes = 20
	for range wakes {
		d.Wake()
		time.Sleep(2 * time.Millisecond) // pacing, so the wake-ups are not merged into one
	}
	// One entry the hook takes: once it arrives, every wake-up before it
	// was dealt with.
	rcv.waitDelivered(t, append(first, appendEntries(t, s, acme, msgrules.EntryContactCreated)...))
	// The append, the lease taken to deliver it, and the recorded delivery.
	if n := commits() - before; n > 5 {
		t.Errorf("%d commits for %d empty wake-ups and one delivery: idle wake-ups write", n, wakes)
	}
}
