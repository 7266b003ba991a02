-- Releasing a quarantined event (docs/admin-api.md): who released it and when, kept on the event
-- as replays and discards are kept on the delivery. Shared SQL for SQLite and PostgreSQL.
ALTER TABLE events ADD COLUMN released_by TEXT;
ALTER TABLE events ADD COLUMN released_at BIGINT;
