package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
)

// InsertBox stores a new box; its creation time is the transaction's.
func (t *Tx) InsertBox(ctx context.Context, b *boxrules.Box) error {
	b.CreatedAt = t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO boxes (id, title, public_key, access_mode, lifecycle, creator_id,
		owner_org_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		b.ID, b.Title, b.PublicKey, b.AccessMode, b.Lifecycle, b.CreatorID, nullString(b.OwnerOrgID), micros(b.CreatedAt))
	return errs.Wrap(err, "insert box")
}

// boxColumns read a box aliased b; its last position is derived from its
// listed events.
const boxColumns = `b.id, b.title, b.public_key, b.access_mode, b.lifecycle, b.creator_id, b.owner_org_id, b.created_at,
	(SELECT COALESCE(MAX(e.position), 0) FROM box_events e WHERE e.box_id = b.id AND e.listed = TRUE)`

func scanBox(row interface{ Scan(...any) error }) (boxrules.Box, error) {
	var (
		b       boxrules.Box
		org     sql.NullString
		created int64
	)
	err := row.Scan(&b.ID, &b.Title, &b.PublicKey, &b.AccessMode, &b.Lifecycle, &b.CreatorID, &org, &created, &b.LastPosition)
	if errors.Is(err, sql.ErrNoRows) {
		return b, errs.E(errs.NotFound, "no such box")
	}
	b.OwnerOrgID, b.CreatedAt = org.String, fromMicros(created)
	return b, errs.Wrap(err, "read box")
}

func boxState(ctx context.Context, q querier, id string) (boxrules.State, error) {
	b, err := scanBox(q.QueryRowContext(ctx, `SELECT `+boxColumns+` FROM boxes b WHERE b.id = $1 AND b.deleted_at IS NULL`, id))
	if err != nil {
		return boxrules.State{}, err
	}
	st := boxrules.State{Box: b}
	rows, err := q.QueryContext(ctx, `SELECT event_id, restriction_type, value FROM box_accesses WHERE box_id = $1`, id)
	if err != nil {
		return st, errs.Wrap(err, "read accesses")
	}
	defer rows.Close()
	for rows.Next() {
		var a boxrules.Access
		if err := rows.Scan(&a.EventID, &a.RestrictionType, &a.Value); err != nil {
			return st, errs.Wrap(err, "scan access")
		}
		st.Accesses = append(st.Accesses, a)
	}
	return st, errs.Wrap(rows.Err(), "read accesses")
}

// BoxState reads a live (not deleted) box and its access rules.
func (s *Store) BoxState(ctx context.Context, id string) (boxrules.State, error) {
	return boxState(ctx, s.rq, id)
}

// SetBoxLifecycle and SetBoxAccessMode change a box's state.
func (t *Tx) SetBoxLifecycle(ctx context.Context, id, lifecycle string) error {
	t.boxChanged(id)
	_, err := t.q.ExecContext(ctx, `UPDATE boxes SET lifecycle = $2 WHERE id = $1`, id, lifecycle)
	return errs.Wrap(err, "set lifecycle")
}

func (t *Tx) SetBoxAccessMode(ctx context.Context, id, mode string) error {
	t.boxChanged(id)
	_, err := t.q.ExecContext(ctx, `UPDATE boxes SET access_mode = $2 WHERE id = $1`, id, mode)
	return errs.Wrap(err, "set access mode")
}

// DeleteBox removes a box from every view and drops its invitation share.
// Its journal entries stay (the journal is append-only) but no reader can
// reach them any more.
func (t *Tx) DeleteBox(ctx context.Context, id string) error {
	t.boxChanged(id)
	if _, err := t.q.ExecContext(ctx, `UPDATE boxes SET deleted_at = $2 WHERE id = $1`, id, micros(t.now)); err != nil {
		return errs.Wrap(err, "delete box")
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM box_key_shares WHERE box_id = $1`, id)
	return errs.Wrap(err, "delete key share")
}

// Event is a stored box event, folded: Content is what lists show.
type Event struct {
	Position   int64
	ID         string
	BoxID      string
	Type       string
	SenderID   string
	ReferrerID string
	Content    json.RawMessage
	FileID     string
	CreatedAt  time.Time
	EditedAt   time.Time
	DeletedAt  time.Time
	DeletedBy  string
	Sender     identity.Identity
}

// AppendBoxEvent appends e to the journal (scope: the box) and to the box's
// folded events, in this transaction; both rows are deferred like
// Append's. e.Content is the posted content.
func (t *Tx) AppendBoxEvent(ctx context.Context, e *Event) error {
	entry, err := t.Append(ctx, journal.Entry{ID: e.ID, Scope: e.BoxID, Type: e.Type, ActorID: e.SenderID,
		RefID: e.ReferrerID, Payload: e.Content})
	if err != nil {
		return err
	}
	e.ID, e.Position, e.CreatedAt = entry.ID, entry.Position, entry.At
	listed := boxrules.Listed(e.Type)
	t.batch.rows.events = append(t.batch.rows.events, []any{e.Position, e.ID, e.BoxID, e.Type, listed,
		nullString(e.SenderID), nullString(e.ReferrerID), string(e.Content), nullString(e.FileID), micros(e.CreatedAt)})
	if listed {
		t.listedEvent(e.BoxID, e.Position)
	}
	return nil
}

const eventColumns = `e.position, e.id, e.box_id, e.type, e.sender_id, e.referrer_id, e.content, e.file_id,
	e.created_at, e.edited_at, e.deleted_at, e.deleted_by,
	s.id, s.identifier_value, s.identifier_kind, s.display_name, s.avatar_url`

const eventFrom = ` FROM box_events e LEFT JOIN identities s ON s.id = e.sender_id`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var (
		e                                  Event
		sender, ref, file, deletedBy       sql.NullString
		sid, sValue, sKind, sName, sAvatar sql.NullString
		content                            string
		created                            int64
		edited, deleted                    sql.NullInt64
	)
	err := row.Scan(&e.Position, &e.ID, &e.BoxID, &e.Type, &sender, &ref, &content, &file,
		&created, &edited, &deleted, &deletedBy, &sid, &sValue, &sKind, &sName, &sAvatar)
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, "no such event")
	}
	if err != nil {
		return e, errs.Wrap(err, "read event")
	}
	e.SenderID, e.ReferrerID, e.FileID, e.DeletedBy = sender.String, ref.String, file.String, deletedBy.String
	e.Content, e.CreatedAt, e.EditedAt, e.DeletedAt = json.RawMessage(content), fromMicros(created), nullMicros(edited), nullMicros(deleted)
	e.Sender = identity.Identity{ID: sid.String, IdentifierValue: sValue.String, IdentifierKind: sKind.String,
		DisplayName: sName.String, AvatarURL: sAvatar.String}
	return e, nil
}

// BoxEvent reads one event of a box inside the write transaction.
func (t *Tx) BoxEvent(ctx context.Context, boxID, id string) (Event, error) {
	return scanEvent(t.q.QueryRowContext(ctx, `SELECT `+eventColumns+eventFrom+`
		WHERE e.position = (SELECT position FROM journal WHERE id = $1) AND e.box_id = $2`, id, boxID))
}

// BoxEventAt reads the event at a journal position.
func (s *Store) BoxEventAt(ctx context.Context, position int64) (Event, error) {
	return scanEvent(s.rq.QueryRowContext(ctx, `SELECT `+eventColumns+eventFrom+` WHERE e.position = $1`, position))
}

// The updates of one event, found by id. box_events has no index on id:
// an event's id leads to its position through the journal's unique id,
// and the position is box_events' key (a WHERE on box_events.id would
// read every event of the server).
const (
	eventByID        = `position = (SELECT position FROM journal WHERE id = $1)`
	foldEditSQL      = `UPDATE box_events SET content = $2, edited_at = $3 WHERE ` + eventByID
	foldDeleteSQL    = `UPDATE box_events SET content = $2, deleted_at = $3, deleted_by = $4 WHERE ` + eventByID
	accessRemovedSQL = `UPDATE box_events SET deleted_at = $2 WHERE ` + eventByID
)

// FoldEdit shows an edit on its target: the new ciphertext and the time.
func (t *Tx) FoldEdit(ctx context.Context, id string, content json.RawMessage) error {
	_, err := t.q.ExecContext(ctx, foldEditSQL, id, string(content), micros(t.now))
	return errs.Wrap(err, "fold edit")
}

// FoldDelete drops a message's ciphertext and marks who deleted it when.
func (t *Tx) FoldDelete(ctx context.Context, id, by string) error {
	content, _ := json.Marshal(map[string]any{"deleted": map[string]any{"at_time": t.now, "by_identifier_id": by}})
	_, err := t.q.ExecContext(ctx, foldDeleteSQL, id, string(content), micros(t.now), by)
	return errs.Wrap(err, "fold delete")
}

// EventFilter selects which listed events of a box to read.
type EventFilter struct {
	FilesOnly bool
	Offset    int
	Limit     int // 0: no limit
}

func (f EventFilter) where() string {
	if f.FilesOnly {
		return ` WHERE e.box_id = $1 AND e.listed = TRUE AND e.type = 'msg.file'`
	}
	return ` WHERE e.box_id = $1 AND e.listed = TRUE`
}

// ListBoxEvents lists a box's listed events, oldest first.
func (s *Store) ListBoxEvents(ctx context.Context, boxID string, f EventFilter) ([]Event, error) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
		if s.dialect.Name() == "postgres" {
			limit = 1 << 62
		}
	}
	return scanEvents(s.rq.QueryContext(ctx, `SELECT `+eventColumns+eventFrom+f.where()+` ORDER BY e.position LIMIT $2 OFFSET $3`,
		boxID, limit, f.Offset))
}

// scanEvents reads every row of an events query.
func scanEvents(rows *sql.Rows, err error) ([]Event, error) {
	if err != nil {
		return nil, errs.Wrap(err, "list events")
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, errs.Wrap(rows.Err(), "list events")
}

// CountBoxEvents counts what ListBoxEvents lists without offset or limit.
func (s *Store) CountBoxEvents(ctx context.Context, boxID string, f EventFilter) (int, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT COUNT(*)`+eventFrom+f.where(), boxID).Scan(&n)
	return n, errs.Wrap(err, "count events")
}

// AddAccess and RemoveAccess maintain a box's active access rules.
func (t *Tx) AddAccess(ctx context.Context, boxID string, a boxrules.Access) error {
	t.boxChanged(boxID)
	_, err := t.q.ExecContext(ctx, `INSERT INTO box_accesses (event_id, box_id, restriction_type, value) VALUES ($1, $2, $3, $4)`,
		a.EventID, boxID, a.RestrictionType, a.Value)
	return errs.Wrap(err, "add access")
}

func (t *Tx) RemoveAccess(ctx context.Context, eventID string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM box_accesses WHERE event_id = $1`, eventID); err != nil {
		return errs.Wrap(err, "remove access")
	}
	_, err := t.q.ExecContext(ctx, accessRemovedSQL, eventID, micros(t.now))
	return errs.Wrap(err, "remove access")
}

// AccessActive reports whether an access.add event is still in force.
func (t *Tx) AccessActive(ctx context.Context, eventID string) (bool, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM box_accesses WHERE event_id = $1`, eventID).Scan(&n)
	return n > 0, errs.Wrap(err, "read access")
}

// Join records an active join; a second one for the same identity is a
// conflict.
func (t *Tx) Join(ctx context.Context, boxID, identityID, joinEventID string) error {
	t.joinsChanged(boxID)
	_, err := t.q.ExecContext(ctx, `INSERT INTO box_members (box_id, identity_id, join_event_id) VALUES ($1, $2, $3)`,
		boxID, identityID, joinEventID)
	return errs.Wrap(t.store.conflict(err, "type", "already a member of this box"), "join")
}

// EndJoin ends an identity's join (leave or kick).
func (t *Tx) EndJoin(ctx context.Context, boxID, identityID string) error {
	t.joinsChanged(boxID)
	_, err := t.q.ExecContext(ctx, `DELETE FROM box_members WHERE box_id = $1 AND identity_id = $2`, boxID, identityID)
	return errs.Wrap(err, "end join")
}

func joinOf(ctx context.Context, q querier, boxID, identityID string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT join_event_id FROM box_members WHERE box_id = $1 AND identity_id = $2`, boxID, identityID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, errs.Wrap(err, "read join")
}

func (s *Store) JoinOf(ctx context.Context, boxID, identityID string) (string, error) {
	return joinOf(ctx, s.rq, boxID, identityID)
}

// Members returns the identities holding an active join, by identity id.
func (t *Tx) Members(ctx context.Context, boxID string) (map[string]boxrules.Member, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+identityColumnsPrefixed+`, m.join_event_id FROM box_members m
		JOIN identities i ON i.id = m.identity_id WHERE m.box_id = $1`, boxID)
	if err != nil {
		return nil, errs.Wrap(err, "list members")
	}
	defer rows.Close()
	out := map[string]boxrules.Member{}
	for rows.Next() {
		var m boxrules.Member
		if m.Identity, err = scanIdentity(rows, &m.JoinEventID); err != nil {
			return nil, err
		}
		out[m.Identity.ID] = m
	}
	return out, errs.Wrap(rows.Err(), "list members")
}

// JoinedBox is a box in an identity's list, with its unread count.
type JoinedBox struct {
	boxrules.Box
	Unread int
}

// joinedWhere: boxes the identity created, or joined and may still read
// (a closed box is its admin's alone). The IN list is implied by the rest;
// it is there for the planner, which cannot use an index for an OR with
// an EXISTS and would read every box of the server: the identity's boxes
// come from the creator and member indexes.
const joinedWhere = ` FROM boxes b WHERE b.id IN (SELECT id FROM boxes WHERE creator_id = $1
		UNION SELECT box_id FROM box_members WHERE identity_id = $1)
	AND b.deleted_at IS NULL AND (b.creator_id = $1 OR (b.lifecycle = 'open'
	AND EXISTS (SELECT 1 FROM box_members m WHERE m.box_id = b.id AND m.identity_id = $1)))`

const (
	joinedBoxesSQL = `SELECT ` + boxColumns + `, ` + unreadExpr + joinedWhere + ` ORDER BY 9 DESC, b.id LIMIT $2 OFFSET $3`
	countJoinedSQL = `SELECT COUNT(*)` + joinedWhere
)

// JoinedBoxes lists an identity's boxes, newest activity first.
func (s *Store) JoinedBoxes(ctx context.Context, identityID string, offset, limit int) ([]JoinedBox, error) {
	rows, err := s.rq.QueryContext(ctx, joinedBoxesSQL, identityID, limit, offset)
	if err != nil {
		return nil, errs.Wrap(err, "list boxes")
	}
	defer rows.Close()
	var out []JoinedBox
	for rows.Next() {
		var jb JoinedBox
		var org sql.NullString
		var created int64
		if err := rows.Scan(&jb.ID, &jb.Title, &jb.PublicKey, &jb.AccessMode, &jb.Lifecycle, &jb.CreatorID, &org,
			&created, &jb.LastPosition, &jb.Unread); err != nil {
			return nil, errs.Wrap(err, "scan box")
		}
		jb.OwnerOrgID, jb.CreatedAt = org.String, fromMicros(created)
		out = append(out, jb)
	}
	return out, errs.Wrap(rows.Err(), "list boxes")
}

// CountJoinedBoxes counts what JoinedBoxes lists.
func (s *Store) CountJoinedBoxes(ctx context.Context, identityID string) (int, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, countJoinedSQL, identityID).Scan(&n)
	return n, errs.Wrap(err, "count boxes")
}

// unreadExpr counts listed events others posted after the identity's
// acknowledgement ($1 is the identity).
const unreadExpr = `(SELECT COUNT(*) FROM box_events e WHERE e.box_id = b.id AND e.listed = TRUE
	AND e.position > COALESCE((SELECT r.seen_position FROM box_reads r WHERE r.box_id = b.id AND r.identity_id = $1), 0)
	AND (e.sender_id IS NULL OR e.sender_id <> $1))`

// Unread is an identity's unread count in one box.
func (s *Store) Unread(ctx context.Context, boxID, identityID string) (int, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT `+unreadExpr+` FROM boxes b WHERE b.id = $2`, identityID, boxID).Scan(&n)
	return n, errs.Wrap(err, "unread count")
}

// AckBox marks everything up to position as seen by the identity.
func (t *Tx) AckBox(ctx context.Context, boxID, identityID string, position int64) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO box_reads (box_id, identity_id, seen_position) VALUES ($1, $2, $3)
		ON CONFLICT (box_id, identity_id) DO UPDATE SET seen_position = excluded.seen_position`, boxID, identityID, position)
	return errs.Wrap(err, "ack box")
}

// MemberBoxes lists the boxes an identity created or holds a join of: the
// most it may read (access rules narrow it further).
func (s *Store) MemberBoxes(ctx context.Context, identityID string) ([]string, error) {
	return column(ctx, s.rq, `SELECT box_id FROM box_members WHERE identity_id = $1
		UNION SELECT id FROM boxes WHERE creator_id = $1`, identityID)
}

// WasMember reports whether an identity created or had joined a box, even
// a deleted one: who is told that a box was deleted.
func (s *Store) WasMember(ctx context.Context, boxID, identityID string) (bool, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT COUNT(*) FROM boxes b WHERE b.id = $1 AND (b.creator_id = $2
		OR EXISTS (SELECT 1 FROM box_members m WHERE m.box_id = b.id AND m.identity_id = $2))`, boxID, identityID).Scan(&n)
	return n > 0, errs.Wrap(err, "read membership")
}
