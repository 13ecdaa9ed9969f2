-- Boxes (DESIGN §4). Box events are journal entries: box_events holds
-- them folded (edits and deletions applied) for listing, keyed by their
-- journal position; an event is found by id through journal.id. A box's
-- newest activity is the MAX position of its listed events (an index
-- seek), not a column every append would have to rewrite.
CREATE TABLE boxes (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    access_mode   TEXT NOT NULL CHECK (access_mode IN ('limited', 'public')),
    lifecycle     TEXT NOT NULL CHECK (lifecycle IN ('open', 'closed')),
    creator_id    TEXT NOT NULL REFERENCES identities (id),
    owner_org_id  TEXT,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX boxes_creator ON boxes (creator_id);

CREATE TABLE box_events (
    position    BIGINT PRIMARY KEY,
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
CREATE INDEX box_events_listing ON box_events (box_id, listed, position);
CREATE INDEX box_events_file ON box_events (file_id) WHERE file_id IS NOT NULL;

-- Active access.add rules; access.rm deletes the row.
CREATE TABLE box_accesses (
    event_id         TEXT PRIMARY KEY,
    box_id           TEXT NOT NULL REFERENCES boxes (id),
    restriction_type TEXT NOT NULL,
    value            TEXT NOT NULL
);
CREATE INDEX box_accesses_box ON box_accesses (box_id);

-- Active joins: one per identity and box; leave and kick delete the row.
CREATE TABLE box_members (
    box_id        TEXT NOT NULL REFERENCES boxes (id),
    identity_id   TEXT NOT NULL REFERENCES identities (id),
    join_event_id TEXT NOT NULL,
    PRIMARY KEY (box_id, identity_id)
);
CREATE INDEX box_members_identity ON box_members (identity_id);

-- The server's half of the current invitation link of a box.
CREATE TABLE box_key_shares (
    other_share_hash               TEXT PRIMARY KEY,
    box_id                         TEXT NOT NULL UNIQUE REFERENCES boxes (id),
    misakey_share                  TEXT NOT NULL,
    encrypted_invitation_key_share TEXT,
    created_at                     BIGINT NOT NULL
);

-- Unread counts: the newest position each member acknowledged.
CREATE TABLE box_reads (
    box_id        TEXT NOT NULL REFERENCES boxes (id),
    identity_id   TEXT NOT NULL REFERENCES identities (id),
    seen_position BIGINT NOT NULL,
    PRIMARY KEY (box_id, identity_id)
);

CREATE TABLE box_settings (
    identity_id TEXT NOT NULL REFERENCES identities (id),
    box_id      TEXT NOT NULL REFERENCES boxes (id),
    muted       BOOLEAN NOT NULL,
    PRIMARY KEY (identity_id, box_id)
);

CREATE TABLE encrypted_files (
    id         TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    identity_id     TEXT NOT NULL REFERENCES identities (id),
    type            TEXT NOT NULL,
    details         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    acknowledged_at BIGINT
);
CREATE INDEX notifications_identity ON notifications (identity_id, created_at);

-- Encrypted key deliveries waiting for an identity (invitations).
CREATE TABLE crypto_actions (
    id                    TEXT PRIMARY KEY,
    identity_id           TEXT NOT NULL REFERENCES identities (id),
    type                  TEXT NOT NULL,
    box_id                TEXT,
    sender_id             TEXT,
    encryption_public_key TEXT NOT NULL,
    encrypted             TEXT NOT NULL,
    created_at            BIGINT NOT NULL
);
CREATE INDEX crypto_actions_identity ON crypto_actions (identity_id, created_at);
