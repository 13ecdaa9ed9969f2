package store

import (
	"context"
	"strings"
)

// A blob's id is uuid.NewString(): the sweep removes nothing else.
//
// blobReferences are the columns that name a blob kept in the blob store
// (the directory or S3). The sweep of orphan blobs (blob.Sweep, run by
// cmd/boxwire) removes every blob older than its grace period whose id
// is in none of them, so every table that keeps a blob's id must be
// listed here, in the migration that creates it: a table missing here
// has its blobs removed from under it. Its rows must be written within
// the grace period after the blob's Upload.Keep, in practice in the
// transaction right after it, as boxservice.Service.UploadFile does. Name such
// a column …blob_id: TestEveryBlobColumnIsSwept then fails while it is
// missing here.
var blobReferences = []struct{ table, column string }{
	{"encrypted_files", "id"}, // box files (boxservice.Service.UploadFile)
	{"media", "id"},           // messages' files (msgservice.Service.keep)
}

// UnreferencedBlobs returns those of ids that no column of
// blobReferences holds.
func (s *Store) UnreferencedBlobs(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var (
		args []any
		in   []string
	)
	for _, id := range ids {
		in = append(in, arg(&args, id))
	}
	list := strings.Join(in, ", ")
	var q []string
	for _, r := range blobReferences {
		q = append(q, `SELECT `+r.column+` FROM `+r.table+` WHERE `+r.column+` IN (`+list+`)`)
	}
	held, err := column(ctx, s.rq, strings.Join(q, " UNION "), args...)
	if err != nil {
		return nil, err
	}
	referenced := make(map[string]bool, len(held))
	for _, id := range held {
		referenced[id] = true
	}
	var out []string
	for _, id := range ids {
		if !referenced[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
