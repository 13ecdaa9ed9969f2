-- An operator can disable an identity (boxwire user disable): it can no
-- longer sign in and its sessions end; enabling it clears the time.
ALTER TABLE identities ADD COLUMN disabled_at BIGINT;
