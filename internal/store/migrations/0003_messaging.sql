-- Business messaging (seed 004, DESIGN §6). Everything belongs to one
-- organisation (org_id) so every query can be confined to the caller's.
-- Times are Unix microseconds; flags are BOOLEAN (0/1 on SQLite).

-- A user's messaging profile in an organisation; the identity holds the
-- e-mail, password and display name.
ALTER TABLE org_members ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE org_members ADD COLUMN last_name TEXT NOT NULL DEFAULT '';

CREATE TABLE api_accounts (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('sandbox', 'whatsapp')),
    -- channel settings as JSON (WhatsApp ids and secrets)
    settings     TEXT NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    UNIQUE (org_id, phone_number)
);
CREATE INDEX api_accounts_org ON api_accounts (org_id, created_at);

CREATE TABLE inboxes (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX inboxes_account ON inboxes (api_account_id, created_at);

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_users (
    team_id     TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, identity_id)
);
CREATE INDEX team_users_identity ON team_users (identity_id);

CREATE TABLE team_accounts (
    team_id        TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    api_account_id TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, api_account_id)
);
CREATE INDEX team_accounts_account ON team_accounts (api_account_id);

CREATE TABLE contacts (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id   TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    mobile_number    TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    email            TEXT NOT NULL DEFAULT '',
    tags             TEXT NOT NULL DEFAULT '[]',
    -- when the contact last wrote: opens the 24-hour session window
    last_incoming_at BIGINT,
    created_at       BIGINT NOT NULL,
    UNIQUE (api_account_id, mobile_number)
);
CREATE INDEX contacts_org ON contacts (org_id, created_at);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    contact_id     TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    user_id        TEXT REFERENCES identities (id) ON DELETE SET NULL,
    team_id        TEXT REFERENCES teams (id) ON DELETE SET NULL,
    folder         TEXT NOT NULL DEFAULT 'inbox' CHECK (folder IN ('inbox', 'archive', 'spam')),
    created_at     BIGINT NOT NULL,
    UNIQUE (api_account_id, contact_id),
    CHECK (user_id IS NULL OR team_id IS NULL)
);
CREATE INDEX conversations_org ON conversations (org_id, created_at);

CREATE TABLE templates (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id   TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    template_text    TEXT NOT NULL,
    template_example TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (api_account_id, name)
);
CREATE INDEX templates_org ON templates (org_id, created_at);

-- Messages, both directions. An outgoing message is queued (send_state
-- 'queued') and sent by the channel sender; channel_message_id is the
-- channel's id, unique per account, which deduplicates inbound webhooks
-- and routes status updates.
CREATE TABLE messages (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id     TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    conversation_id    TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    contact_id         TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    body_text          TEXT NOT NULL,
    direction          TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    is_template        BOOLEAN NOT NULL DEFAULT FALSE,
    is_sent            BOOLEAN NOT NULL DEFAULT FALSE,
    is_delivered       BOOLEAN NOT NULL DEFAULT FALSE,
    is_read            BOOLEAN NOT NULL DEFAULT FALSE,
    failed_reason      TEXT NOT NULL DEFAULT '',
    send_state         TEXT NOT NULL DEFAULT 'done' CHECK (send_state IN ('queued', 'done')),
    send_attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    BIGINT NOT NULL DEFAULT 0,
    channel_message_id TEXT,
    sender_id          TEXT REFERENCES identities (id) ON DELETE SET NULL,
    broadcast_id       TEXT,
    created_at         BIGINT NOT NULL,
    UNIQUE (api_account_id, channel_message_id)
);
CREATE INDEX messages_org_time ON messages (org_id, created_at);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
CREATE INDEX messages_queued ON messages (send_state, next_attempt_at);

CREATE TABLE broadcasts (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_account_id TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    contact_id     TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    template_id    TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    message        TEXT NOT NULL,
    -- the template's placeholder values, JSON, for the channel's template send
    params         TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    message_id     TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX broadcasts_org ON broadcasts (org_id, created_at);

-- Outbound webhooks. position is the last journal position this hook has
-- dealt with: the dispatcher resumes after it, also after a restart.
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    target_url    TEXT NOT NULL,
    is_enabled    BOOLEAN NOT NULL,
    failure_count INTEGER NOT NULL DEFAULT 0,
    is_zapier     BOOLEAN NOT NULL DEFAULT FALSE,
    secret        TEXT NOT NULL,
    position      BIGINT NOT NULL,
    -- the node delivering this hook, until when: one node at a time, so
    -- a cluster does not send every event once per node
    lease_owner   TEXT NOT NULL DEFAULT '',
    lease_until   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id, created_at);

-- Channel statuses that arrived before the send's answer told Boxwire
-- the channel's message id; applied when it does, dropped after a day.
CREATE TABLE early_statuses (
    api_account_id     TEXT NOT NULL REFERENCES api_accounts (id) ON DELETE CASCADE,
    channel_message_id TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL
);
CREATE INDEX early_statuses_message ON early_statuses (api_account_id, channel_message_id);
CREATE INDEX early_statuses_time ON early_statuses (created_at);
