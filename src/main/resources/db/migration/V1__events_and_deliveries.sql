-- Shared SQL for SQLite and PostgreSQL: TEXT, BIGINT (epoch milliseconds), INTEGER only.

CREATE TABLE events (
  id                TEXT    NOT NULL PRIMARY KEY,
  source            TEXT    NOT NULL,
  idempotency_key   TEXT,
  event_time        BIGINT  NOT NULL,
  partition_key     TEXT,
  received_at       BIGINT  NOT NULL,
  payload           TEXT    NOT NULL,
  headers           TEXT    NOT NULL,
  status            TEXT    NOT NULL,
  quarantine_reason TEXT
);
CREATE INDEX events_source_received ON events (source, received_at);
CREATE INDEX events_status_received ON events (status, received_at);

-- One row per (source, key) while the key's TTL lasts; written in the same transaction as the
-- event, so a rolled-back ingest leaves no mark and the sender's retry is accepted.
CREATE TABLE idempotency_keys (
  source          TEXT   NOT NULL,
  idempotency_key TEXT   NOT NULL,
  event_id        TEXT   NOT NULL,
  expires_at      BIGINT NOT NULL,
  PRIMARY KEY (source, idempotency_key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE deliveries (
  id               TEXT    NOT NULL PRIMARY KEY,
  event_id         TEXT    NOT NULL REFERENCES events (id),
  route            TEXT    NOT NULL,
  destination      TEXT    NOT NULL,
  state            TEXT    NOT NULL,
  partition_key    TEXT,
  event_time       BIGINT  NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT  NOT NULL,
  lease_token      TEXT,
  lease_expires_at BIGINT,
  last_error       TEXT,
  created_at       BIGINT  NOT NULL,
  updated_at       BIGINT  NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_key ON deliveries (destination, partition_key, event_time);

-- Readiness probes write here to prove the store still takes writes: row 1 is rewritten, and a
-- padded row 2 is inserted and deleted in the same transaction, so the probe needs free space
-- just as an event would.
CREATE TABLE store_heartbeat (
  id      INTEGER NOT NULL PRIMARY KEY,
  beat_at BIGINT  NOT NULL,
  padding TEXT
);
INSERT INTO store_heartbeat (id, beat_at) VALUES (1, 0);
