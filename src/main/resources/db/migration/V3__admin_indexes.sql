-- Indexes for the admin API's searches (docs/admin-api.md). Shared SQL for SQLite and PostgreSQL.

-- Events newest first, alone or within a time range; keyset paging on (received_at, id).
CREATE INDEX events_received ON events (received_at, id);
-- "Everything about this interaction" and "the event with this key", newest first.
CREATE INDEX events_partition_key ON events (partition_key, received_at);
CREATE INDEX events_idempotency_key ON events (idempotency_key, received_at);

-- The dead-letter queue, newest first. Partial: only dead rows are in it, so ingest and every
-- other outcome never touch it, and listing or counting dead letters never reads the history.
CREATE INDEX deliveries_dead ON deliveries (created_at, id) WHERE state = 'dead';
CREATE INDEX deliveries_dead_destination ON deliveries (destination, created_at, id)
  WHERE state = 'dead';
