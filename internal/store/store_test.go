package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

var ctx = context.Background()

func newIdentity(email string) *identity.Identity {
	return &identity.Identity{IdentifierValue: email, DisplayName: "User " + email, PasswordHash: "x"}
}

func TestIdentitiesAndConflicts(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	alice := newIdentity("alice@example.com")
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.CreateIdentity(ctx, alice) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.IdentityByIdentifier(ctx, "alice@example.com")
	if err != nil || got.ID != alice.ID || got.DisplayName != "User alice@example.com" || got.IdentifierKind != "email" {
		t.Fatalf("read back %+v, %v", got, err)
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.CreateIdentity(ctx, newIdentity("alice@example.com"))
	})
	if e := errs.As(err); e.Code != errs.Conflict || e.Fields["identifier_value"] != errs.Conflicts {
		t.Fatalf("duplicate identifier: got %v, want conflict on identifier_value", err)
	}
	if _, err := s.IdentityByID(ctx, "00000000-0000-0000-0000-000000000000"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestOrgMembership(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	bob := newIdentity("bob@example.com")
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateIdentity(ctx, bob); err != nil {
			return err
		}
		org, err := tx.EnsureOrg(ctx, "Acme")
		if err != nil {
			return err
		}
		again, err := tx.EnsureOrg(ctx, "Acme")
		if err != nil || again != org {
			return fmt.Errorf("EnsureOrg twice gave %q and %q (%v)", org, again, err)
		}
		if err := tx.SetMember(ctx, org, bob.ID, identity.Agent); err != nil {
			return err
		}
		return tx.SetMember(ctx, org, bob.ID, identity.Admin) // a role change, not a duplicate
	})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := s.Memberships(ctx, bob.ID)
	if err != nil || len(ms) != 1 || ms[0].OrgName != "Acme" || ms[0].Role != identity.Admin {
		t.Fatalf("memberships %+v, %v", ms, err)
	}
}

func TestSessionsExpireAndRevoke(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := storetest.Open(t, store.Options{Now: func() time.Time { return now }})
	carol := newIdentity("carol@example.com")
	sess := &store.Session{ID: "s1", CallingApp: "test", RefreshHash: "h1", ExpiresAt: now.Add(time.Hour)}
	err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateIdentity(ctx, carol); err != nil {
			return err
		}
		sess.IdentityID = carol.ID
		return tx.CreateSession(ctx, sess)
	})
	if err != nil {
		t.Fatal(err)
	}
	if i, err := s.SessionIdentity(ctx, "s1", carol.ID, now); err != nil || i.ID != carol.ID {
		t.Fatalf("live session: %v", err)
	}
	if _, err := s.SessionIdentity(ctx, "s1", "someone-else", now); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("session of another identity: %v", err)
	}
	if _, err := s.SessionIdentity(ctx, "s1", carol.ID, now.Add(2*time.Hour)); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("expired session: %v", err)
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.RotateRefresh(ctx, "s1", "h1", "h2", now.Add(time.Hour)); err != nil {
			return err
		}
		got, err := tx.SessionByID(ctx, "s1")
		if err != nil || got.RefreshHash != "h2" || got.PrevRefreshHash != "h1" {
			return fmt.Errorf("after rotation %+v, %v", got, err)
		}
		return tx.RevokeSession(ctx, "s1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionIdentity(ctx, "s1", carol.ID, now); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("revoked session: %v", err)
	}
}

func TestSecretIsCreatedOnceAndKept(t *testing.T) {
	db := storetest.Database(t)
	a := storetest.Reopen(t, db, store.Options{})
	b := storetest.Reopen(t, db, store.Options{})
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			v, err := s.Secret(ctx, "k", func() (string, error) { return fmt.Sprintf("v%d", i), nil })
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] || v == "" {
			t.Fatalf("processes disagree on the secret: %v", got)
		}
	}
}

func TestMigrationsAreIdempotentAndGuarded(t *testing.T) {
	db := storetest.Database(t)
	s := storetest.Reopen(t, db, store.Options{})
	v1, err := s.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("schema version %d, %v", v1, err)
	}
	again := storetest.Reopen(t, db, store.Options{})
	if v2, _ := again.SchemaVersion(ctx); v2 != v1 {
		t.Fatalf("reopening changed the schema version from %d to %d", v1, v2)
	}
	// A database written by a newer binary must be refused, not modified.
	if err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.ExecForTest(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`)
	}); err != nil {
		t.Fatal(err)
	}
	_, err = storetestOpen(db)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

func TestWriteFailuresAndPanicsAreIsolated(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	var wg sync.WaitGroup
	results := make([]error, 40)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				if err := tx.CreateIdentity(ctx, newIdentity(fmt.Sprintf("u%d@example.com", i))); err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					return errs.E(errs.Invalid, "refused")
				case 2:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range results {
		_, readErr := s.IdentityByIdentifier(ctx, fmt.Sprintf("u%d@example.com", i))
		switch i % 4 {
		case 1, 2:
			if err == nil || readErr == nil {
				t.Errorf("write %d failed (%v) but its identity exists (%v)", i, err, readErr)
			}
		default:
			if err != nil || readErr != nil {
				t.Errorf("write %d: %v, read back: %v", i, err, readErr)
			}
		}
	}
	if errs.CodeOf(results[2]) != errs.Internal {
		t.Errorf("a panicking write should be internal, got %v", results[2])
	}
}

// TestJournalFollowersSeeEveryCommittedEntryOnce is DESIGN §1's rule under
// load: many writers on two store instances (two processes or nodes on one
// database), some of them failing after they appended, and followers that
// read by position. Every acknowledged entry must be seen exactly once, in
// position order, and no entry of a failed write ever.
func TestJournalFollowersSeeEveryCommittedEntryOnce(t *testing.T) {
	const writers, writesEach = 24, 40
	db := storetest.Database(t)
	wake := make(chan journal.Notice, 1)
	publish := func(_ context.Context, ns []journal.Notice) {
		select {
		case wake <- ns[len(ns)-1]:
		default:
		}
	}
	// Node A also hands its commits to the follower, as to a server's hub:
	// with node B's entries in between, many of its batches leave gaps.
	committed := make(chan []journal.Entry, 4)
	handOver := func(es []journal.Entry) {
		select {
		case committed <- es:
		default:
		}
	}
	reg := prometheus.NewRegistry()
	metrics := store.NewMetrics(reg)
	nodeA := storetest.Reopen(t, db, store.Options{Publish: publish, Committed: handOver, Metrics: metrics})
	nodeB := storetest.Reopen(t, db, store.Options{Publish: publish})

	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		mu       sync.Mutex
		seen     []journal.Entry
		followed = make(chan error, 1)
	)
	go func() {
		followed <- journal.Follow(followCtx, nodeA, journal.Wake{Notices: wake, Committed: committed}, journal.Query{Limit: 7}, func(e journal.Entry) error {
			mu.Lock()
			seen = append(seen, e)
			mu.Unlock()
			return nil
		})
	}()

	var (
		wg     sync.WaitGroup
		ackMu  sync.Mutex
		acked  = map[string]bool{}
		failed = map[string]bool{}
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := nodeA
			if w%2 == 1 {
				s = nodeB
			}
			for i := range writesEach {
				var ids []string
				fail := (w+i)%5 == 0
				err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					ids = ids[:0]
					for k := range 1 + i%3 {
						payload, _ := json.Marshal(map[string]int{"w": w, "i": i, "k": k})
						e, err := tx.Append(ctx, journal.Entry{Scope: fmt.Sprintf("box-%d", w%3), Type: "test.write", Payload: payload})
						if err != nil {
							return err
						}
						ids = append(ids, e.ID)
					}
					if fail {
						return errors.New("writer gave up after appending")
					}
					return nil
				})
				ackMu.Lock()
				for _, id := range ids {
					if err == nil {
						acked[id] = true
					} else {
						failed[id] = true
					}
				}
				ackMu.Unlock()
				if (err != nil) != fail {
					t.Errorf("writer %d write %d: %v", w, i, err)
				}
			}
		}()
	}
	wg.Wait()

	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= len(acked) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-followed; !errors.Is(err, context.Canceled) {
		t.Fatalf("follower stopped with %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	for i, e := range seen {
		count[e.ID]++
		if i > 0 && e.Position <= seen[i-1].Position {
			t.Fatalf("positions out of order: %d after %d", e.Position, seen[i-1].Position)
		}
		if failed[e.ID] {
			t.Fatalf("follower saw entry %s of a failed write", e.ID)
		}
	}
	for id := range acked {
		if count[id] != 1 {
			t.Errorf("acknowledged entry %s seen %d times", id, count[id])
		}
	}
	if len(seen) != len(acked) {
		t.Errorf("follower saw %d entries, %d were acknowledged", len(seen), len(acked))
	}
	if len(failed) == 0 || len(acked) == 0 {
		t.Fatal("the test wrote no failing or no succeeding entries")
	}

	// Concurrent writers are gathered into shared transactions.
	h := histogramOf(t, reg, "boxwire_store_commit_batch_size")
	if avg := h.sum / float64(h.count); avg <= 1.2 {
		t.Errorf("average batch %.2f writes: group commit is not gathering concurrent writes", avg)
	}

	// Reading one scope returns only that scope, still in order.
	entries, err := nodeB.ReadJournal(ctx, journal.Query{Scopes: []string{"box-1"}, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Scope != "box-1" {
			t.Fatalf("scope filter returned %q", e.Scope)
		}
	}
	if len(entries) == 0 {
		t.Fatal("scope box-1 has no entries")
	}
	head, err := nodeA.JournalHead(ctx)
	if err != nil || head != seen[len(seen)-1].Position {
		t.Fatalf("head %d (%v), last seen %d", head, err, seen[len(seen)-1].Position)
	}
}

// TestCommittedEntriesAreWhatAReadReturns: the entries a commit hands over
// are exactly those a reader of the journal would get, payload bytes and
// time included, and none of a failed write. PostgreSQL rewrites payloads
// into JSONB, so there nothing is handed over.
func TestCommittedEntriesAreWhatAReadReturns(t *testing.T) {
	var (
		mu      sync.Mutex
		handed  []journal.Entry
		batches int
	)
	s := storetest.Open(t, store.Options{Committed: func(es []journal.Entry) {
		mu.Lock()
		defer mu.Unlock()
		handed = append(handed, es...)
		batches++
	}})
	var wg sync.WaitGroup
	for w := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				for k := range 1 + w%2 {
					// Spacing and key order that a JSON parser would not keep.
					payload := fmt.Sprintf(`{ "w": %d,  "k": %d, "a": [1, 2] }`, w, k)
					if _, err := tx.Append(ctx, journal.Entry{Scope: fmt.Sprintf("box-%d", w%3), Type: "test.write",
						ActorID: "someone", RefID: "other", Payload: json.RawMessage(payload)}); err != nil {
						return err
					}
				}
				if w%4 == 3 {
					return errors.New("gave up after appending")
				}
				return nil
			})
			if (err != nil) != (w%4 == 3) {
				t.Errorf("write %d: %v", w, err)
			}
		}()
	}
	wg.Wait() // every batch was handed over before its writers were answered
	stored, err := s.ReadJournal(ctx, journal.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if storetest.Engine() == "postgres" {
		if len(handed) != 0 {
			t.Fatalf("PostgreSQL handed over %d entries; their payloads differ from what it stores", len(handed))
		}
		return
	}
	var want int
	for w := range 30 {
		if w%4 != 3 {
			want += 1 + w%2
		}
	}
	if len(stored) != want {
		t.Fatalf("journal holds %d entries, want %d", len(stored), want)
	}
	if !reflect.DeepEqual(handed, stored) {
		t.Fatalf("handed over %d entries in %d batches, unlike the %d read back:\nhanded %+v\nstored %+v", len(handed), batches, len(stored), handed, stored)
	}
}

type histogram struct {
	sum   float64
	count uint64
}

func histogramOf(t *testing.T, reg *prometheus.Registry, name string) histogram {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return histogram{sum: h.GetSampleSum(), count: h.GetSampleCount()}
		}
	}
	t.Fatalf("no metric %s", name)
	return histogram{}
}

func BenchmarkJournalAppend(b *testing.B) {
	s := storetest.Open(b, store.Options{})
	payload := []byte(`{"encrypted":"UrxdLg+Z5cyeRMz8/zk2aKxRlW9jwKf9FPskm8QO8EeiSm3B+Hj3JbvTdCnbsLVB8bjVC","public_key":"SXvalkvhuhcj2UiaS4d0Q3OeuHOhMVeQT7ZGfCH2YCw"}`)
	b.SetParallelism(32) // 32 × GOMAXPROCS concurrent appenders, like a busy server
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.Append(ctx, journal.Entry{Scope: "bench", Type: "msg.text", Payload: payload})
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

func storetestOpen(database string) (*store.Store, error) {
	if strings.HasPrefix(database, "postgres") {
		return postgresOpen(database)
	}
	return sqliteOpen(database)
}

// TestWritesRacingCloseAllGetAnAnswer: a Write during Close either
// commits or is refused; none waits forever.
func TestWritesRacingCloseAllGetAnAnswer(t *testing.T) {
	db := storetest.Database(t)
	for round := range 20 {
		s, err := storetestOpen(db)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					err := s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
						_, err := tx.Append(ctx, journal.Entry{Scope: fmt.Sprintf("r%d", round), Type: "t"})
						return err
					})
					if err != nil {
						if !strings.Contains(err.Error(), "closed") {
							t.Errorf("writer %d: %v", w, err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Millisecond * time.Duration(round%5))
		s.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: a Write during Close never returned", round)
		}
	}
}

// TestStatementsFindTheirRowsByKey: editing, deleting or revoking one
// event reads that event's row, and listing an identity's boxes reads
// that identity's boxes, never every event or box of the server, on either
// engine (sequential scans here made an edit cost as much as the whole
// history, and a box list as much as every tenant's boxes).
func TestStatementsFindTheirRowsByKey(t *testing.T) {
	s := storetest.Open(t, store.Options{})
	param := regexp.MustCompile(`\$(\d+)`)
	sqliteScan := regexp.MustCompile(`SCAN (\w+)( USING)?`)
	for _, q := range store.KeyedStatementsForTest() {
		n := 0
		for _, m := range param.FindAllStringSubmatch(q, -1) {
			k, _ := strconv.Atoi(m[1])
			n = max(n, k)
		}
		args := make([]any, n) // NULLs, but the key: a NULL key would be planned as no row at all
		args[0] = "0b7e2f2c-7d1a-4c55-9f3e-2d7f8e0a6b11"
		plan, err := s.PlanForTest(ctx, q, args...)
		if err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		scans := strings.Contains(plan, "Seq Scan on")
		for _, m := range sqliteScan.FindAllStringSubmatch(plan, -1) {
			scans = scans || m[2] == ""
		}
		if scans {
			t.Errorf("%s reads a whole table:\n%s", q, plan)
		}
	}
}
