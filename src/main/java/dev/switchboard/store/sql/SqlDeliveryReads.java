package dev.switchboard.store.sql;

import static dev.switchboard.store.sql.DeliveryStateSql.UNFINISHED;
import static dev.switchboard.store.sql.DeliveryStateSql.in;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.PagePosition;
import dev.switchboard.store.QueuedDelivery;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What {@link SqlDeliveryQueue} reads, on the reader connections (never the writer): the scans the
 * dispatcher runs, per-key ordering's look-ups, and the listings and counts of the admin API; and
 * the mapping of delivery rows, shared with the writes that return rows.
 */
final class SqlDeliveryReads {
  static final String COLUMNS =
      "d.id, d.event_id, e.source, d.route, d.destination, d.partition_key, d.event_time,"
          + " e.received_at, d.seq, d.state, d.attempts, d.first_attempt_at, d.next_attempt_at,"
          + " e.payload, e.headers FROM deliveries d JOIN events e ON e.id = d.event_id";

  static final String DELIVERY_COLUMNS =
      "id, event_id, route, destination, state, partition_key, event_time, attempts,"
          + " next_attempt_at, last_error, error_class, replays, handled_by, handled_at,"
          + " created_at, updated_at FROM deliveries";

  /** Unfinished, or dead: what the queue's views count, and what may block a key. */
  private static final Set<DeliveryState> OPEN = open();

  private static Set<DeliveryState> open() {
    Set<DeliveryState> open = EnumSet.copyOf(UNFINISHED);
    open.add(DeliveryState.DEAD);
    return open;
  }

  /** Ranges over deliveries_queue (destination, state, …): never reads the delivered history. */
  static final String COUNT_OPEN =
      "SELECT state, COUNT(*) FROM deliveries WHERE destination = ?"
          + " AND "
          + in("state", OPEN)
          + " GROUP BY state";

  /**
   * The delivery before another of its (route, key) that is still unfinished (and, with {@code
   * on_dead: block}, dead): per-key ordering waits for it.
   */
  private static String earlierSql(Set<DeliveryState> states) {
    return "SELECT "
        + COLUMNS
        + " WHERE d.route = ? AND d.partition_key = ? AND "
        + in("d.state", states)
        + " AND (d.event_time < ? OR (d.event_time = ? AND d.seq < ?)) AND d.id <> ?"
        + " ORDER BY d.event_time, d.seq LIMIT 1";
  }

  private static final String EARLIER_UNFINISHED = earlierSql(UNFINISHED);

  private static final String EARLIER_UNFINISHED_OR_DEAD = earlierSql(OPEN);

  private final SqlReaders readers;

  SqlDeliveryReads(SqlReaders readers) {
    this.readers = readers;
  }

  List<QueuedDelivery> scan(
      String destination,
      DeliveryState state,
      Instant now,
      Instant afterTime,
      long afterSeq,
      int limit) {
    String sql =
        "SELECT "
            + COLUMNS
            + " WHERE d.destination = ? AND d.state = ? AND d.next_attempt_at >= ?"
            + " AND d.next_attempt_at <= ? AND (d.next_attempt_at > ? OR d.seq > ?)"
            + " ORDER BY d.next_attempt_at, d.seq LIMIT ?";
    return readers.read(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            long after = afterTime == null ? Long.MIN_VALUE : afterTime.toEpochMilli();
            ps.setString(1, destination);
            ps.setString(2, state.dbValue());
            ps.setLong(3, after);
            ps.setLong(4, now.toEpochMilli());
            ps.setLong(5, after);
            ps.setLong(6, afterSeq);
            ps.setInt(7, limit);
            return mapQueued(ps);
          }
        });
  }

  Optional<QueuedDelivery> earlierUnfinished(QueuedDelivery d, boolean includeDead) {
    String sql = includeDead ? EARLIER_UNFINISHED_OR_DEAD : EARLIER_UNFINISHED;
    return readers.read(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, d.route());
            ps.setString(2, d.partitionKey());
            ps.setLong(3, d.eventTime().toEpochMilli());
            ps.setLong(4, d.eventTime().toEpochMilli());
            ps.setLong(5, d.seq());
            ps.setString(6, d.id().value());
            return mapQueued(ps).stream().findFirst();
          }
        });
  }

  Optional<Instant> watermark(String route, String partitionKey) {
    return readers.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT event_time FROM key_watermarks WHERE route = ? AND partition_key = ?")) {
            ps.setString(1, route);
            ps.setString(2, partitionKey);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(Instant.ofEpochMilli(rs.getLong(1)))
                  : Optional.empty();
            }
          }
        });
  }

  long count(DeliveryFilter filter) {
    FilterSql where = FilterSql.of(filter, DeliveryState.values());
    return readers.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT COUNT(*) FROM deliveries" + where.sql())) {
            where.bind(ps, 1);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  List<String> pausedDestinations() {
    return readers.read(
        c -> {
          List<String> paused = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT destination FROM destination_state WHERE paused = 1"
                          + " ORDER BY destination");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              paused.add(rs.getString(1));
            }
          }
          return paused;
        });
  }

  Optional<DeliveryRecord> findDelivery(DeliveryId id) {
    return readers.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + DELIVERY_COLUMNS + " WHERE id = ?")) {
            ps.setString(1, id.value());
            return mapRecords(ps).stream().findFirst();
          }
        });
  }

  List<DeliveryRecord> deliveriesOf(EventId eventId) {
    return readers.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT " + DELIVERY_COLUMNS + " WHERE event_id = ? ORDER BY route, id")) {
            ps.setString(1, eventId.value());
            return mapRecords(ps);
          }
        });
  }

  List<AttemptRecord> attemptsOf(DeliveryId id) {
    return readers.read(
        c -> {
          List<AttemptRecord> attempts = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT number, started_at, duration_ms, status, outcome, error, excerpt"
                      + " FROM attempts WHERE delivery_id = ? ORDER BY started_at, number")) {
            ps.setString(1, id.value());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                attempts.add(
                    new AttemptRecord(
                        rs.getInt(1),
                        Instant.ofEpochMilli(rs.getLong(2)),
                        Duration.ofMillis(rs.getLong(3)),
                        rs.getInt(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7)));
              }
            }
          }
          return attempts;
        });
  }

  Map<DeliveryState, Long> countByState(String destination) {
    return readers.read(
        c -> {
          Map<DeliveryState, Long> counts = new EnumMap<>(DeliveryState.class);
          for (DeliveryState s : DeliveryState.values()) {
            counts.put(s, 0L);
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT state, COUNT(*) FROM deliveries WHERE (? IS NULL OR destination = ?)"
                      + " GROUP BY state")) {
            ps.setString(1, destination);
            ps.setString(2, destination);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                counts.put(DeliveryState.fromDb(rs.getString(1)), rs.getLong(2));
              }
            }
          }
          return counts;
        });
  }

  List<DeliveryRecord> findDeliveries(DeliveryFilter filter, PagePosition after, int limit) {
    FilterSql where = FilterSql.of(filter, DeliveryState.values());
    String sql = findDeliveriesSql(where, after != null);
    return readers.read(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            where.bind(ps, 1);
            int next = where.params().size() + 1;
            if (after != null) {
              long at = after.at().toEpochMilli();
              ps.setLong(next++, at);
              ps.setLong(next++, at);
              ps.setString(next++, after.id());
            }
            ps.setInt(next, limit);
            return mapRecords(ps);
          }
        });
  }

  /** The listing's SQL (package-private so a test can ask the planner about it). */
  static String findDeliveriesSql(FilterSql where, boolean after) {
    // created_at <= ? lets the planner range over the index; the row value breaks ties by id
    return "SELECT "
        + DELIVERY_COLUMNS
        + where.sql()
        + (after ? " AND created_at <= ? AND (created_at, id) < (?, ?)" : "")
        + " ORDER BY created_at DESC, id DESC LIMIT ?";
  }

  Map<DeliveryState, Long> countOpen(String destination) {
    return readers.read(
        c -> {
          Map<DeliveryState, Long> counts = new EnumMap<>(DeliveryState.class);
          for (DeliveryState s : DeliveryState.values()) {
            counts.put(s, 0L);
          }
          try (PreparedStatement ps = c.prepareStatement(COUNT_OPEN)) {
            ps.setString(1, destination);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                counts.put(DeliveryState.fromDb(rs.getString(1)), rs.getLong(2));
              }
            }
          }
          return counts;
        });
  }

  static List<QueuedDelivery> mapQueued(PreparedStatement ps) throws SQLException {
    List<QueuedDelivery> result = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        long first = rs.getLong(12);
        Instant firstAttemptAt = rs.wasNull() ? null : Instant.ofEpochMilli(first);
        result.add(
            new QueuedDelivery(
                new DeliveryId(rs.getString(1)),
                new EventId(rs.getString(2)),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                Instant.ofEpochMilli(rs.getLong(7)),
                Instant.ofEpochMilli(rs.getLong(8)),
                rs.getLong(9),
                DeliveryState.fromDb(rs.getString(10)),
                rs.getInt(11),
                firstAttemptAt,
                Instant.ofEpochMilli(rs.getLong(13)),
                rs.getString(14),
                SqlEventStore.fromJson(rs.getString(15))));
      }
    }
    return result;
  }

  static List<DeliveryRecord> mapRecords(PreparedStatement ps) throws SQLException {
    List<DeliveryRecord> result = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        long handled = rs.getLong("handled_at");
        Instant handledAt = rs.wasNull() ? null : Instant.ofEpochMilli(handled);
        result.add(
            new DeliveryRecord(
                new DeliveryId(rs.getString("id")),
                new EventId(rs.getString("event_id")),
                rs.getString("route"),
                rs.getString("destination"),
                DeliveryState.fromDb(rs.getString("state")),
                rs.getString("partition_key"),
                Instant.ofEpochMilli(rs.getLong("event_time")),
                rs.getInt("attempts"),
                Instant.ofEpochMilli(rs.getLong("next_attempt_at")),
                rs.getString("last_error"),
                rs.getString("error_class"),
                rs.getInt("replays"),
                rs.getString("handled_by"),
                handledAt,
                Instant.ofEpochMilli(rs.getLong("created_at")),
                Instant.ofEpochMilli(rs.getLong("updated_at"))));
      }
    }
    return result;
  }
}
