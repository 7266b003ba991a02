-- Cluster-wide limits (docs/adr/0009-cluster-limits.md). Shared SQL for SQLite and PostgreSQL;
-- only nodes on a shared database write these tables (SQLite leaves them empty).

-- The nodes sharing the database: a random id per process start, and its last heartbeat. A node
-- is live while its heartbeat is recent; rows of dead nodes are removed after a while.
CREATE TABLE nodes (
  id           TEXT   NOT NULL PRIMARY KEY,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);

-- What one node learned about a destination that every node must respect: its circuit breaker is
-- open until breaker_open_until (0: closed by a successful probe), or it asked to be left alone
-- (Retry-After) until paused_until. Times are epoch milliseconds.
CREATE TABLE destination_limits (
  destination        TEXT   NOT NULL PRIMARY KEY,
  breaker_open_until BIGINT NOT NULL,
  paused_until       BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL
);
