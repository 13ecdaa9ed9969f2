-- SQLite's 0004 rebuilds its journal and box_events so that positions are
-- rowids. PostgreSQL has nothing to change: positions come from a
-- sequence, and box_events' primary key is its only index on position.
-- The migration exists so that both engines report the same version.
SELECT 1;
