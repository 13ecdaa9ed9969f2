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
}

// CreateSession inserts s; its CreatedAt is the transaction's time.
func (t *Tx) CreateSession(ctx context.Context, s *Session) error {
	s.CreatedAt = t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO sessions (id, identity_id, calling_app, refresh_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, s.IdentityID, s.CallingApp, s.RefreshHash, micros(s.CreatedAt), micros(s.ExpiresAt))
	return errs.Wrap(err, "create session")
}

// SessionByID reads a session inside the write transaction.
func (t *Tx) SessionByID(ctx context.Context, id string) (Session, error) {
	var (
		s       Session
		prev    sql.NullString
		created int64
		expires int64
		revoked sql.NullInt64
	)
	err := t.q.QueryRowContext(ctx, `SELECT id, identity_id, calling_app, refresh_hash, prev_refresh_hash,
		created_at, expires_at, revoked_at FROM sessions WHERE id = $1`, id).
		Scan(&s.ID, &s.IdentityID, &s.CallingApp, &s.RefreshHash, &prev, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return s, errs.E(errs.NotFound, "no such session")
	}
	if err != nil {
		return s, errs.Wrap(err, "read session")
	}
	s.PrevRefreshHash, s.CreatedAt, s.ExpiresAt, s.RevokedAt = prev.String, fromMicros(created), fromMicros(expires), nullMicros(revoked)
	return s, nil
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
