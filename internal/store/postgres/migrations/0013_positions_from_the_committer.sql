-- The committer gives journal positions out itself, under the advisory
-- write lock (max + 1, the journal is never trimmed), so that appends can
-- be written together in a few multi-row INSERTs at the end of a batch
-- instead of one INSERT … RETURNING round trip each.
ALTER TABLE journal ALTER COLUMN position DROP IDENTITY;
