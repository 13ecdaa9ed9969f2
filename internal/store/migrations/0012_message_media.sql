-- Files of messages (issue 16.3, 16.4). media holds a file an
-- organisation keeps: fetched from a channel, or uploaded to be sent.
-- Its bytes are in the media blob store under its id. It belongs to an
-- API account, so who may download it is who reaches that account.
CREATE TABLE media (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    media_type     TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    file_name      TEXT NOT NULL DEFAULT '',
    size           BIGINT NOT NULL,
    file_location  TEXT NOT NULL,
    created_by     TEXT REFERENCES identities (id) ON DELETE SET NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX media_org ON media (org_id, created_at);

-- A message's file: media_status is '' (none), pending (an incoming file
-- still to fetch from the channel's media_source id), ready or failed
-- (media_error says why). media_next_at and media_attempts pace the
-- fetches as next_attempt_at and send_attempts pace sends.
ALTER TABLE messages ADD COLUMN media_type TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_id TEXT;
ALTER TABLE messages ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN file_location TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_status TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_error TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_source TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_mime TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN media_next_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_media_due ON messages (media_status, media_next_at);
