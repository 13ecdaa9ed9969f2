package store

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

type scanner interface{ Scan(...any) error }

const accountCols = `a.id, a.org_id, a.name, a.phone_number, a.channel, a.settings, a.created_at`

func scanAccount(row scanner, a *msgrules.APIAccount) error {
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
func (t *Tx) CreateAPIAccount(ctx context.Context, a *msgrules.APIAccount) error {
	a.APIAccountID, a.DateTime = uuid.NewString(), t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO api_accounts (id, org_id, name, phone_number, channel, settings, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.APIAccountID, a.OrgID, a.Name, a.PhoneNumber, a.Channel, t.store.sealedSettings(*a), micros(a.DateTime))
	return errs.Wrap(t.store.conflict(err, "phoneNumber", "an API account with this phone number already exists"), "create api account")
}

// UpdateAPIAccount stores a's name, number, channel and settings.
func (t *Tx) UpdateAPIAccount(ctx context.Context, a msgrules.APIAccount) error {
	_, err := t.q.ExecContext(ctx, `UPDATE api_accounts SET name = $3, phone_number = $4, channel = $5, settings = $6
		WHERE id = $1 AND org_id = $2`, a.APIAccountID, a.OrgID, a.Name, a.PhoneNumber, a.Channel, t.store.sealedSettings(a))
	return errs.Wrap(t.store.conflict(err, "phoneNumber", "an API account with this phone number already exists"), "update api account")
}

// accounts are API accounts; reach filters them by their own id.
var accounts = table[msgrules.APIAccount]{from: "api_accounts a", alias: "a.", accountCol: "a.id",
	cols: accountCols, order: "a.created_at, a.id", what: "API account", scan: scanAccount}

// APIAccount reads one API account within r.
func (s *Store) APIAccount(ctx context.Context, r Reach, id string) (msgrules.APIAccount, error) {
	return s.openAccount(accounts.one(ctx, s.rq, accounts.within(r).eq("a.id", id)))
}

// APIAccount reads one API account within r in the transaction, for a
// change that starts from its current state.
func (t *Tx) APIAccount(ctx context.Context, r Reach, id string) (msgrules.APIAccount, error) {
	return t.store.openAccount(accounts.one(ctx, t.q, accounts.within(r).eq("a.id", id)))
}

// APIAccountByID reads an API account of any organisation: for the
// channel callbacks and the sender, which act for no user.
func (s *Store) APIAccountByID(ctx context.Context, id string) (msgrules.APIAccount, error) {
	return s.openAccount(accounts.one(ctx, s.rq, accounts.anyOrg().eq("a.id", id)))
}

// APIAccounts lists the API accounts within r.
func (s *Store) APIAccounts(ctx context.Context, r Reach, f Filter) ([]msgrules.APIAccount, int, error) {
	list, n, err := accounts.page(ctx, s.rq, accounts.within(r), f.Offset)
	list, err = openAll(list, err, s.openAccount)
	return list, n, err
}

const inboxCols = `x.id, x.org_id, x.api_account_id, x.name, x.created_at`

func scanInbox(row scanner, in *msgrules.Inbox) error {
	var created int64
	err := row.Scan(&in.InboxID, &in.OrgID, &in.APIAccountID, &in.Name, &created)
	in.DateTime = fromMicros(created)
	in.Datetime = in.DateTime
	return err
}

// CreateInbox stores in, assigning its id and time.
func (t *Tx) CreateInbox(ctx context.Context, in *msgrules.Inbox) error {
	in.InboxID, in.DateTime, in.Datetime = uuid.NewString(), t.now, t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO inboxes (id, org_id, api_account_id, name, created_at) VALUES ($1, $2, $3, $4, $5)`,
		in.InboxID, in.OrgID, in.APIAccountID, in.Name, micros(in.DateTime))
	return errs.Wrap(err, "create inbox")
}

// UpdateInbox stores in's name and API account.
func (t *Tx) UpdateInbox(ctx context.Context, in msgrules.Inbox) error {
	_, err := t.q.ExecContext(ctx, `UPDATE inboxes SET name = $3, api_account_id = $4 WHERE id = $1 AND org_id = $2`,
		in.InboxID, in.OrgID, in.Name, in.APIAccountID)
	return errs.Wrap(err, "update inbox")
}

// DeleteInbox removes an inbox of the organisation. The conversations
// belong to the API account, not to the inbox, and stay.
func (t *Tx) DeleteInbox(ctx context.Context, orgID, id string) error {
	return deleted(t.q.ExecContext(ctx, `DELETE FROM inboxes WHERE org_id = $1 AND id = $2`, orgID, id))("inbox")
}

// inboxes are reached through their API account.
var inboxes = table[msgrules.Inbox]{from: "inboxes x", alias: "x.", accountCol: "x.api_account_id",
	cols: inboxCols, order: "x.created_at, x.id", what: "inbox", scan: scanInbox}

// Inbox reads one inbox within r.
func (s *Store) Inbox(ctx context.Context, r Reach, id string) (msgrules.Inbox, error) {
	return inboxes.one(ctx, s.rq, inboxes.within(r).eq("x.id", id))
}

// Inbox reads one inbox within r in the transaction.
func (t *Tx) Inbox(ctx context.Context, r Reach, id string) (msgrules.Inbox, error) {
	return inboxes.one(ctx, t.q, inboxes.within(r).eq("x.id", id))
}

// Inboxes lists the inboxes within r.
func (s *Store) Inboxes(ctx context.Context, r Reach, f Filter) ([]msgrules.Inbox, int, error) {
	return inboxes.page(ctx, s.rq, inboxes.within(r).eq("x.api_account_id", f.APIAccountID), f.Offset)
}

// AccountIDs lists the ids of the API accounts within r.
func (s *Store) AccountIDs(ctx context.Context, r Reach) ([]string, error) {
	q := accounts.within(r)
	return column(ctx, s.rq, `SELECT a.id FROM `+q.from+q.where.String(), q.args...)
}
