package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

const mediaCols = `f.id, f.org_id, f.api_account_id, f.media_type, f.content_type, f.file_name, f.size, f.file_location`

func scanMedia(row scanner, f *msgrules.Media) error {
	return row.Scan(&f.MediaID, &f.OrgID, &f.APIAccountID, &f.MediaType, &f.ContentType, &f.FileName, &f.Size, &f.FileLocation)
}

// media are reached through their API account, like the messages they
// belong to: a member who cannot see the account cannot download them.
var media = table[msgrules.Media]{from: "media f", alias: "f.", accountCol: "f.api_account_id",
	cols: mediaCols, order: "f.created_at, f.id", what: "file", scan: scanMedia}

// Media reads one kept file within r.
func (s *Store) Media(ctx context.Context, r Reach, id string) (msgrules.Media, error) {
	return media.one(ctx, s.rq, media.within(r).eq("f.id", id))
}

// MediaByID reads a kept file of any organisation, for the sender.
func (s *Store) MediaByID(ctx context.Context, id string) (msgrules.Media, error) {
	return media.one(ctx, s.rq, media.anyOrg().eq("f.id", id))
}

// CreateMedia records a kept file; f.MediaID is the blob's id. createdBy
// is the uploader, "" for a file a channel delivered.
func (t *Tx) CreateMedia(ctx context.Context, f msgrules.Media, createdBy string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO media (id, org_id, api_account_id, media_type, content_type, file_name, size,
		file_location, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		f.MediaID, f.OrgID, f.APIAccountID, f.MediaType, f.ContentType, f.FileName, f.Size, f.FileLocation,
		nullString(createdBy), micros(t.now))
	return errs.Wrap(err, "create media")
}

// dueFetches selects the incoming files to fetch at $1, oldest due first,
// at most $2.
const dueFetches = ` FROM messages WHERE media_status = 'pending' AND media_next_at <= $1
	ORDER BY media_next_at, created_at, id LIMIT $2`

// FetchesDue reports, from a read, whether an incoming file is due.
func (s *Store) FetchesDue(ctx context.Context, now time.Time) (bool, error) {
	ids, err := column(ctx, s.rq, `SELECT id`+dueFetches, micros(now), 1)
	return len(ids) > 0, errs.Wrap(err, "read due fetches")
}

// ClaimFetches takes up to limit due fetches, leased until lease so that
// another node leaves them alone, and counts the attempt.
func (t *Tx) ClaimFetches(ctx context.Context, now, lease time.Time, limit int) ([]string, error) {
	ids, err := column(ctx, t.q, `SELECT id`+dueFetches, micros(now), limit)
	if err != nil || len(ids) == 0 {
		return nil, errs.Wrap(err, "claim fetches")
	}
	_, err = t.q.ExecContext(ctx, `UPDATE messages SET media_next_at = $3, media_attempts = media_attempts + 1
		WHERE id IN (SELECT id`+dueFetches+`)`, micros(now), limit, micros(lease))
	return ids, errs.Wrap(err, "claim fetches")
}

// MediaFetch is what fetching a message's incoming file takes.
type MediaFetch struct {
	Source   string // the channel's media id
	MIME     string // the type the channel announced
	Attempts int    // counting the one under way
}

// MediaFetchOf reads the fetch of message id.
func (s *Store) MediaFetchOf(ctx context.Context, id string) (MediaFetch, error) {
	var f MediaFetch
	err := s.rq.QueryRowContext(ctx, `SELECT media_source, media_mime, media_attempts FROM messages WHERE id = $1`, id).
		Scan(&f.Source, &f.MIME, &f.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return f, errs.E(errs.NotFound, "no such message")
	}
	return f, errs.Wrap(err, "read media fetch")
}

// RetryFetch puts a fetch back in the queue, due at next.
func (t *Tx) RetryFetch(ctx context.Context, id string, next time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET media_next_at = $2 WHERE id = $1 AND media_status = 'pending'`, id, micros(next))
	return errs.Wrap(err, "requeue fetch")
}

// SetMessageMedia stores the outcome of a fetch: m's media fields.
func (t *Tx) SetMessageMedia(ctx context.Context, m msgrules.Message) error {
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET media_id = $2, file_name = $3, file_location = $4, media_status = $5,
		media_error = $6 WHERE id = $1`, m.MessageID, nullString(m.MediaID), m.FileName, m.FileLocation, m.MediaStatus, m.MediaError)
	return errs.Wrap(err, "set message media")
}
