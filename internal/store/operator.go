package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// The operator's reads and writes (boxwire user …, org …, backup): they
// run from a terminal on the server's machine, on the server's data.

// IdentityListing is an identity as `boxwire user list` shows it.
type IdentityListing struct {
	identity.Identity
	Orgs []Membership
}

// EachIdentity calls fn for every identity, by e-mail address, with its
// organisations; in chunks, so a large directory holds one in memory.
func (s *Store) EachIdentity(ctx context.Context, orgID string, fn func(IdentityListing) error) error {
	return eachChunk("", 0, func(after string, n int) ([]IdentityListing, string, error) {
		list, err := readChunk(ctx, s.rq, "identities", `SELECT `+identityColumns+` FROM identities
			WHERE identifier_value > $1 AND ($2 = '' OR id IN (SELECT identity_id FROM org_members WHERE org_id = $2))
			ORDER BY identifier_value LIMIT $3`, []any{after, orgID, n},
			func(rows *sql.Rows) (IdentityListing, error) {
				i, err := scanIdentity(rows)
				return IdentityListing{Identity: i}, err
			})
		if err != nil || len(list) == 0 {
			return list, after, err
		}
		for k := range list {
			if list[k].Orgs, err = s.Memberships(ctx, list[k].ID); err != nil {
				return nil, after, err
			}
		}
		return list, list[len(list)-1].IdentifierValue, nil
	}, fn)
}

// OrgListing is an organisation as `boxwire org list` shows it.
type OrgListing struct {
	ID, Name  string
	CreatedAt time.Time
	Admins    int
	Agents    int
}

// Orgs lists every organisation by name, with its head counts.
func (s *Store) Orgs(ctx context.Context) ([]OrgListing, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT o.id, o.name, o.created_at,
		(SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id AND m.role = 'admin'),
		(SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id AND m.role = 'agent')
		FROM orgs o ORDER BY o.name`)
	if err != nil {
		return nil, errs.Wrap(err, "list orgs")
	}
	defer rows.Close()
	var out []OrgListing
	for rows.Next() {
		var o OrgListing
		var created int64
		if err := rows.Scan(&o.ID, &o.Name, &created, &o.Admins, &o.Agents); err != nil {
			return nil, errs.Wrap(err, "list orgs")
		}
		o.CreatedAt = fromMicros(created)
		out = append(out, o)
	}
	return out, errs.Wrap(rows.Err(), "list orgs")
}

// CreateOrg makes a new organisation; a name in use is a Conflict on name.
func (t *Tx) CreateOrg(ctx context.Context, name string) (string, error) {
	id := uuid.NewString()
	_, err := t.q.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`, id, name, micros(t.now))
	if err = t.store.conflict(err, "name", "an organisation with this name already exists"); err != nil {
		return "", errs.Wrap(err, "create org")
	}
	return id, nil
}

// SetDisabled disables an identity (at its time) or enables it (zero).
func (t *Tx) SetDisabled(ctx context.Context, identityID string, at time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE identities SET disabled_at = $2 WHERE id = $1`, identityID, nullTime(at))
	return errs.Wrap(err, "set disabled")
}

const unassignConversationsSQL = `UPDATE conversations SET user_id = NULL WHERE user_id = $1`

// EraseIdentity removes what identifies a person and what they can do,
// keeping the row the boxes' history refers to: the address becomes
// deleted-ID@invalid (free for a new account), the name "Deleted user",
// keys and avatar go, no password opens it, it is disabled, and it leaves
// every organisation and team; conversations assigned to it are
// unassigned, and invitations waiting for it dropped. The caller revokes
// its sessions and journals the change.
func (t *Tx) EraseIdentity(ctx context.Context, identityID string) error {
	steps := []struct {
		what, sql string
	}{
		{"erase identity", `UPDATE identities SET identifier_value = 'deleted-' || id || '@invalid', display_name = 'Deleted user',
			avatar_url = NULL, password_hash = '', pubkey = NULL, non_identified_pubkey = NULL, identifier_verified_at = NULL,
			color = NULL, share_email = FALSE, disabled_at = COALESCE(disabled_at, $2) WHERE id = $1`},
		{"leave teams", `DELETE FROM team_users WHERE identity_id = $1`},
		{"leave orgs", `DELETE FROM org_members WHERE identity_id = $1`},
		{"unassign conversations", unassignConversationsSQL},
		{"drop invitations", `DELETE FROM crypto_actions WHERE identity_id = $1`},
	}
	for _, st := range steps {
		args := []any{identityID}
		if st.what == "erase identity" {
			args = append(args, micros(t.now))
		}
		if _, err := t.q.ExecContext(ctx, st.sql, args...); err != nil {
			return errs.Wrap(err, "%s", st.what)
		}
	}
	return nil
}

// SnapshotInto writes a consistent copy of the database to path while the
// server runs (SQLite's VACUUM INTO). PostgreSQL has pg_dump for that.
func (s *Store) SnapshotInto(ctx context.Context, path string) error {
	if s.Engine() != "sqlite" {
		return errs.E(errs.Invalid, "a PostgreSQL database is copied with pg_dump")
	}
	_, err := s.read.ExecContext(ctx, `VACUUM INTO $1`, path)
	return errs.Wrap(err, "copy the database")
}

// EachFileID calls fn with the id of every stored encrypted file.
func (s *Store) EachFileID(ctx context.Context, fn func(string) error) error {
	return eachChunk("", 0, func(after string, n int) ([]string, string, error) {
		ids, err := readChunk(ctx, s.rq, "files", `SELECT id FROM encrypted_files WHERE id > $1 ORDER BY id LIMIT $2`,
			[]any{after, n}, func(rows *sql.Rows) (string, error) {
				var id string
				return id, rows.Scan(&id)
			})
		if err != nil || len(ids) == 0 {
			return ids, after, err
		}
		return ids, ids[len(ids)-1], nil
	}, fn)
}
