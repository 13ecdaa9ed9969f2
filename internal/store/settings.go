package store

import (
	"context"

	"github.com/boxwire/boxwire/internal/errs"
)

// Secret returns the server-wide secret called name, creating it with gen
// on first use. Several processes starting at once agree on one value,
// because the first insert wins and everyone reads back what is stored.
// The settings table holds only such secrets: it is sealed at rest.
func (s *Store) Secret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	var value string
	err := s.Write(ctx, func(ctx context.Context, tx *Tx) error {
		fresh, err := gen()
		if err != nil {
			return err
		}
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			name, s.seal(fresh, settingWhere(name))); err != nil {
			return err
		}
		if err := tx.q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&value); err != nil {
			return err
		}
		value, err = s.open(value, settingWhere(name))
		return err
	})
	return value, errs.Wrap(err, "secret %s", name)
}
