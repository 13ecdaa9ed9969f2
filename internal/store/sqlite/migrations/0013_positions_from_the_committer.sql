-- PostgreSQL's 0013 stops its journal's identity column: the committer
-- gives positions out on both engines. SQLite's positions are rowids,
-- which take a given value as they are; nothing to change. The migration
-- exists so that both engines report the same version.
SELECT 1;
