package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/messaging"
)

type scanner interface{ Scan(...any) error }

const accountCols = `a.id, a.org_id, a.name, a.phone_number, a.channel, a.settings, a.created_at`

func scanAccount(row scanner, a *messaging.APIAccount) error {
	var settings string
	var created int64
	if err := row.Scan(&a.APIAccountID, &a.OrgID, &a.Name, &a.PhoneNumber, &a.Channel, &settings, &created); err != nil {
		return err
	}
	a.DateTime = fromMicros(created)
	return json.Unmarshal([]byte(settings), &a.Settings)
}

// CreateAPIAccount stores a, assigning its id and time. A phone number
// already used in the organisation is a Conflict on phoneNumber.
func (t *Tx) CreateAPIAccount(ctx context.Context, a *messaging.APIAccount) error {
	a.APIAccountID, a.DateTime = uuid.NewString(), t.now
	settings, _ := json.Marshal(a.Settings)
	_, err := t.q.ExecContext(ctx, `INSERT INTO api_accounts (id, org_id, name, phone_number, channel, settings, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.APIAccountID, a.OrgID, a.Name, a.PhoneNumber, a.Channel, string(settings), micros(a.DateTime))
	return errs.Wrap(t.store.conflict(err, "phoneNumber", "an API account with this phone number already exists"), "create api account")
}

// UpdateAPIAccount stores a's name, number, channel and settings.
func (t *Tx) UpdateAPIAccount(ctx context.Context, a messaging.APIAccount) error {
	settings, _ := json.Marshal(a.Settings)
	_, err := t.q.ExecContext(ctx, `UPDATE api_accounts SET name = $3, phone_number = $4, channel = $5, settings = $6
		WHERE id = $1 AND org_id = $2`, a.APIAccountID, a.OrgID, a.Name, a.PhoneNumber, a.Channel, string(settings))
	return errs.Wrap(t.store.conflict(err, "phoneNumber", "an API account with this phone number already exists"), "update api account")
}

// APIAccount reads one API account within r.
func (s *Store) APIAccount(ctx context.Context, r Reach, id string) (messaging.APIAccount, error) {
	return s.apiAccount(ctx, s.rq, r, id)
}

// APIAccount reads one API account within r in the transaction, for a
// change that starts from its current state.
func (t *Tx) APIAccount(ctx context.Context, r Reach, id string) (messaging.APIAccount, error) {
	return t.store.apiAccount(ctx, t.q, r, id)
}

func (s *Store) apiAccount(ctx context.Context, qr querier, r Reach, id string) (messaging.APIAccount, error) {
	var a messaging.APIAccount
	q := newQuery("api_accounts a", "a.", "a.id", r).eq("a.id", id)
	err := s.one(ctx, qr, q, accountCols, "API account", func(row *sql.Row) error { return scanAccount(row, &a) })
	return a, err
}

// APIAccountByID reads an API account of any organisation: for the
// channel callbacks and the sender, which act for no user.
func (s *Store) APIAccountByID(ctx context.Context, id string) (messaging.APIAccount, error) {
	var a messaging.APIAccount
	q := &query{from: "api_accounts a"}
	q.where.WriteString(" WHERE a.id = " + arg(&q.args, id))
	err := s.one(ctx, s.rq, q, accountCols, "API account", func(row *sql.Row) error { return scanAccount(row, &a) })
	return a, err
}

// APIAccounts lists the API accounts within r.
func (s *Store) APIAccounts(ctx context.Context, r Reach, f Filter) ([]messaging.APIAccount, int, error) {
	var out []messaging.APIAccount
	q := newQuery("api_accounts a", "a.", "a.id", r)
	n, err := s.page(ctx, q, accountCols, "a.created_at, a.id", f.Offset, func(rows *sql.Rows) error {
		var a messaging.APIAccount
		err := scanAccount(rows, &a)
		out = append(out, a)
		return err
	})
	return out, n, err
}

const inboxCols = `x.id, x.org_id, x.api_account_id, x.name, x.created_at`

func scanInbox(row scanner, in *messaging.Inbox) error {
	var created int64
	err := row.Scan(&in.InboxID, &in.OrgID, &in.APIAccountID, &in.Name, &created)
	in.DateTime = fromMicros(created)
	in.Datetime = in.DateTime
	return err
}

// CreateInbox stores in, assigning its id and time.
func (t *Tx) CreateInbox(ctx context.Context, in *messaging.Inbox) error {
	in.InboxID, in.DateTime, in.Datetime = uuid.NewString(), t.now, t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO inboxes (id, org_id, api_account_id, name, created_at) VALUES ($1, $2, $3, $4, $5)`,
		in.InboxID, in.OrgID, in.APIAccountID, in.Name, micros(in.DateTime))
	return errs.Wrap(err, "create inbox")
}

// UpdateInbox stores in's name and API account.
func (t *Tx) UpdateInbox(ctx context.Context, in messaging.Inbox) error {
	_, err := t.q.ExecContext(ctx, `UPDATE inboxes SET name = $3, api_account_id = $4 WHERE id = $1 AND org_id = $2`,
		in.InboxID, in.OrgID, in.Name, in.APIAccountID)
	return errs.Wrap(err, "update inbox")
}

// Inbox reads one inbox within r.
func (s *Store) Inbox(ctx context.Context, r Reach, id string) (messaging.Inbox, error) {
	return s.inbox(ctx, s.rq, r, id)
}

// Inbox reads one inbox within r in the transaction.
func (t *Tx) Inbox(ctx context.Context, r Reach, id string) (messaging.Inbox, error) {
	return t.store.inbox(ctx, t.q, r, id)
}

func (s *Store) inbox(ctx context.Context, qr querier, r Reach, id string) (messaging.Inbox, error) {
	var in messaging.Inbox
	q := newQuery("inboxes x", "x.", "x.api_account_id", r).eq("x.id", id)
	err := s.one(ctx, qr, q, inboxCols, "inbox", func(row *sql.Row) error { return scanInbox(row, &in) })
	return in, err
}

// Inboxes lists the inboxes within r.
func (s *Store) Inboxes(ctx context.Context, r Reach, f Filter) ([]messaging.Inbox, int, error) {
	var out []messaging.Inbox
	q := newQuery("inboxes x", "x.", "x.api_account_id", r).eq("x.api_account_id", f.APIAccountID)
	n, err := s.page(ctx, q, inboxCols, "x.created_at, x.id", f.Offset, func(rows *sql.Rows) error {
		var in messaging.Inbox
		err := scanInbox(rows, &in)
		out = append(out, in)
		return err
	})
	return out, n, err
}

// AccountIDs lists the ids of the API accounts within r.
func (s *Store) AccountIDs(ctx context.Context, r Reach) ([]string, error) {
	q := newQuery("api_accounts a", "a.", "a.id", r)
	var ids []string
	err := s.eachRow(ctx, `SELECT a.id FROM `+q.from+q.where.String(), q.args, func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		ids = append(ids, id)
		return err
	})
	return ids, err
}
