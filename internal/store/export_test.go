package store

import "context"

// ExecForTest runs a raw statement; tests use it to fake states a real
// server never reaches (a schema from the future).
func (t *Tx) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, q, args...)
	return err
}
