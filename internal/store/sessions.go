package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// Session is one sign-in: it backs a refresh token and every access token
// issued from it, so revoking it ends them all.
type Session struct {
	ID              string
	IdentityID      string
	CallingApp      string
	RefreshHash     string
	PrevRefreshHash string // the hash rotated away last, to detect reuse
	CreatedAt       time.Time
	ExpiresAt       time.Time
	RevokedAt       time.Time
	// TokenName is an API token's name; "" for a sign-in. An API token's
	// secret hash is RefreshHash, but it is never refreshed.
	TokenName  string
	LastUsedAt time.Time // API tokens: the last use, to the minute
}

// CreateSession inserts s; its CreatedAt is the transaction's time.
func (t *Tx) CreateSession(ctx context.Context, s *Session) error {
	s.CreatedAt = t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO sessions (id, identity_id, calling_app, refresh_hash, created_at, expires_at, token_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.ID, s.IdentityID, s.CallingApp, s.RefreshHash, micros(s.CreatedAt), micros(s.ExpiresAt),
		nullString(s.TokenName))
	return errs.Wrap(err, "create session")
}

// SessionByID reads a session inside the write transaction.
func (t *Tx) SessionByID(ctx context.Context, id string) (Session, error) {
	return scanSession(t.q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
}

const sessionColumns = `id, identity_id, calling_app, refresh_hash, prev_refresh_hash,
	created_at, expires_at, revoked_at, token_name, last_used_at`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var (
		s                 Session
		prev, name        sql.NullString
		created, expires  int64
		revoked, lastUsed sql.NullInt64
	)
	err := row.Scan(&s.ID, &s.IdentityID, &s.CallingApp, &s.RefreshHash, &prev, &created, &expires, &revoked, &name, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return s, errs.E(errs.NotFound, "no such session")
	}
	if err != nil {
		return s, errs.Wrap(err, "read session")
	}
	s.PrevRefreshHash, s.CreatedAt, s.ExpiresAt, s.RevokedAt = prev.String, fromMicros(created), fromMicros(expires), nullMicros(revoked)
	s.TokenName, s.LastUsedAt = name.String, nullMicros(lastUsed)
	return s, nil
}

// Session reads a session outside a transaction (an API token's, on use).
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	return scanSession(s.rq.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
}

// APITokens lists an identity's live API tokens, oldest first.
func (s *Store) APITokens(ctx context.Context, identityID string) ([]Session, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE identity_id = $1 AND token_name IS NOT NULL AND revoked_at IS NULL ORDER BY created_at, id`, identityID)
	if err != nil {
		return nil, errs.Wrap(err, "list API tokens")
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		t, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, errs.Wrap(rows.Err(), "list API tokens")
}

// CountAPITokens counts an identity's live API tokens.
func (t *Tx) CountAPITokens(ctx context.Context, identityID string) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE identity_id = $1 AND token_name IS NOT NULL
		AND revoked_at IS NULL`, identityID).Scan(&n)
	return n, errs.Wrap(err, "count API tokens")
}

// TouchAPIToken records an API token's use.
func (t *Tx) TouchAPIToken(ctx context.Context, id string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET last_used_at = $2 WHERE id = $1`, id, micros(t.now))
	return errs.Wrap(err, "record API token use")
}

// RotateRefresh replaces a session's refresh token hash, keeping the old
// one to recognise its reuse.
func (t *Tx) RotateRefresh(ctx context.Context, id, oldHash, newHash string, expires time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET refresh_hash = $3, prev_refresh_hash = $2, expires_at = $4
		WHERE id = $1 AND refresh_hash = $2`, id, oldHash, newHash, micros(expires))
	return errs.Wrap(err, "rotate refresh token")
}

// RevokeSession ends a session and every token issued from it.
func (t *Tx) RevokeSession(ctx context.Context, id string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(t.now))
	return errs.Wrap(err, "revoke session")
}

// RevokeSessions ends every live session of an identity but except ("":
// none).
func (t *Tx) RevokeSessions(ctx context.Context, identityID, except string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $3 WHERE identity_id = $1 AND id <> $2
		AND revoked_at IS NULL`, identityID, except, micros(t.now))
	return errs.Wrap(err, "revoke sessions")
}

// SessionIdentity returns the identity of a live session: not revoked, not
// expired, and belonging to identityID. Anything else is Unauthorized.
func (s *Store) SessionIdentity(ctx context.Context, sessionID, identityID string, now time.Time) (identity.Identity, error) {
	i, err := scanIdentity(s.rq.QueryRowContext(ctx, `SELECT `+identityColumnsPrefixed+` FROM sessions s
		JOIN identities i ON i.id = s.identity_id
		WHERE s.id = $1 AND s.identity_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND i.disabled_at IS NULL`,
		sessionID, identityID, micros(now)))
	if errs.CodeOf(err) == errs.NotFound {
		return i, errs.E(errs.Unauthorized, "the session has ended")
	}
	return i, err
}
