package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

const identityColumns = `id, identifier_value, identifier_kind, display_name, avatar_url,
	password_hash, pubkey, non_identified_pubkey, created_at, identifier_verified_at, notifications, color, share_email, disabled_at`

// identityColumnsPrefixed are identityColumns of a table aliased i.
var identityColumnsPrefixed = "i." + strings.ReplaceAll(strings.Join(strings.Fields(identityColumns), " "), ", ", ", i.")

// scanIdentity reads identityColumns, then any extra columns into extra.
func scanIdentity(row interface{ Scan(...any) error }, extra ...any) (identity.Identity, error) {
	var (
		i                          identity.Identity
		avatar, pub, nonIdentified sql.NullString
		color                      sql.NullString
		created                    int64
		verified, disabled         sql.NullInt64
	)
	err := row.Scan(append([]any{&i.ID, &i.IdentifierValue, &i.IdentifierKind, &i.DisplayName, &avatar,
		&i.PasswordHash, &pub, &nonIdentified, &created, &verified, &i.Notifications, &color, &i.ShareEmail, &disabled}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return i, errs.E(errs.NotFound, "no such identity")
	}
	if err != nil {
		return i, errs.Wrap(err, "read identity")
	}
	i.AvatarURL, i.Pubkey, i.NonIdentifiedPubkey = avatar.String, pub.String, nonIdentified.String
	i.CreatedAt, i.VerifiedAt, i.Color = fromMicros(created), nullMicros(verified), color.String
	i.DisabledAt = nullMicros(disabled)
	return i, nil
}

// CreateIdentity inserts i, assigning its id and creation time.
// An identifier already in use is a Conflict on identifier_value.
func (t *Tx) CreateIdentity(ctx context.Context, i *identity.Identity) error {
	i.ID = uuid.NewString()
	i.CreatedAt = t.now
	if i.IdentifierKind == "" {
		i.IdentifierKind = "email"
	}
	if i.Notifications == "" {
		i.Notifications = identity.DefaultNotifications
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO identities (`+identityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		i.ID, i.IdentifierValue, i.IdentifierKind, i.DisplayName, nullString(i.AvatarURL),
		i.PasswordHash, nullString(i.Pubkey), nullString(i.NonIdentifiedPubkey), micros(i.CreatedAt), nullTime(i.VerifiedAt),
		i.Notifications, nullString(i.Color), i.ShareEmail, nullTime(i.DisabledAt))
	if err = t.store.conflict(err, "identifier_value", "an identity with this identifier already exists"); err != nil {
		return errs.Wrap(err, "create identity")
	}
	return nil
}

// SetPreferences sets an identity's notification frequency and colour.
func (t *Tx) SetPreferences(ctx context.Context, id, notifications, color string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE identities SET notifications = $2, color = $3 WHERE id = $1`, id, notifications, nullString(color))
	return errs.Wrap(err, "set preferences")
}

// SetShareEmail sets whether an identity shows its address on its profile.
func (t *Tx) SetShareEmail(ctx context.Context, id string, share bool) error {
	_, err := t.q.ExecContext(ctx, `UPDATE identities SET share_email = $2 WHERE id = $1`, id, share)
	return errs.Wrap(err, "set profile sharing")
}

// UpdateProfile sets an identity's display name and avatar URL.
func (t *Tx) UpdateProfile(ctx context.Context, id, displayName, avatarURL string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE identities SET display_name = $2, avatar_url = $3 WHERE id = $1`,
		id, displayName, nullString(avatarURL))
	if err != nil {
		return errs.Wrap(err, "update identity")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "no such identity")
	}
	return nil
}

// IdentityByID reads one identity.
func (s *Store) IdentityByID(ctx context.Context, id string) (identity.Identity, error) {
	return scanIdentity(s.rq.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = $1`, id))
}

// IdentityByIdentifier reads the identity with an e-mail identifier.
func (s *Store) IdentityByIdentifier(ctx context.Context, value string) (identity.Identity, error) {
	return scanIdentity(s.rq.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE identifier_value = $1`, value))
}

// Membership is an identity's role in an organisation.
type Membership struct {
	OrgID   string
	OrgName string
	Role    identity.Role
}

// EnsureOrg returns the id of the organisation called name, creating it.
func (t *Tx) EnsureOrg(ctx context.Context, name string) (string, error) {
	var id string
	err := t.q.QueryRowContext(ctx, `SELECT id FROM orgs WHERE name = $1`, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", errs.Wrap(err, "find org")
	}
	id = uuid.NewString()
	_, err = t.q.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`, id, name, micros(t.now))
	return id, errs.Wrap(err, "create org")
}

// SetMember gives an identity a role in an organisation.
func (t *Tx) SetMember(ctx context.Context, orgID, identityID string, role identity.Role) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO org_members (org_id, identity_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, identity_id) DO UPDATE SET role = excluded.role`, orgID, identityID, string(role), micros(t.now))
	return errs.Wrap(err, "set org member")
}

// Memberships lists an identity's organisations.
func (s *Store) Memberships(ctx context.Context, identityID string) ([]Membership, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT o.id, o.name, m.role FROM org_members m
		JOIN orgs o ON o.id = m.org_id WHERE m.identity_id = $1 ORDER BY o.name`, identityID)
	if err != nil {
		return nil, errs.Wrap(err, "list memberships")
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var role string
		if err := rows.Scan(&m.OrgID, &m.OrgName, &role); err != nil {
			return nil, errs.Wrap(err, "scan membership")
		}
		m.Role = identity.Role(role)
		out = append(out, m)
	}
	return out, errs.Wrap(rows.Err(), "list memberships")
}
