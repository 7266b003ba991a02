package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.Purged;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Retention in small pieces. Finding what may go is a read on a reader connection (it may scan many
 * kept rows, and must not hold the writer while it does); removing it is a writer op of at most
 * {@link #BATCH} events with their deliveries and attempts, or {@link #BATCH} idempotency keys,
 * which checks the rule again by primary key, since a replay may have come in between. So an ingest
 * batch waits behind at most one small purge op. Standard SQL for SQLite and PostgreSQL: no {@code
 * DELETE … LIMIT}, sub-selects instead.
 *
 * <p>Where several nodes share the database, each writer op first takes the dialect's {@link
 * Dialect#purgeLock() purge lock} (a PostgreSQL advisory lock held until its batch commits, never
 * waited for): a node that finds another one purging leaves this round to it. So purges of two
 * nodes never delete the same rows at once (no lock waits or deadlocks between them), and an ingest
 * batch still waits behind at most one small purge op.
 *
 * <p>The rule (also in {@code StoreConfig.Retention} and the configuration docs): an event goes
 * when it was received before the {@code delivered} cutoff and every one of its deliveries is final
 * and settled: delivered or skipped (a discarded dead letter is skipped) and last changed before
 * the {@code delivered} cutoff, or dead and dead since before the {@code dead} cutoff. A delivery
 * that can still be attempted (pending, in flight, retry scheduled) keeps its event whatever its
 * age; a replay makes it pending and starts its clock again. A quarantined event is kept as long as
 * a dead letter.
 */
final class SqlRetention {
  /** Events (or keys) per writer op: a few milliseconds of deletes on SQLite. */
  static final int BATCH = 500;

  /** Parameters: delivered cutoff, dead cutoff, dead cutoff, delivered cutoff. */
  private static final String PURGEABLE =
      " e.received_at <= ? AND (e.status <> '"
          + EventStatus.QUARANTINED.dbValue()
          + "' OR e.received_at <= ?)"
          + " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id"
          + " AND ("
          + DeliveryStateSql.in("d.state", DeliveryStateSql.UNFINISHED)
          + " OR ("
          + DeliveryStateSql.is("d.state", DeliveryState.DEAD)
          + " AND d.updated_at > ?)"
          + " OR (d.state <> "
          + DeliveryStateSql.literal(DeliveryState.DEAD)
          + " AND d.updated_at > ?)))";

  /**
   * Oldest first after a (received_at, id) position, over the events_received index. The position
   * is a row-value comparison: SQLite turns it into a range of that index, and so stops after
   * {@link #BATCH} rows; the equivalent {@code received_at > ? OR (received_at = ? AND id > ?)}
   * made it read and sort every event up to the cutoff for each batch (soak finding: a purge that
   * fell behind ingest as the backlog grew). {@code SqlRetentionTest} checks the plan.
   */
  static final String CANDIDATES =
      "SELECT e.id, e.received_at FROM events e"
          + " WHERE (e.received_at, e.id) > (?, ?) AND"
          + PURGEABLE
          + " ORDER BY e.received_at, e.id LIMIT ?";

  static final String PURGE_KEYS =
      "DELETE FROM idempotency_keys WHERE (source, idempotency_key) IN"
          + " (SELECT source, idempotency_key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)";

  /** Where a scan for candidates stopped: the last (received_at, id) it returned. */
  record Position(long receivedAt, String id) {
    static final Position START = new Position(Long.MIN_VALUE, "");
  }

  /** Up to {@link #BATCH} purgeable events after {@code after}, and where to go on from. */
  record Candidates(List<String> ids, Position last) {}

  private SqlRetention() {}

  /** Reads the next candidates (on a reader connection); never writes. */
  static Candidates candidates(Connection c, Position after, long deliveredCutoff, long deadCutoff)
      throws SQLException {
    List<String> ids = new ArrayList<>();
    Position last = after;
    try (PreparedStatement ps = c.prepareStatement(CANDIDATES)) {
      ps.setLong(1, after.receivedAt());
      ps.setString(2, after.id());
      bindRule(ps, 3, deliveredCutoff, deadCutoff);
      ps.setInt(7, BATCH);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
          last = new Position(rs.getLong(2), rs.getString(1));
        }
      }
    }
    return new Candidates(ids, last);
  }

  /**
   * One writer op: removes those of {@code ids} that the rule still allows, with their deliveries
   * and attempts (children first, for the foreign keys).
   */
  static Purged purgeEvents(
      SqlWriter.Context ctx, String lock, List<String> ids, long deliveredCutoff, long deadCutoff)
      throws SQLException {
    if (ids.isEmpty()) {
      return Purged.NONE;
    }
    if (!mayPurge(ctx, lock)) {
      return null;
    }
    Connection c = ctx.connection();
    List<String> still = new ArrayList<>(ids.size());
    // the statement text varies with the batch size, so it is not kept with the connection's
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT e.id FROM events e WHERE e.id IN " + marks(ids.size()) + " AND" + PURGEABLE)) {
      bindIds(ps, ids);
      bindRule(ps, ids.size() + 1, deliveredCutoff, deadCutoff);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          still.add(rs.getString(1));
        }
      }
    }
    if (still.isEmpty()) {
      return Purged.NONE;
    }
    String in = marks(still.size());
    long attempts =
        delete(
            c,
            "DELETE FROM attempts WHERE delivery_id IN"
                + " (SELECT id FROM deliveries WHERE event_id IN "
                + in
                + ")",
            still);
    long deliveries = delete(c, "DELETE FROM deliveries WHERE event_id IN " + in, still);
    long events = delete(c, "DELETE FROM events WHERE id IN " + in, still);
    return new Purged(events, deliveries, attempts, 0);
  }

  /**
   * One writer op: up to {@link #BATCH} expired idempotency keys; returns how many, or -1 when
   * another node is purging.
   */
  static int purgeKeys(SqlWriter.Context ctx, String lock, long now) throws SQLException {
    if (!mayPurge(ctx, lock)) {
      return -1;
    }
    PreparedStatement purge = ctx.statement(PURGE_KEYS);
    purge.setLong(1, now);
    purge.setInt(2, BATCH);
    return purge.executeUpdate();
  }

  /** Takes the purge lock where there is one; false when another node holds it. */
  private static boolean mayPurge(SqlWriter.Context ctx, String lock) throws SQLException {
    if (lock == null) {
      return true;
    }
    try (ResultSet rs = ctx.statement(lock).executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  private static void bindRule(
      PreparedStatement ps, int from, long deliveredCutoff, long deadCutoff) throws SQLException {
    ps.setLong(from, deliveredCutoff);
    ps.setLong(from + 1, deadCutoff);
    ps.setLong(from + 2, deadCutoff);
    ps.setLong(from + 3, deliveredCutoff);
  }

  private static String marks(int n) {
    return "(" + String.join(", ", Collections.nCopies(n, "?")) + ")";
  }

  private static void bindIds(PreparedStatement ps, List<String> ids) throws SQLException {
    for (int i = 0; i < ids.size(); i++) {
      ps.setString(i + 1, ids.get(i));
    }
  }

  private static long delete(Connection c, String sql, List<String> ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bindIds(ps, ids);
      return ps.executeUpdate();
    }
  }
}
