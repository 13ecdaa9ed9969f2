-- Preferences Misakey's clients keep on an identity (PATCH
-- /identities/{id}): how often to be sent e-mail digests, and a profile
-- colour. The reference's default frequency is "minimal".
ALTER TABLE identities ADD COLUMN notifications TEXT NOT NULL DEFAULT 'minimal';
ALTER TABLE identities ADD COLUMN color TEXT;
