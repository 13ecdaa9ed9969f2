package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
)

// Append adds e to the journal inside this transaction and returns it
// with its position, id and time. The row is written before the
// transaction's next statement or its commit (pendingRows). After the
// commit it is handed to Options.Committed and its notice published.
// e.Payload must not change after the call.
func (t *Tx) Append(ctx context.Context, e journal.Entry) (journal.Entry, error) {
	if e.Scope == "" || e.Type == "" {
		return e, errs.E(errs.Internal, "journal entry needs a scope and a type")
	}
	if e.ID == "" {
		e.ID = newEntryID()
	}
	if len(e.Payload) == 0 {
		e.Payload = []byte("{}")
	}
	e.At = t.now
	var err error
	if e.Position, err = t.batch.nextPosition(ctx); err != nil {
		return e, err
	}
	t.batch.rows.journal = append(t.batch.rows.journal, []any{e.Position, e.ID, e.Scope, e.Type,
		nullString(e.ActorID), nullString(e.RefID), string(e.Payload), micros(e.At)})
	t.entries = append(t.entries, e)
	return e, nil
}

// ReadJournal returns committed entries after q.After in position order.
// Because writes are serialised by Dialect.LockWrites, a committed entry
// never appears below a position a reader has already passed.
func (s *Store) ReadJournal(ctx context.Context, q journal.Query) ([]journal.Entry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = journal.DefaultLimit
	}
	var b strings.Builder
	b.WriteString(`SELECT position, id, scope, type, actor_id, ref_id, payload, created_at FROM journal WHERE position > $1`)
	args := []any{q.After, limit}
	if q.Scopes != nil {
		if len(q.Scopes) == 0 {
			return nil, nil
		}
		b.WriteString(` AND scope IN (`)
		for i, sc := range q.Scopes {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, sc)
			b.WriteString("$" + strconv.Itoa(len(args)))
		}
		b.WriteString(`)`)
	}
	b.WriteString(` ORDER BY position LIMIT $2`)
	rows, err := s.rq.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, errs.Wrap(err, "read journal")
	}
	defer rows.Close()
	var out []journal.Entry
	for rows.Next() {
		var (
			e             journal.Entry
			actor, ref    sql.NullString
			payload       []byte
			createdMicros int64
		)
		if err := rows.Scan(&e.Position, &e.ID, &e.Scope, &e.Type, &actor, &ref, &payload, &createdMicros); err != nil {
			return nil, errs.Wrap(err, "scan journal")
		}
		e.ActorID, e.RefID, e.Payload, e.At = actor.String, ref.String, payload, fromMicros(createdMicros)
		out = append(out, e)
	}
	return out, errs.Wrap(rows.Err(), "read journal")
}

// JournalHead is the highest committed position, 0 for an empty journal.
func (s *Store) JournalHead(ctx context.Context) (int64, error) {
	var p int64
	err := s.rq.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM journal`).Scan(&p)
	return p, errs.Wrap(err, "journal head")
}

// nullString is s as a statement argument, NULL when empty. A plain string
// goes to the driver as it is; a sql.NullString would cost up to two
// allocations per argument (its boxing and its Value's), on every
// appended row.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// newEntryID is a time-ordered UUIDv7: entries are appended in time order,
// so their id index grows at its right edge instead of dirtying random
// pages of it.
func newEntryID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
