package store

import (
	"context"
	"database/sql"
	"math"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// ChunkRows is how many rows one read of a streamed list returns. Each
// chunk is its own short query: the rows are read, the connection goes
// back to the pool, and only then are they handed on, so a slow client
// holds neither a connection nor a snapshot, and memory holds one chunk.
const ChunkRows = 256

// eachChunk calls read for chunk after chunk, starting after first, and
// fn for every row, until a chunk comes back short or limit rows (0: no
// limit) were handed on. read returns the rows and the key of the last.
func eachChunk[T, K any](first K, limit int, read func(after K, n int) ([]T, K, error), fn func(T) error) error {
	return eachChunkOf(ChunkRows, first, limit, read, fn)
}

// eachChunkOf is eachChunk with chunks of size rows, for rows that are
// larger than one line (a team with its members).
func eachChunkOf[T, K any](size int, first K, limit int, read func(after K, n int) ([]T, K, error), fn func(T) error) error {
	after := first
	for left := limit; limit <= 0 || left > 0; left -= size {
		n := size
		if limit > 0 {
			n = min(n, left)
		}
		rows, last, err := read(after, n)
		if err != nil {
			return err
		}
		for _, v := range rows {
			if err := fn(v); err != nil {
				return err
			}
		}
		if len(rows) < n {
			return nil
		}
		after = last
	}
	return nil
}

// readChunk runs one chunk's query and scans its rows.
func readChunk[T any](ctx context.Context, q querier, what, sqlText string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, errs.Wrap(err, "list %s", what)
	}
	defer rows.Close()
	out := make([]T, 0, ChunkRows)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, errs.Wrap(rows.Err(), "list %s", what)
}

func scanEventRows(rows *sql.Rows) (Event, error) { return scanEvent(rows) }

// EachBoxEvent calls fn for a box's listed events, oldest first, as
// ListBoxEvents lists them, reading ChunkRows at a time by position. The
// offset skips rows in the first chunk only.
func (s *Store) EachBoxEvent(ctx context.Context, boxID string, f EventFilter, fn func(Event) error) error {
	offset := f.Offset
	return eachChunk(int64(0), f.Limit, func(after int64, n int) ([]Event, int64, error) {
		list, err := readChunk(ctx, s.rq, "events", `SELECT `+eventColumns+eventFrom+f.where()+
			` AND e.position > $2 ORDER BY e.position LIMIT $3 OFFSET $4`, []any{boxID, after, n, offset}, scanEventRows)
		offset = 0
		if len(list) == 0 {
			return list, after, err
		}
		return list, list[len(list)-1].Position, err
	}, fn)
}

// EachAccessEvent calls fn for the access.add events of a box's active
// rules, newest first as Misakey's reference lists them, ChunkRows at a time.
func (s *Store) EachAccessEvent(ctx context.Context, boxID string, fn func(Event) error) error {
	return eachChunk(int64(math.MaxInt64), 0, func(before int64, n int) ([]Event, int64, error) {
		list, err := readChunk(ctx, s.rq, "accesses", `SELECT `+eventColumns+eventFrom+` JOIN box_accesses a ON a.event_id = e.id
			WHERE a.box_id = $1 AND e.position < $2 ORDER BY e.position DESC LIMIT $3`, []any{boxID, before, n}, scanEventRows)
		if len(list) == 0 {
			return list, before, err
		}
		return list, list[len(list)-1].Position, err
	}, fn)
}

// nameKey is where a list ordered by display name, then id, resumes.
type nameKey struct{ name, id string }

// EachMemberIdentity calls fn for a box's creator and joined members,
// ordered by display name, then id.
func (s *Store) EachMemberIdentity(ctx context.Context, boxID string, fn func(identity.Identity) error) error {
	return eachChunk(nameKey{}, 0, func(after nameKey, n int) ([]identity.Identity, nameKey, error) {
		list, err := readChunk(ctx, s.rq, "members", `SELECT `+identityColumnsPrefixed+` FROM identities i WHERE i.id IN (
			SELECT creator_id FROM boxes WHERE id = $1 UNION SELECT identity_id FROM box_members WHERE box_id = $1)
			AND (i.display_name > $2 OR (i.display_name = $2 AND i.id > $3))
			ORDER BY i.display_name, i.id LIMIT $4`, []any{boxID, after.name, after.id, n},
			func(rows *sql.Rows) (identity.Identity, error) { return scanIdentity(rows) })
		if len(list) == 0 {
			return list, after, err
		}
		last := list[len(list)-1]
		return list, nameKey{last.DisplayName, last.ID}, err
	}, fn)
}

// timeKey is where a list ordered by creation time, then id, resumes.
type timeKey struct {
	at int64
	id string
}

// EachCryptoAction calls fn for an identity's pending crypto actions,
// oldest first.
func (s *Store) EachCryptoAction(ctx context.Context, identityID string, fn func(CryptoAction) error) error {
	return eachChunk(timeKey{at: math.MinInt64}, 0, func(after timeKey, n int) ([]CryptoAction, timeKey, error) {
		list, err := readChunk(ctx, s.rq, "crypto actions", `SELECT id, type, box_id, sender_id, encryption_public_key,
			encrypted, created_at FROM crypto_actions WHERE identity_id = $1 AND (created_at > $2 OR (created_at = $2 AND id > $3))
			ORDER BY created_at, id LIMIT $4`, []any{identityID, after.at, after.id, n},
			func(rows *sql.Rows) (CryptoAction, error) {
				var a CryptoAction
				var created int64
				err := rows.Scan(&a.ID, &a.Type, &a.BoxID, &a.SenderID, &a.EncryptionPublicKey, &a.Encrypted, &created)
				a.CreatedAt = fromMicros(created)
				return a, errs.Wrap(err, "scan crypto action")
			})
		if len(list) == 0 {
			return list, after, err
		}
		last := list[len(list)-1]
		return list, timeKey{micros(last.CreatedAt), last.ID}, err
	}, fn)
}
