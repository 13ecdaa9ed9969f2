package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/boxwire/boxwire/internal/errs"
)

type migration struct {
	version int
	name    string
	sql     string
}

// shared are the migrations written once for both engines; a dialect's
// own (Dialect.Migrations) hold only what the engines spell differently.
//
//go:embed migrations/*.sql
var shared embed.FS

// migrations are the shared and the dialect's migrations, by version. A
// version defined twice is refused: which one ran would depend on order.
func (s *Store) migrations() ([]migration, error) {
	sharedFS, err := fs.Sub(shared, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, fsys := range []fs.FS{sharedFS, s.dialect.Migrations()} {
		found, err := readMigrations(fsys)
		if err != nil {
			return nil, err
		}
		for _, m := range found {
			if f, ok := s.dialect.(migrationFilter); ok && !f.KeepMigration(m.name) {
				continue
			}
			if other, dup := seen[m.version]; dup {
				return nil, fmt.Errorf("migrations %s and %s have the same version", other, m.name)
			}
			seen[m.version] = m.name
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrationFilter is a dialect that runs only some migrations: a test's,
// making the database an older binary left.
type migrationFilter interface {
	KeepMigration(name string) bool
}

func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// migrate applies the missing migrations in one transaction, under the
// dialect's write lock so that several processes starting together agree.
// A database newer than this binary is refused rather than touched.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return errs.Wrap(err, "begin migration")
	}
	defer tx.Rollback()
	if err := s.dialect.LockWrites(ctx, tx); err != nil {
		return errs.Wrap(err, "lock for migration")
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return errs.Wrap(err, "create schema_migrations")
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return errs.Wrap(err, "read schema version")
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade boxwire", current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, micros(s.opts.Now())); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	return tx.Commit()
}

// SchemaVersion is the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
