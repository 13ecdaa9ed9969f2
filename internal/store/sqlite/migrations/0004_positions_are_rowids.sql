-- Journal positions are plain rowids, and box_events is keyed by its
-- rowid. Each append to a box wrote two b-trees more than it needed: the
-- AUTOINCREMENT counter in sqlite_sequence, and box_events' separate
-- index on position (BIGINT PRIMARY KEY is not a rowid alias in SQLite;
-- INTEGER PRIMARY KEY is). Together about 8 % of `bench append`.
--
-- Without AUTOINCREMENT the next position is the largest one plus one.
-- Journal rows are never deleted, so a committed position is never handed
-- out again and positions still strictly increase; what can be reused is
-- a position whose transaction rolled back, which no reader ever saw.
CREATE TABLE journal_rowid (
    position   INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL,
    type       TEXT NOT NULL,
    actor_id   TEXT,
    ref_id     TEXT,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO journal_rowid (position, id, scope, type, actor_id, ref_id, payload, created_at)
    SELECT position, id, scope, type, actor_id, ref_id, payload, created_at FROM journal ORDER BY position;
DROP TABLE journal;
ALTER TABLE journal_rowid RENAME TO journal;
CREATE INDEX journal_scope_position ON journal (scope, position);

CREATE TABLE box_events_rowid (
    position    INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    box_id      TEXT NOT NULL REFERENCES boxes (id),
    type        TEXT NOT NULL,
    listed      BOOLEAN NOT NULL,
    sender_id   TEXT REFERENCES identities (id),
    referrer_id TEXT,
    content     TEXT NOT NULL,
    file_id     TEXT,
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted_at  BIGINT,
    deleted_by  TEXT
);
INSERT INTO box_events_rowid (position, id, box_id, type, listed, sender_id, referrer_id, content,
        file_id, created_at, edited_at, deleted_at, deleted_by)
    SELECT position, id, box_id, type, listed, sender_id, referrer_id, content,
        file_id, created_at, edited_at, deleted_at, deleted_by FROM box_events ORDER BY position;
DROP TABLE box_events;
ALTER TABLE box_events_rowid RENAME TO box_events;
CREATE INDEX box_events_listing ON box_events (box_id, listed, position);
CREATE INDEX box_events_file ON box_events (file_id) WHERE file_id IS NOT NULL;
