package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// IdentityByID reads one identity inside the write transaction.
func (t *Tx) IdentityByID(ctx context.Context, id string) (identity.Identity, error) {
	return scanIdentity(t.q.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = $1`, id))
}

// IdentityByIdentifier reads the identity with an e-mail identifier
// inside the write transaction.
func (t *Tx) IdentityByIdentifier(ctx context.Context, value string) (identity.Identity, error) {
	return scanIdentity(t.q.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE identifier_value = $1`, value))
}

// SetVerified marks an identity's identifier proven at at, or unproven
// when at is zero.
func (t *Tx) SetVerified(ctx context.Context, identityID string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE identities SET identifier_verified_at = $2 WHERE id = $1`, identityID, nullTime(at))
	if err != nil {
		return errs.Wrap(err, "set verified")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "no such identity")
	}
	return nil
}

// Rename gives an identity a new identifier, verified at verifiedAt (zero:
// unproven). What was addressed to the old identifier goes with it: its
// pending code and the crypto actions (encrypted invitations) left for
// it. renamed is false when email is already the identifier.
func (t *Tx) Rename(ctx context.Context, identityID, email string, verifiedAt time.Time) (renamed bool, err error) {
	res, err := t.q.ExecContext(ctx, `UPDATE identities SET identifier_value = $2, identifier_verified_at = $3
		WHERE id = $1 AND identifier_value <> $2`, identityID, email, nullTime(verifiedAt))
	if err = t.store.conflict(err, "email", "a user with this e-mail already exists"); err != nil {
		return false, errs.Wrap(err, "rename identity")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, q := range []string{`DELETE FROM identifier_codes WHERE identity_id = $1`, `DELETE FROM crypto_actions WHERE identity_id = $1`} {
		if _, err := t.q.ExecContext(ctx, q, identityID); err != nil {
			return false, errs.Wrap(err, "rename identity")
		}
	}
	return true, nil
}

// PendingCode reads an identity's pending verification code; nil if none.
func (t *Tx) PendingCode(ctx context.Context, identityID string) (*identity.PendingCode, error) {
	var (
		p             identity.PendingCode
		sent, expires int64
	)
	err := t.q.QueryRowContext(ctx, `SELECT identifier_value, code_hash, sent_at, expires_at, attempts
		FROM identifier_codes WHERE identity_id = $1`, identityID).Scan(&p.IdentifierValue, &p.Hash, &sent, &expires, &p.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(err, "read verification code")
	}
	p.SentAt, p.ExpiresAt = fromMicros(sent), fromMicros(expires)
	return &p, nil
}

// PutCode replaces an identity's pending code.
func (t *Tx) PutCode(ctx context.Context, identityID string, p identity.PendingCode) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO identifier_codes (identity_id, identifier_value, code_hash, sent_at, expires_at, attempts)
		VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (identity_id) DO UPDATE SET identifier_value = excluded.identifier_value,
		code_hash = excluded.code_hash, sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0`,
		identityID, p.IdentifierValue, p.Hash, micros(p.SentAt), micros(p.ExpiresAt))
	return errs.Wrap(err, "store verification code")
}

// CountCodeAttempt records a wrong code entered for an identity.
func (t *Tx) CountCodeAttempt(ctx context.Context, identityID string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE identifier_codes SET attempts = attempts + 1 WHERE identity_id = $1`, identityID)
	return errs.Wrap(err, "count code attempt")
}

// DeleteCode removes an identity's pending code.
func (t *Tx) DeleteCode(ctx context.Context, identityID string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM identifier_codes WHERE identity_id = $1`, identityID)
	return errs.Wrap(err, "delete verification code")
}

// DomainGranted reports whether the operator granted domain to orgID.
func (t *Tx) DomainGranted(ctx context.Context, orgID, domain string) (bool, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_domains WHERE org_id = $1 AND domain = $2`, orgID, domain).Scan(&n)
	return n > 0, errs.Wrap(err, "read org domains")
}

// GrantDomain grants domain to orgID. A domain granted to another
// organisation is a Conflict: one domain, one owner.
func (t *Tx) GrantDomain(ctx context.Context, orgID, domain string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO org_domains (domain, org_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (domain) DO NOTHING`,
		domain, orgID, micros(t.now))
	if err != nil {
		return errs.Wrap(err, "grant domain")
	}
	granted, err := t.DomainGranted(ctx, orgID, domain)
	if err == nil && !granted {
		return &errs.Error{Code: errs.Conflict, Message: "the domain is granted to another organisation",
			Fields: map[string]string{"domain": errs.Conflicts}}
	}
	return err
}

// RevokeDomain takes a granted domain back from orgID. Identities verified
// through it stay verified: they were vouched for when they were made.
func (t *Tx) RevokeDomain(ctx context.Context, orgID, domain string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM org_domains WHERE org_id = $1 AND domain = $2`, orgID, domain)
	if err != nil {
		return errs.Wrap(err, "revoke domain")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "the domain is not granted to this organisation")
	}
	return nil
}

// OrgDomains lists the domains granted to orgID.
func (s *Store) OrgDomains(ctx context.Context, orgID string) ([]string, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT domain FROM org_domains WHERE org_id = $1 ORDER BY domain`, orgID)
	if err != nil {
		return nil, errs.Wrap(err, "list org domains")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, errs.Wrap(err, "list org domains")
		}
		out = append(out, d)
	}
	return out, errs.Wrap(rows.Err(), "list org domains")
}

// OrgID finds an organisation by id or by name.
func (s *Store) OrgID(ctx context.Context, idOrName string) (string, error) {
	var id string
	err := s.rq.QueryRowContext(ctx, `SELECT id FROM orgs WHERE id = $1 OR name = $1`, idOrName).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.E(errs.NotFound, "no organisation %q", idOrName)
	}
	return id, errs.Wrap(err, "find org")
}
