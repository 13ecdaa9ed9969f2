-- API tokens for integrations (POST /oauth/tokens): a session with a name
-- and no refresh, whose token is "bwt_" + id + "." + secret (the secret's
-- hash is refresh_hash, which the refresh grant refuses for them).
ALTER TABLE sessions ADD COLUMN token_name TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
