package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
)

// PutKeyShare sets a box's invitation share, replacing the previous one
// (whose links then stop working). A hash already used is a conflict.
func (t *Tx) PutKeyShare(ctx context.Context, boxID string, k boxrules.KeyShare) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM box_key_shares WHERE box_id = $1`, boxID); err != nil {
		return errs.Wrap(err, "replace key share")
	}
	return t.AddKeyShare(ctx, boxID, k)
}

// AddKeyShare adds an invitation share beside a box's others. A hash
// already used is a conflict.
func (t *Tx) AddKeyShare(ctx context.Context, boxID string, k boxrules.KeyShare) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO box_key_shares (other_share_hash, box_id, misakey_share,
		encrypted_invitation_key_share, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.OtherShareHash, boxID, k.MisakeyShare, nullString(k.EncryptedInvitationKeyShare), micros(t.now))
	return errs.Wrap(t.store.conflict(err, "other_share_hash", "this other_share_hash is already in use"), "put key share")
}

// KeyShare reads a key share by its hash, with its box id.
func (s *Store) KeyShare(ctx context.Context, otherShareHash string) (string, boxrules.KeyShare, error) {
	var (
		boxID string
		k     boxrules.KeyShare
		enc   sql.NullString
	)
	err := s.rq.QueryRowContext(ctx, `SELECT box_id, other_share_hash, misakey_share, encrypted_invitation_key_share
		FROM box_key_shares WHERE other_share_hash = $1`, otherShareHash).Scan(&boxID, &k.OtherShareHash, &k.MisakeyShare, &enc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", k, errs.E(errs.NotFound, "no such key share")
	}
	k.EncryptedInvitationKeyShare = enc.String
	return boxID, k, errs.Wrap(err, "read key share")
}

// NewestKeyShare reads the box's newest key share; a zero share when it
// has none.
func (s *Store) NewestKeyShare(ctx context.Context, boxID string) (boxrules.KeyShare, error) {
	var (
		k   boxrules.KeyShare
		enc sql.NullString
	)
	err := s.rq.QueryRowContext(ctx, `SELECT other_share_hash, misakey_share, encrypted_invitation_key_share
		FROM box_key_shares WHERE box_id = $1 ORDER BY created_at DESC, other_share_hash LIMIT 1`, boxID).Scan(&k.OtherShareHash, &k.MisakeyShare, &enc)
	if errors.Is(err, sql.ErrNoRows) {
		return k, nil
	}
	k.EncryptedInvitationKeyShare = enc.String
	return k, errs.Wrap(err, "read newest key share")
}

// InsertFile records an encrypted file stored as a blob.
func (t *Tx) InsertFile(ctx context.Context, id string, size int64) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO encrypted_files (id, size, created_at) VALUES ($1, $2, $3)`, id, size, micros(t.now))
	return errs.Wrap(err, "insert file")
}

// FileUnreferenced reports whether no live msg.file event refers to a file
// any more; the caller then removes it from storage.
func (t *Tx) FileUnreferenced(ctx context.Context, fileID string) (bool, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM box_events e JOIN boxes b ON b.id = e.box_id
		WHERE e.file_id = $1 AND e.deleted_at IS NULL AND b.deleted_at IS NULL`, fileID).Scan(&n)
	if err != nil || n > 0 {
		return false, errs.Wrap(err, "count file references")
	}
	_, err = t.q.ExecContext(ctx, `DELETE FROM encrypted_files WHERE id = $1`, fileID)
	return err == nil, errs.Wrap(err, "forget file")
}

// BoxFiles lists the files of a box's live msg.file events.
func (t *Tx) BoxFiles(ctx context.Context, boxID string) ([]string, error) {
	return column(ctx, t.q, `SELECT DISTINCT file_id FROM box_events WHERE box_id = $1 AND file_id IS NOT NULL`, boxID)
}

// FileBoxes lists the live boxes holding a live msg.file event of a file,
// with the file's size; no boxes means the file is not reachable.
func (s *Store) FileBoxes(ctx context.Context, fileID string) ([]string, int64, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT DISTINCT e.box_id, f.size FROM box_events e
		JOIN boxes b ON b.id = e.box_id JOIN encrypted_files f ON f.id = e.file_id
		WHERE e.file_id = $1 AND e.deleted_at IS NULL AND b.deleted_at IS NULL`, fileID)
	if err != nil {
		return nil, 0, errs.Wrap(err, "find file")
	}
	defer rows.Close()
	var (
		ids  []string
		size int64
	)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id, &size); err != nil {
			return nil, 0, errs.Wrap(err, "scan file")
		}
		ids = append(ids, id)
	}
	return ids, size, errs.Wrap(rows.Err(), "find file")
}

// Notification is a message to one identity.
type Notification struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Details        json.RawMessage `json:"details"`
	CreatedAt      time.Time       `json:"created_at"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at"`
}

// InsertNotification stores n for an identity.
func (t *Tx) InsertNotification(ctx context.Context, identityID string, n *Notification) error {
	n.CreatedAt = t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO notifications (id, identity_id, type, details, created_at) VALUES ($1, $2, $3, $4, $5)`,
		n.ID, identityID, n.Type, string(n.Details), micros(n.CreatedAt))
	return errs.Wrap(err, "insert notification")
}

// Notifications lists an identity's notifications, newest first.
func (s *Store) Notifications(ctx context.Context, identityID string, offset, limit int) ([]Notification, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT id, type, details, created_at, acknowledged_at FROM notifications
		WHERE identity_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, identityID, limit, offset)
	if err != nil {
		return nil, errs.Wrap(err, "list notifications")
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var (
			n       Notification
			details string
			created int64
			acked   sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &n.Type, &details, &created, &acked); err != nil {
			return nil, errs.Wrap(err, "scan notification")
		}
		n.Details, n.CreatedAt = json.RawMessage(details), fromMicros(created)
		if acked.Valid {
			at := fromMicros(acked.Int64)
			n.AcknowledgedAt = &at
		}
		out = append(out, n)
	}
	return out, errs.Wrap(rows.Err(), "list notifications")
}

// CountUnackedNotifications counts an identity's unacknowledged
// notifications.
func (s *Store) CountUnackedNotifications(ctx context.Context, identityID string) (int, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE identity_id = $1 AND acknowledged_at IS NULL`,
		identityID).Scan(&n)
	return n, errs.Wrap(err, "count notifications")
}

// AckNotifications marks an identity's notifications as read: those with
// the given ids, or all of them when ids is nil. Ids of other identities'
// notifications change nothing.
func (t *Tx) AckNotifications(ctx context.Context, identityID string, ids []string) error {
	const ack = `UPDATE notifications SET acknowledged_at = $2 WHERE identity_id = $1 AND acknowledged_at IS NULL`
	if ids == nil {
		_, err := t.q.ExecContext(ctx, ack, identityID, micros(t.now))
		return errs.Wrap(err, "ack notifications")
	}
	for _, id := range ids {
		if _, err := t.q.ExecContext(ctx, ack+` AND id = $3`, identityID, micros(t.now), id); err != nil {
			return errs.Wrap(err, "ack notification")
		}
	}
	return nil
}

// CryptoAction is an encrypted key delivery waiting for an identity.
type CryptoAction struct {
	ID                  string    `json:"id"`
	Type                string    `json:"type"`
	BoxID               string    `json:"box_id"`
	SenderID            string    `json:"sender_id"`
	EncryptionPublicKey string    `json:"encryption_public_key"`
	Encrypted           string    `json:"encrypted"`
	CreatedAt           time.Time `json:"created_at"`
}

// InsertCryptoAction stores a for an identity.
func (t *Tx) InsertCryptoAction(ctx context.Context, identityID string, a *CryptoAction) error {
	a.CreatedAt = t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO crypto_actions (id, identity_id, type, box_id, sender_id,
		encryption_public_key, encrypted, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, identityID, a.Type, a.BoxID, a.SenderID, a.EncryptionPublicKey, a.Encrypted, micros(a.CreatedAt))
	return errs.Wrap(err, "insert crypto action")
}

// CryptoAction reads one of an identity's crypto actions.
func (s *Store) CryptoAction(ctx context.Context, identityID, id string) (CryptoAction, error) {
	var (
		a       CryptoAction
		created int64
	)
	err := s.rq.QueryRowContext(ctx, `SELECT id, type, box_id, sender_id, encryption_public_key, encrypted, created_at
		FROM crypto_actions WHERE id = $1 AND identity_id = $2`, id, identityID).
		Scan(&a.ID, &a.Type, &a.BoxID, &a.SenderID, &a.EncryptionPublicKey, &a.Encrypted, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errs.E(errs.NotFound, "no such crypto action")
	}
	a.CreatedAt = fromMicros(created)
	return a, errs.Wrap(err, "read crypto action")
}

// DeleteCryptoAction removes one of an identity's crypto actions.
func (t *Tx) DeleteCryptoAction(ctx context.Context, identityID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM crypto_actions WHERE id = $1 AND identity_id = $2`, id, identityID)
	if err != nil {
		return errs.Wrap(err, "delete crypto action")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "no such crypto action")
	}
	return nil
}

// Muted reads an identity's mute setting for a box.
func (s *Store) Muted(ctx context.Context, identityID, boxID string) (bool, error) {
	var muted bool
	err := s.rq.QueryRowContext(ctx, `SELECT muted FROM box_settings WHERE identity_id = $1 AND box_id = $2`, identityID, boxID).Scan(&muted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return muted, errs.Wrap(err, "read settings")
}

// SetMuted stores an identity's mute setting for a box.
func (t *Tx) SetMuted(ctx context.Context, identityID, boxID string, muted bool) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO box_settings (identity_id, box_id, muted) VALUES ($1, $2, $3)
		ON CONFLICT (identity_id, box_id) DO UPDATE SET muted = excluded.muted`, identityID, boxID, muted)
	return errs.Wrap(err, "set settings")
}

// SetPubkeys sets an identity's public keys; empty strings leave a key as is.
func (t *Tx) SetPubkeys(ctx context.Context, identityID, pubkey, nonIdentified string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE identities SET pubkey = COALESCE($2, pubkey),
		non_identified_pubkey = COALESCE($3, non_identified_pubkey) WHERE id = $1`,
		identityID, nullString(pubkey), nullString(nonIdentified))
	return errs.Wrap(err, "set public keys")
}
