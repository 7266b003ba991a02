package dev.switchboard.store.sql;

import dev.switchboard.store.Purged;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Retention as write ops: each op removes at most {@link #BATCH} events (with their deliveries and
 * attempts) or idempotency keys, so ingest batches never wait long behind a purge. Shared SQL for
 * SQLite and PostgreSQL.
 *
 * <p>An event is purged only when none of its deliveries can still be attempted (pending,
 * in_flight, retry_scheduled), it was received before the {@code delivered} cutoff, none of its
 * deliveries changed after that cutoff (a replay starts the clock again), and none is a dead letter
 * younger than the {@code dead} cutoff. A discarded dead letter is a handled one: it counts as
 * final from its discard time. Quarantined events are kept as long as dead letters.
 */
final class SqlRetention {
  static final int BATCH = 1_000;

  private static final String PURGEABLE_EVENTS =
      "SELECT e.id FROM events e WHERE e.received_at <= ?"
          + " AND (e.status <> 'quarantined' OR e.received_at <= ?)"
          + " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id"
          + " AND (d.state IN ('pending', 'in_flight', 'retry_scheduled')"
          + " OR (d.state = 'dead' AND d.updated_at > ?)"
          + " OR (d.state <> 'dead' AND d.updated_at > ?)))"
          + " ORDER BY e.received_at LIMIT ?";

  static final String PURGE_KEYS =
      "DELETE FROM idempotency_keys WHERE (source, idempotency_key) IN"
          + " (SELECT source, idempotency_key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)";

  private SqlRetention() {}

  /** One batch of old events; returns what it removed ({@code events < BATCH} means done). */
  static Purged purgeEvents(SqlWriter.Context ctx, long deliveredCutoff, long deadCutoff)
      throws SQLException {
    List<String> ids = new ArrayList<>();
    PreparedStatement select = ctx.statement(PURGEABLE_EVENTS);
    select.setLong(1, deliveredCutoff);
    select.setLong(2, deadCutoff);
    select.setLong(3, deadCutoff);
    select.setLong(4, deliveredCutoff);
    select.setInt(5, BATCH);
    try (ResultSet rs = select.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    if (ids.isEmpty()) {
      return Purged.NONE;
    }
    String in = "(" + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")";
    long attempts =
        delete(
            ctx,
            "DELETE FROM attempts WHERE delivery_id IN"
                + " (SELECT id FROM deliveries WHERE event_id IN "
                + in
                + ")",
            ids);
    long deliveries = delete(ctx, "DELETE FROM deliveries WHERE event_id IN " + in, ids);
    long events = delete(ctx, "DELETE FROM events WHERE id IN " + in, ids);
    return new Purged(events, deliveries, attempts, 0);
  }

  /** One batch of expired idempotency keys; returns how many ({@code < BATCH} means done). */
  static int purgeKeys(SqlWriter.Context ctx, long now) throws SQLException {
    PreparedStatement purge = ctx.statement(PURGE_KEYS);
    purge.setLong(1, now);
    purge.setInt(2, BATCH);
    return purge.executeUpdate();
  }

  private static long delete(SqlWriter.Context ctx, String sql, List<String> ids)
      throws SQLException {
    // the statement text varies with the batch size, so it is not kept with the connection's
    try (PreparedStatement ps = ctx.connection().prepareStatement(sql)) {
      for (int i = 0; i < ids.size(); i++) {
        ps.setString(i + 1, ids.get(i));
      }
      return ps.executeUpdate();
    }
  }
}
