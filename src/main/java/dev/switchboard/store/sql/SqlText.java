package dev.switchboard.store.sql;

import dev.switchboard.domain.EventStatus;

/** The statements shared by every dialect. */
final class SqlText {
  private SqlText() {}

  /** An event status's stored value as an SQL literal. */
  private static String status(EventStatus status) {
    return "'" + status.dbValue() + "'";
  }

  /**
   * Claims an idempotency key for a new event: inserts it, or takes over an expired one. Updates no
   * row when a live key exists, which is how a duplicate is recognised.
   */
  static final String CLAIM_KEY =
      "INSERT INTO idempotency_keys (source, idempotency_key, event_id, expires_at)"
          + " VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (source, idempotency_key) DO UPDATE"
          + " SET event_id = excluded.event_id, expires_at = excluded.expires_at"
          + " WHERE idempotency_keys.expires_at <= ?";

  static final String FIND_KEY =
      "SELECT event_id FROM idempotency_keys WHERE source = ? AND idempotency_key = ?";

  static final String INSERT_EVENT =
      "INSERT INTO events (id, source, idempotency_key, event_time, partition_key, received_at,"
          + " payload, headers, status, quarantine_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  static final String INSERT_DELIVERY =
      "INSERT INTO deliveries (id, event_id, route, destination, state, partition_key,"
          + " event_time, next_attempt_at, created_at, updated_at, seq, last_error, error_class)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  static final String SELECT_EVENT =
      "SELECT id, source, idempotency_key, event_time, partition_key, received_at, payload,"
          + " headers, status, quarantine_reason, released_by, released_at FROM events";

  static final String RELEASE_EVENT =
      "UPDATE events SET status = "
          + status(EventStatus.ACCEPTED)
          + ", quarantine_reason = NULL, released_by = ?,"
          + " released_at = ?, payload = COALESCE(?, payload)"
          + " WHERE id = ? AND status = "
          + status(EventStatus.QUARANTINED);

  static final String KEEP_QUARANTINED =
      "UPDATE events SET quarantine_reason = ? WHERE id = ? AND status = "
          + status(EventStatus.QUARANTINED);

  static final String HEARTBEAT = "UPDATE store_heartbeat SET beat_at = ? WHERE id = 1";

  /** A pulled source's coverage only moves forward (docs/sources.md). */
  static final String SAVE_PULL_COVERAGE =
      "INSERT INTO pull_sources (source, covered_until, updated_at) VALUES (?, ?, ?)"
          + " ON CONFLICT (source) DO UPDATE SET"
          + " covered_until = CASE WHEN excluded.covered_until > pull_sources.covered_until"
          + " THEN excluded.covered_until ELSE pull_sources.covered_until END,"
          + " updated_at = excluded.updated_at";

  static final String PULL_COVERAGE = "SELECT covered_until FROM pull_sources WHERE source = ?";

  static final String PROBE_SPACE =
      "INSERT INTO store_heartbeat (id, beat_at, padding) VALUES (2, ?, ?)";

  static final String END_PROBE = "DELETE FROM store_heartbeat WHERE id = 2";
}
