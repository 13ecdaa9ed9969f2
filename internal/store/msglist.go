package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
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

// inbox keeps the records of the API account an inbox belongs to.
func (q *query) inbox(accountCol, inboxID string) *query {
	if inboxID != "" {
		q.where.WriteString(" AND " + accountCol + " IN (SELECT api_account_id FROM inboxes WHERE id = " + arg(&q.args, inboxID) + ")")
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

// table says how one kind of messaging record is read: its FROM clause
// (with joins), the alias whose org_id confines it, the API account
// column reach filters on, its columns, list order and scanner.
type table[T any] struct {
	from, alias, accountCol string
	cols, order, what       string
	scan                    func(scanner, *T) error
}

// within starts a query of the records r reaches.
func (tb table[T]) within(r Reach) *query { return newQuery(tb.from, tb.alias, tb.accountCol, r) }

// anyOrg starts a query of every organisation's records, for the work
// done for no user (channel callbacks, the sender).
func (tb table[T]) anyOrg() *query {
	q := &query{from: tb.from}
	q.where.WriteString(" WHERE 1 = 1")
	return q
}

// one reads the query's single record; NotFound names the record if none.
func (tb table[T]) one(ctx context.Context, qr querier, q *query) (T, error) {
	var v T
	err := tb.scan(qr.QueryRowContext(ctx, `SELECT `+tb.cols+` FROM `+q.from+q.where.String(), q.args...), &v)
	if err == sql.ErrNoRows {
		return v, errs.E(errs.NotFound, "no such %s", tb.what)
	}
	return v, errs.Wrap(err, "read %s", tb.what)
}

// page reads one page of the query's records, PageSize from offset in
// the table's order, and counts them all.
func (tb table[T]) page(ctx context.Context, qr querier, q *query, offset int) ([]T, int, error) {
	var n int
	if err := qr.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+q.from+q.where.String(), q.args...).Scan(&n); err != nil {
		return nil, 0, errs.Wrap(err, "count %s", tb.what)
	}
	if offset >= n {
		return nil, n, nil
	}
	args := append(q.args, msgrules.PageSize, offset)
	out, err := tb.rows(ctx, qr, ` ORDER BY `+tb.order+` LIMIT $`+itoa(len(args)-1)+` OFFSET $`+itoa(len(args)), q, args)
	return out, n, err
}

// all reads every record of the query, in the table's order.
func (tb table[T]) all(ctx context.Context, qr querier, q *query) ([]T, error) {
	return tb.rows(ctx, qr, ` ORDER BY `+tb.order, q, q.args)
}

// rows reads the records of the query followed by tail, with args.
func (tb table[T]) rows(ctx context.Context, qr querier, tail string, q *query, args []any) ([]T, error) {
	rows, err := qr.QueryContext(ctx, `SELECT `+tb.cols+` FROM `+q.from+q.where.String()+tail, args...)
	if err != nil {
		return nil, errs.Wrap(err, "list %s", tb.what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := tb.scan(rows, &v); err != nil {
			return nil, errs.Wrap(err, "read %s", tb.what)
		}
		out = append(out, v)
	}
	return out, errs.Wrap(rows.Err(), "list %s", tb.what)
}
