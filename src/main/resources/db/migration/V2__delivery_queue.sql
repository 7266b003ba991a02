-- The delivery queue (see docs/adr/0005-delivery-queue.md). Shared SQL for SQLite and PostgreSQL.

-- Arrival order: the writer numbers deliveries as it creates them; ties in event time and the
-- queue's scan order use it. Existing rows keep 0 and sort first, as they arrived first.
ALTER TABLE deliveries ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
-- When the current round of attempts began (first claim after creation or replay), for max_age.
ALTER TABLE deliveries ADD COLUMN first_attempt_at BIGINT;
-- Who last replayed or discarded it, and when.
ALTER TABLE deliveries ADD COLUMN handled_by TEXT;
ALTER TABLE deliveries ADD COLUMN handled_at BIGINT;
ALTER TABLE deliveries ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
-- The class of the last error (http_4xx, http_5xx, timeout, transform, ...), for bulk replay.
ALTER TABLE deliveries ADD COLUMN error_class TEXT;

DROP INDEX deliveries_due;
DROP INDEX deliveries_key;
-- The dispatcher's scans: a destination's pending work in arrival order, its due retries in time
-- order, expired leases, and a route's unfinished work per partition key in event-time order.
CREATE INDEX deliveries_queue ON deliveries (destination, state, next_attempt_at, seq);
-- partial: only claimed rows are in it, so ingest and most outcomes never touch it
CREATE INDEX deliveries_lease ON deliveries (lease_expires_at) WHERE state = 'in_flight';
CREATE INDEX deliveries_key ON deliveries (route, partition_key, event_time, seq);

-- One row per try of a delivery; kept across replays so the whole history stays visible.
CREATE TABLE attempts (
  delivery_id  TEXT    NOT NULL REFERENCES deliveries (id),
  number       INTEGER NOT NULL,
  started_at   BIGINT  NOT NULL,
  duration_ms  BIGINT  NOT NULL,
  status       INTEGER NOT NULL,
  outcome      TEXT    NOT NULL,
  error        TEXT,
  excerpt      TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, started_at);

-- Per-key ordering with stale suppression: the newest event time delivered per (route, key),
-- written in the same transaction as the delivery it comes from.
CREATE TABLE key_watermarks (
  route         TEXT   NOT NULL,
  partition_key TEXT   NOT NULL,
  event_time    BIGINT NOT NULL,
  PRIMARY KEY (route, partition_key)
);

-- Operator state of a destination that must survive a restart.
CREATE TABLE destination_state (
  destination TEXT    NOT NULL PRIMARY KEY,
  paused      INTEGER NOT NULL,
  changed_by  TEXT,
  changed_at  BIGINT  NOT NULL
);
