package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// The store returns a webhook whole, secret included, because the
// dispatcher signs with it; the service hides it from every response but
// the create one.
const webhookColumns = `id, org_id, type, target_url, is_enabled, failure_count, is_zapier, secret, position`

func scanWebhook(row scanner, w *msgrules.Webhook) error {
	return row.Scan(&w.WebhookID, &w.OrgID, &w.Type, &w.TargetURL, &w.IsEnabled, &w.FailureCount,
		&w.IsZapier, &w.Secret, &w.Position)
}

// webhooks belong to an organisation, not to an API account.
var webhooks = table[msgrules.Webhook]{from: "webhooks", cols: webhookColumns, order: "created_at, id",
	what: "webhook", scan: scanWebhook}

// CreateWebhook inserts w, assigning its id. Its position starts at the
// journal head, read in the write transaction, so the hook receives what
// commits after it and not the organisation's whole past.
func (t *Tx) CreateWebhook(ctx context.Context, w *msgrules.Webhook) error {
	if err := t.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM journal`).Scan(&w.Position); err != nil {
		return errs.Wrap(err, "journal head")
	}
	w.WebhookID, w.FailureCount = uuid.NewString(), 0
	_, err := t.q.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		w.WebhookID, w.OrgID, w.Type, w.TargetURL, w.IsEnabled, w.FailureCount, w.IsZapier, t.store.seal(w.Secret, webhookWhere(w.WebhookID)), w.Position,
		micros(t.now))
	return errs.Wrap(err, "create webhook")
}

// Webhook reads one webhook of an organisation; another organisation's
// is NotFound, like one that does not exist.
func (s *Store) Webhook(ctx context.Context, orgID, id string) (msgrules.Webhook, error) {
	return s.openWebhook(webhooks.one(ctx, s.rq, webhooks.anyOrg().eq("org_id", orgID).eq("id", id)))
}

// Webhook reads one webhook of an organisation in the transaction, for a
// change that depends on its current state.
func (t *Tx) Webhook(ctx context.Context, orgID, id string) (msgrules.Webhook, error) {
	return t.store.openWebhook(webhooks.one(ctx, t.q, webhooks.anyOrg().eq("org_id", orgID).eq("id", id)))
}

// Webhooks lists a page of an organisation's webhooks, oldest first, and
// counts them all.
func (s *Store) Webhooks(ctx context.Context, orgID string, offset int) ([]msgrules.Webhook, int, error) {
	list, n, err := webhooks.page(ctx, s.rq, webhooks.anyOrg().eq("org_id", orgID), offset)
	list, err = openAll(list, err, s.openWebhook)
	return list, n, err
}

// EnabledWebhooks lists the enabled webhooks of every organisation: the
// ones the dispatcher delivers to.
func (s *Store) EnabledWebhooks(ctx context.Context) ([]msgrules.Webhook, error) {
	q := webhooks.anyOrg()
	q.where.WriteString(" AND is_enabled = " + arg(&q.args, true))
	list, err := webhooks.all(ctx, s.rq, q)
	return openAll(list, err, s.openWebhook)
}

// UpdateWebhook stores what an admin may change (type, target URL,
// enabled) and the failure count that goes with it. The position is
// kept, so re-enabling a hook delivers its backlog instead of dropping it.
func (t *Tx) UpdateWebhook(ctx context.Context, w msgrules.Webhook) error {
	return webhookChanged(t.q.ExecContext(ctx, `UPDATE webhooks SET type = $3, target_url = $4, is_enabled = $5,
		failure_count = $6 WHERE org_id = $1 AND id = $2`,
		w.OrgID, w.WebhookID, w.Type, w.TargetURL, w.IsEnabled, w.FailureCount))
}

// DeleteWebhook removes an organisation's webhook.
func (t *Tx) DeleteWebhook(ctx context.Context, orgID, id string) error {
	return webhookChanged(t.q.ExecContext(ctx, `DELETE FROM webhooks WHERE org_id = $1 AND id = $2`, orgID, id))
}

// AdvanceWebhook records that the hook delivered the entry at position:
// the position moves past it and the consecutive failures end. A
// position is never moved back, whatever order writes arrive in.
func (t *Tx) AdvanceWebhook(ctx context.Context, id string, position int64) error {
	return webhookChanged(t.q.ExecContext(ctx, `UPDATE webhooks SET failure_count = 0,
		position = CASE WHEN position < $2 THEN $2 ELSE position END WHERE id = $1`, id, position))
}

// SkipWebhook moves the hook's position past entries it does not
// receive (other types). It is not a delivery, so the failure count stays.
// Like LeaseWebhook it takes the lease until until, and only if no other
// node holds it: one node writes a hook's position. NotFound when the
// hook is gone or another node holds it.
func (t *Tx) SkipWebhook(ctx context.Context, id, owner string, position int64, until time.Time) error {
	return webhookChanged(t.q.ExecContext(ctx, `UPDATE webhooks SET lease_owner = $3, lease_until = $4,
		position = CASE WHEN position < $2 THEN $2 ELSE position END
		WHERE id = $1 AND (lease_owner = $3 OR lease_until < $5)`, id, position, owner, micros(until), micros(t.now)))
}

// WebhookFailed stores a failed delivery's consecutive failure count and
// disables the hook when told to. The position stays on the entry, which
// is retried.
func (t *Tx) WebhookFailed(ctx context.Context, id string, failureCount int, disable bool) error {
	return webhookChanged(t.q.ExecContext(ctx, `UPDATE webhooks SET failure_count = $2,
		is_enabled = (is_enabled AND NOT $3) WHERE id = $1`, id, failureCount, disable))
}

// webhookChanged turns an UPDATE or DELETE that matched no row into
// NotFound: the hook was deleted, or belongs to another organisation.
func webhookChanged(res sql.Result, err error) error {
	if err != nil {
		return errs.Wrap(err, "write webhook")
	}
	if n, err := res.RowsAffected(); err != nil {
		return errs.Wrap(err, "write webhook")
	} else if n == 0 {
		return errs.E(errs.NotFound, "no such webhook")
	}
	return nil
}

// LeaseWebhook makes owner the node that delivers the hook until until,
// if no other node holds an unexpired lease; it reports whether owner
// holds it now.
func (t *Tx) LeaseWebhook(ctx context.Context, id, owner string, until time.Time) (bool, error) {
	res, err := t.q.ExecContext(ctx, `UPDATE webhooks SET lease_owner = $2, lease_until = $3
		WHERE id = $1 AND (lease_owner = $2 OR lease_until < $4)`, id, owner, micros(until), micros(t.now))
	if err != nil {
		return false, errs.Wrap(err, "lease webhook")
	}
	n, err := res.RowsAffected()
	return n == 1, errs.Wrap(err, "lease webhook")
}

// ReleaseWebhooks ends owner's leases: a node that stops lets another (or
// its own next run) take its hooks at once.
func (t *Tx) ReleaseWebhooks(ctx context.Context, owner string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE webhooks SET lease_until = 0 WHERE lease_owner = $1`, owner)
	return errs.Wrap(err, "release webhooks")
}

// WebhookLag is how far an enabled webhook is behind its organisation's
// journal: the time of the oldest entry it has not passed (zero: none).
type WebhookLag struct {
	WebhookID string
	Oldest    time.Time
}

// WebhookLags reads the lag of up to limit enabled webhooks (metrics). Each
// is one step down the journal's (scope, position) index.
func (s *Store) WebhookLags(ctx context.Context, limit int) ([]WebhookLag, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT w.id, (SELECT j.created_at FROM journal j
			WHERE j.scope = CAST($1 AS TEXT) || w.org_id AND j.position > w.position ORDER BY j.position LIMIT 1)
		FROM webhooks w WHERE w.is_enabled ORDER BY w.id LIMIT $2`, msgrules.OrgScope(""), limit)
	if err != nil {
		return nil, errs.Wrap(err, "webhook lags")
	}
	defer rows.Close()
	var out []WebhookLag
	for rows.Next() {
		var l WebhookLag
		var oldest sql.NullInt64
		if err := rows.Scan(&l.WebhookID, &oldest); err != nil {
			return nil, errs.Wrap(err, "webhook lags")
		}
		l.Oldest = nullMicros(oldest)
		out = append(out, l)
	}
	return out, errs.Wrap(rows.Err(), "webhook lags")
}
