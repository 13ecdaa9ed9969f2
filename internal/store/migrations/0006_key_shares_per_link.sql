-- A box may have several invitation links at once, as in Misakey's
-- reference: a member adds one with POST /box-key-shares beside the
-- others; the admin's state.key_share replaces them all. The box_id column
-- was UNIQUE (one link per box); the table is rebuilt without that, the
-- same way on both engines.
CREATE TABLE box_key_shares_v6 (
    other_share_hash               TEXT PRIMARY KEY,
    box_id                         TEXT NOT NULL REFERENCES boxes (id),
    misakey_share                  TEXT NOT NULL,
    encrypted_invitation_key_share TEXT,
    created_at                     BIGINT NOT NULL
);
INSERT INTO box_key_shares_v6 (other_share_hash, box_id, misakey_share, encrypted_invitation_key_share, created_at)
    SELECT other_share_hash, box_id, misakey_share, encrypted_invitation_key_share, created_at FROM box_key_shares;
DROP TABLE box_key_shares;
ALTER TABLE box_key_shares_v6 RENAME TO box_key_shares;
CREATE INDEX box_key_shares_box ON box_key_shares (box_id, created_at);
