package store

import (
	"context"
	"fmt"
	"strings"
)

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

// KeyedStatementsForTest are statements that must reach their rows
// through an index: those that change one event found by its id, an
// identity's list of boxes, and the deletes that clear what points at an
// identity, a team or a template.
func KeyedStatementsForTest() []string {
	return []string{foldEditSQL, foldDeleteSQL, accessRemovedSQL, joinedBoxesSQL, countJoinedSQL,
		templateBroadcastsSQL, deleteTemplateSQL, deleteTeamSQL, unassignConversationsSQL}
}

// PlanForTest is the engine's query plan of q, one line per row of
// EXPLAIN (SQLite: EXPLAIN QUERY PLAN), its columns joined by spaces.
func (s *Store) PlanForTest(ctx context.Context, q string, args ...any) (string, error) {
	explain := "EXPLAIN "
	if s.dialect.Name() == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.rq.QueryContext(ctx, explain+q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var plan strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for _, v := range vals {
			fmt.Fprintf(&plan, "%v ", v)
		}
		plan.WriteString("\n")
	}
	return plan.String(), rows.Err()
}
