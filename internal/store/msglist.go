package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/messaging"
)

// Filter narrows a messaging list. Empty fields do not filter; the
// zero times neither.
type Filter struct {
	Offset         int
	APIAccountID   string
	InboxID        string
	ContactID      string
	ConversationID string
	MobileNumber   string
	Name           string
	Folder         string
	UserID         string
	TeamID         string
	From, To       time.Time
}

// query is one list's SELECT, built up with its arguments.
type query struct {
	from  string // "contacts c"
	where strings.Builder
	args  []any
}

func newQuery(from, alias, accountCol string, r Reach) *query {
	q := &query{from: from}
	q.where.WriteString(" WHERE 1 = 1")
	q.where.WriteString(r.where(alias, accountCol, &q.args))
	return q
}

// eq adds "col = value" when value is set.
func (q *query) eq(col, value string) *query {
	if value != "" {
		q.where.WriteString(" AND " + col + " = " + arg(&q.args, value))
	}
	return q
}

// between bounds col (Unix micros) by the filter's dates.
func (q *query) between(col string, from, to time.Time) *query {
	if !from.IsZero() {
		q.where.WriteString(" AND " + col + " >= " + arg(&q.args, micros(from)))
	}
	if !to.IsZero() {
		q.where.WriteString(" AND " + col + " <= " + arg(&q.args, micros(to)))
	}
	return q
}

// page reads one page of the list, PageSize rows from offset, in
// creation order, and counts the whole list.
func (s *Store) page(ctx context.Context, q *query, cols, order string, offset int, scan func(*sql.Rows) error) (int, error) {
	var n int
	if err := s.rq.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+q.from+q.where.String(), q.args...).Scan(&n); err != nil {
		return 0, errs.Wrap(err, "count %s", q.from)
	}
	if offset >= n {
		return n, nil
	}
	args := append(q.args, messaging.PageSize, offset)
	rows, err := s.rq.QueryContext(ctx, `SELECT `+cols+` FROM `+q.from+q.where.String()+` ORDER BY `+order+
		` LIMIT $`+itoa(len(args)-1)+` OFFSET $`+itoa(len(args)), args...)
	if err != nil {
		return 0, errs.Wrap(err, "list %s", q.from)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return 0, err
		}
	}
	return n, errs.Wrap(rows.Err(), "list %s", q.from)
}

// one reads a single row of the query, NotFound naming what if none.
func (s *Store) one(ctx context.Context, qr querier, q *query, cols, what string, scan func(*sql.Row) error) error {
	err := scan(qr.QueryRowContext(ctx, `SELECT `+cols+` FROM `+q.from+q.where.String(), q.args...))
	if err == sql.ErrNoRows {
		return errs.E(errs.NotFound, "no such %s", what)
	}
	return errs.Wrap(err, "read %s", what)
}
