package store

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/boxwire/boxwire/internal/errs"
)

// pendingRows are the journal and box_events rows a batch has appended but
// not yet written. Appends are deferred: nothing a job can do makes them
// fail once its rules have passed (ids are the server's, positions are
// given out under the write lock), so they are written together before
// the next statement that could see them, or before the commit. A batch
// of appends to one box then costs a few multi-row INSERTs instead of two
// statements and a savepoint per append, and on PostgreSQL a few round
// trips per batch instead of four per append.
type pendingRows struct {
	journal [][]any // journalRowColumns, in position order
	events  [][]any // eventRowColumns, in position order
	// written counts what has been written of each.
	journalWritten, eventsWritten int
}

const (
	journalRowColumns = "position, id, scope, type, actor_id, ref_id, payload, created_at"
	eventRowColumns   = "position, id, box_id, type, listed, sender_id, referrer_id, content, file_id, created_at"
)

// mark is where the rows of the job about to run begin.
type rowMark struct{ journal, events int }

func (p *pendingRows) mark() rowMark { return rowMark{len(p.journal), len(p.events)} }

// drop forgets the rows from m on, those of a job that failed; written is
// what the transaction still holds of them.
func (p *pendingRows) drop(m rowMark, written rowMark) {
	p.journal, p.events = p.journal[:m.journal], p.events[:m.events]
	p.journalWritten, p.eventsWritten = min(p.journalWritten, written.journal), min(p.eventsWritten, written.events)
}

// write writes the rows before upto that are not yet written, in the
// dialect's multi-row INSERTs.
func (p *pendingRows) write(ctx context.Context, q querier, upto rowMark, d Dialect) error {
	if err := insertRows(ctx, q, "journal", journalRowColumns, p.journal[p.journalWritten:upto.journal], d); err != nil {
		return errs.Wrap(err, "append to journal")
	}
	p.journalWritten = max(p.journalWritten, upto.journal)
	if err := insertRows(ctx, q, "box_events", eventRowColumns, p.events[p.eventsWritten:upto.events], d); err != nil {
		return errs.Wrap(err, "insert box event")
	}
	p.eventsWritten = max(p.eventsWritten, upto.events)
	return nil
}

// insertRows inserts rows with multi-row INSERTs of d.MaxRowsPerInsert(),
// half that, … 1 rows (a power of two), so that few statement texts exist
// for the statement caches to keep.
func insertRows(ctx context.Context, q querier, table, columns string, rows [][]any, d Dialect) error {
	for len(rows) > 0 {
		n := chunk(len(rows), d.MaxRowsPerInsert())
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := q.ExecContext(ctx, insertText(table, columns, len(rows[0]), n, d.BindsByPosition()), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// chunk is the largest power of two, at most maxRows, not above n.
func chunk(n, maxRows int) int {
	c := maxRows
	for c > n {
		c /= 2
	}
	return c
}

// insertTexts holds the INSERT texts by insertKey.
var insertTexts sync.Map

type insertKey struct {
	table      string
	n          int
	positional bool
}

// insertText is INSERT INTO table (columns) VALUES ($1, …), … for n rows
// of width columns, with ? for each $N if positional.
func insertText(table, columns string, width, n int, positional bool) string {
	key := insertKey{table, n, positional}
	if s, ok := insertTexts.Load(key); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			if positional {
				b.WriteByte('?')
			} else {
				b.WriteString("$" + strconv.Itoa(r*width+c+1))
			}
		}
		b.WriteByte(')')
	}
	insertTexts.Store(key, b.String())
	return b.String()
}
