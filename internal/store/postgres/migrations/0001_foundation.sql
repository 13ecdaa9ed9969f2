-- Identities, organisations, sign-in sessions, server settings, and the
-- journal. Times are Unix microseconds.
CREATE TABLE identities (
    id                    TEXT PRIMARY KEY,
    identifier_value      TEXT NOT NULL UNIQUE,
    identifier_kind       TEXT NOT NULL DEFAULT 'email',
    display_name          TEXT NOT NULL,
    avatar_url            TEXT,
    password_hash         TEXT NOT NULL,
    pubkey                TEXT,
    non_identified_pubkey TEXT,
    created_at            BIGINT NOT NULL
);

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE org_members (
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, identity_id)
);
CREATE INDEX org_members_identity ON org_members (identity_id);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    identity_id       TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    calling_app       TEXT NOT NULL,
    refresh_hash      TEXT NOT NULL,
    prev_refresh_hash TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    revoked_at        BIGINT
);
CREATE INDEX sessions_identity ON sessions (identity_id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- An identity column never hands a position out twice; appends are
-- serialised by an advisory lock so positions commit in order.
CREATE TABLE journal (
    position   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL,
    type       TEXT NOT NULL,
    actor_id   TEXT,
    ref_id     TEXT,
    payload    JSONB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX journal_scope_position ON journal (scope, position);
