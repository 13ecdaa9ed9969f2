-- Identifiers are proven, not claimed (DESIGN §3). An identity's e-mail
-- is verified once its owner proved the mailbox, or when the operator or a
-- domain granted to the organisation vouches for it. Box access rules,
-- invitations and crypto actions match verified identifiers only.
--
-- Identities that exist before this migration were admitted under the old
-- rules and are taken as verified, so an upgrade locks nobody out; the
-- operator can take that back with `boxwire user unverify` (docs/security.md).
ALTER TABLE identities ADD COLUMN identifier_verified_at BIGINT;
UPDATE identities SET identifier_verified_at = created_at;

-- Domains the operator granted to an organisation: addresses there that
-- the organisation's admins create or rename are verified at once. A
-- domain belongs to one organisation at most.
CREATE TABLE org_domains (
    domain     TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- The one pending verification code of an identity, for the identifier it
-- was sent to: renaming the identity voids it.
CREATE TABLE identifier_codes (
    identity_id      TEXT PRIMARY KEY REFERENCES identities (id) ON DELETE CASCADE,
    identifier_value TEXT NOT NULL,
    code_hash        TEXT NOT NULL,
    sent_at          BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0
);
