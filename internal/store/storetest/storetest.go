// Package storetest opens a real, empty store for a test: a SQLite file in
// the test's temp dir, or, when BOXWIRE_TEST_POSTGRES holds a postgres://
// URL, a fresh schema in that PostgreSQL database. The same tests thus run
// unchanged on both engines. An unreachable PostgreSQL fails the test: CI
// must never pass by skipping the database it was asked to use.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/postgres"
	"github.com/boxwire/boxwire/internal/store/sqlite"
)

// EnvPostgres names the variable that selects PostgreSQL.
const EnvPostgres = "BOXWIRE_TEST_POSTGRES"

// Engine is the engine tests run on: "sqlite" or "postgres".
func Engine() string {
	if os.Getenv(EnvPostgres) != "" {
		return "postgres"
	}
	return "sqlite"
}

// Open returns a migrated store that is closed when the test ends.
func Open(tb testing.TB, opts store.Options) *store.Store {
	tb.Helper()
	s, err := open(tb, Database(tb), opts)
	if err != nil {
		tb.Fatalf("open %s store: %v", Engine(), err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Reopen opens another store on the same database as a Database value.
func Reopen(tb testing.TB, database string, opts store.Options) *store.Store {
	tb.Helper()
	s, err := open(tb, database, opts)
	if err != nil {
		tb.Fatalf("reopen store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func open(tb testing.TB, database string, opts store.Options) (*store.Store, error) {
	ctx := context.Background()
	if strings.HasPrefix(database, "postgres") {
		return postgres.Open(ctx, database, opts)
	}
	return sqlite.Open(ctx, database, opts)
}

var schemaSeq atomic.Int64

// Database returns a fresh, empty database for the test, as a value for
// boxwire's --database flag: a postgres:// URL whose search_path is a new
// schema (dropped at cleanup), or a SQLite file path in a temp dir.
func Database(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		return filepath.Join(tb.TempDir(), "boxwire.db")
	}
	schema := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPostgres, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("PostgreSQL at %s is not usable (tests must not skip it): %v", postgres.Redact(base), err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenCounting opens a store whose committed write transactions Commits
// counts: tests check that work which should only read does not write.
func OpenCounting(tb testing.TB) (*store.Store, func() int) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	s := Open(tb, store.Options{Metrics: store.NewMetrics(reg)})
	return s, func() int {
		tb.Helper()
		families, err := reg.Gather()
		if err != nil {
			tb.Fatal(err)
		}
		n := 0
		for _, f := range families {
			if f.GetName() == "boxwire_store_commits_total" {
				for _, m := range f.GetMetric() {
					n += int(m.GetCounter().GetValue())
				}
			}
		}
		return n
	}
}

// NewBox writes an open public box and a new identity who created it, for
// tests that need a box to write events to. It returns the creator's id.
func NewBox(tb testing.TB, s *store.Store) (boxrules.Box, string) {
	tb.Helper()
	email := uuid.NewString() + "@example.com"
	creator := &identity.Identity{IdentifierValue: email, DisplayName: "User " + email, PasswordHash: "x"}
	b := boxrules.Box{ID: uuid.NewString(), Title: "t", PublicKey: "k", AccessMode: boxrules.Public, Lifecycle: boxrules.Open}
	err := s.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateIdentity(ctx, creator); err != nil {
			return err
		}
		b.CreatorID = creator.ID
		return tx.InsertBox(ctx, &b)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b, creator.ID
}
