// Package postgres is the store for several nodes: PostgreSQL through pgx.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/boxwire/boxwire/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

type dialect struct{}

func (dialect) Name() string { return "postgres" }

func (dialect) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// LockWrites takes a transaction-scoped advisory lock. PostgreSQL can
// commit transactions out of the order in which they drew positions; with
// every write batch holding this lock until commit, on every node, a
// reader that has seen position p will never later find a smaller one.
// Group commit keeps the cost of this to one lock per batch. The key is
// per schema, so separate Boxwire databases in one cluster do not contend.
func (dialect) LockWrites(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('boxwire.writes.' || current_schema()))`)
	return err
}

// CacheStatements: pgx already caches prepared statements per connection.
func (dialect) CacheStatements() bool { return false }

// MaxRowsPerInsert: each INSERT is a round trip; 64 rows of box_events
// are 640 parameters, far below the protocol's 65,535.
func (dialect) MaxRowsPerInsert() int { return 64 }

// BindsByPosition: pgx takes $N only.
func (dialect) BindsByPosition() bool { return false }

// KeepsPayloads: JSONB stores a parsed form, so a payload reads back with
// its keys and spacing rewritten.
func (dialect) KeepsPayloads() bool { return false }

func (dialect) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// Open connects to the database at dsn (postgres://…) and checks it answers.
func Open(ctx context.Context, dsn string, opts store.Options) (*store.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s: %w", Redact(dsn), err)
	}
	opts.Description = "postgres " + Redact(dsn)
	return store.Open(ctx, dialect{}, db, db, opts)
}

// Redact hides the password in a connection URL for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}
