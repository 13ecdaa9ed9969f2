package store

import "context"

// ExecForTest runs a raw statement; tests use it to fake states a real
// server never reaches (a schema from the future).
func (t *Tx) ExecForTest(ctx context.Context, q string, args ...any) error {
	*t.memo = boxMemo{} // the statement may change anything
	_, err := t.q.ExecContext(ctx, q, args...)
	return err
}

// QueuedWrites is how many Writes wait for the committer.
func (s *Store) QueuedWrites() int { return len(s.jobs) }

// BlobReferenceColumns lists blobReferences as "table.column".
func BlobReferenceColumns() []string {
	var out []string
	for _, r := range blobReferences {
		out = append(out, r.table+"."+r.column)
	}
	return out
}

// ColumnForTest reads the one text column of a raw query.
func (s *Store) ColumnForTest(ctx context.Context, q string, args ...any) ([]string, error) {
	return column(ctx, s.rq, q, args...)
}
