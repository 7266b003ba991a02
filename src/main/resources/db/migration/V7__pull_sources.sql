-- Pulled sources (docs/sources.md, "Genesys Cloud notifications"): until when each source is known
-- to hold every event, so that a restart, even after a crash, backfills from there. Written by the
-- same writer as the events it vouches for. Shared SQL for SQLite and PostgreSQL.
CREATE TABLE pull_sources (
  source        TEXT   NOT NULL PRIMARY KEY,
  covered_until BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
