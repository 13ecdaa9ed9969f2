-- Deleting an identity, a team or a template clears or removes the rows
-- that point at it (ON DELETE SET NULL / CASCADE). Without an index on
-- the pointing column, each such delete read every conversation or
-- broadcast of the server, all organisations together. Partial: most
-- conversations are assigned to no one.
CREATE INDEX conversations_user ON conversations (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX conversations_team ON conversations (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX broadcasts_template ON broadcasts (template_id);
