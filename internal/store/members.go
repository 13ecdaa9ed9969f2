package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

const memberColumns = `m.identity_id, m.org_id, m.first_name, m.last_name, i.identifier_value, m.role`

func scanMember(row interface{ Scan(...any) error }) (msgrules.Member, error) {
	var m msgrules.Member
	err := row.Scan(&m.UserID, &m.OrgID, &m.FirstName, &m.LastName, &m.Email, &m.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return m, errs.E(errs.NotFound, "no such user")
	}
	return m, errs.Wrap(err, "read member")
}

// MemberOf is the identity's messaging membership: its first
// organisation. An identity that belongs to none is NotFound.
func (s *Store) MemberOf(ctx context.Context, identityID string) (msgrules.Member, error) {
	return scanMember(s.rq.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM org_members m
		JOIN identities i ON i.id = m.identity_id WHERE m.identity_id = $1
		ORDER BY m.created_at, m.org_id LIMIT 1`, identityID))
}

// Member reads one user of an organisation.
func (s *Store) Member(ctx context.Context, orgID, userID string) (msgrules.Member, error) {
	return member(ctx, s.rq, orgID, userID)
}

// Member reads one user of an organisation in the transaction.
func (t *Tx) Member(ctx context.Context, orgID, userID string) (msgrules.Member, error) {
	return member(ctx, t.q, orgID, userID)
}

func member(ctx context.Context, q querier, orgID, userID string) (msgrules.Member, error) {
	return scanMember(q.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM org_members m
		JOIN identities i ON i.id = m.identity_id WHERE m.org_id = $1 AND m.identity_id = $2`, orgID, userID))
}

// SetMemberProfile sets a member's names and role.
func (t *Tx) SetMemberProfile(ctx context.Context, m msgrules.Member) error {
	res, err := t.q.ExecContext(ctx, `UPDATE org_members SET first_name = $3, last_name = $4, role = $5
		WHERE org_id = $1 AND identity_id = $2`, m.OrgID, m.UserID, m.FirstName, m.LastName, m.Role)
	if err != nil {
		return errs.Wrap(err, "update member")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "no such user")
	}
	return nil
}

// SetLogin changes an identity's e-mail identifier and/or password hash;
// an empty value is left as it is. An e-mail in use is a Conflict on email.
func (t *Tx) SetLogin(ctx context.Context, identityID, email, passwordHash string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE identities SET identifier_value = COALESCE($2, identifier_value),
		password_hash = COALESCE($3, password_hash) WHERE id = $1`, identityID, nullString(email), nullString(passwordHash))
	return errs.Wrap(t.store.conflict(err, "email", "a user with this e-mail already exists"), "set login")
}
