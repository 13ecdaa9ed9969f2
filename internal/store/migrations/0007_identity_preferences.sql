-- Preferences Misakey's clients keep on an identity (PATCH
-- /identities/{id}): how often to be sent e-mail digests, and a profile
-- colour; the reference's default frequency is "minimal". And whether the
-- identity shows its e-mail address on its public profile
-- (/identities/{id}/profile/config), off by default.
ALTER TABLE identities ADD COLUMN notifications TEXT NOT NULL DEFAULT 'minimal';
ALTER TABLE identities ADD COLUMN color TEXT;
ALTER TABLE identities ADD COLUMN share_email BOOLEAN NOT NULL DEFAULT FALSE;
