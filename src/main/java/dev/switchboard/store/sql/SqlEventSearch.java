package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventSummary;
import dev.switchboard.store.PagePosition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The events search as shared SQL, newest first with keyset paging on (received_at, id). Each
 * filter but the text has an index (V1, V3); the planner picks one and reads rows in order, so a
 * page costs about its own size, however deep it is.
 *
 * <p>The payload text is matched with {@code LIKE} on the stored, redacted payload, which no index
 * serves: a page of a text search first finds its scan horizon (the {@link
 * EventQuery#TEXT_SCAN_ROWS}th row matching the other filters) and matches text only up to it. A
 * page can then come back short, with a cursor that goes on behind the horizon.
 */
final class SqlEventSearch {
  private static final String COLUMNS =
      "id, source, idempotency_key, event_time, partition_key, received_at, status,"
          + " quarantine_reason FROM events";

  /** SQL and its parameters, in order. */
  record Built(String sql, List<Object> params) {
    void bind(PreparedStatement ps) throws SQLException {
      for (int i = 0; i < params.size(); i++) {
        ps.setObject(i + 1, params.get(i));
      }
    }
  }

  private SqlEventSearch() {}

  static EventPage run(Connection c, EventQuery q) throws SQLException {
    return run(c, q, EventQuery.TEXT_SCAN_ROWS);
  }

  /** As above, with the text search's scan bound given (tests use a small one). */
  static EventPage run(Connection c, EventQuery q, int scanRows) throws SQLException {
    PagePosition horizon = null;
    if (q.text() != null) {
      Built bound = horizon(q, scanRows);
      try (PreparedStatement ps = c.prepareStatement(bound.sql())) {
        bound.bind(ps);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            horizon = new PagePosition(Instant.ofEpochMilli(rs.getLong(1)), rs.getString(2));
          }
        }
      }
    }
    Built page = page(q, horizon);
    List<EventSummary> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(page.sql())) {
      page.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(summary(rs));
        }
      }
    }
    PagePosition next = null;
    if (rows.size() > q.limit()) {
      rows = rows.subList(0, q.limit());
      EventSummary last = rows.get(rows.size() - 1);
      next = new PagePosition(last.receivedAt(), last.id().value());
    } else if (horizon != null) {
      next = horizon;
    }
    return new EventPage(withDeliveryCounts(c, rows), next, next != null && next == horizon);
  }

  /** How many events match the filters (the page position and limit aside). */
  static long count(Connection c, EventQuery q) throws SQLException {
    EventQuery all =
        new EventQuery(
            q.source(),
            q.status(),
            q.receivedFrom(),
            q.receivedTo(),
            q.partitionKey(),
            q.idempotencyKey(),
            q.text(),
            null,
            1);
    StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM events");
    List<Object> params = new ArrayList<>();
    where(all, sql, params);
    if (all.text() != null) {
      sql.append(" AND LOWER(payload) LIKE ? ESCAPE '\\'");
      params.add("%" + likeEscaped(asciiLower(all.text())) + "%");
    }
    Built built = new Built(sql.toString(), params);
    try (PreparedStatement ps = c.prepareStatement(built.sql())) {
      built.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** The page itself: one row more than asked, to know whether there is a next page. */
  static Built page(EventQuery q, PagePosition horizon) {
    StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS);
    List<Object> params = new ArrayList<>();
    where(q, sql, params);
    if (horizon != null) {
      sql.append(" AND received_at >= ? AND (received_at, id) >= (?, ?)");
      params.add(horizon.at().toEpochMilli());
      params.add(horizon.at().toEpochMilli());
      params.add(horizon.id());
    }
    if (q.text() != null) {
      sql.append(" AND LOWER(payload) LIKE ? ESCAPE '\\'");
      params.add("%" + likeEscaped(asciiLower(q.text())) + "%");
    }
    sql.append(" ORDER BY received_at DESC, id DESC LIMIT ?");
    params.add(q.limit() + 1);
    return new Built(sql.toString(), params);
  }

  /** The last row a text search may read on this page, if the filters match that many. */
  static Built horizon(EventQuery q, int scanRows) {
    StringBuilder sql = new StringBuilder("SELECT received_at, id FROM events");
    List<Object> params = new ArrayList<>();
    where(q, sql, params);
    sql.append(" ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET ?");
    params.add(scanRows - 1);
    return new Built(sql.toString(), params);
  }

  private static void where(EventQuery q, StringBuilder sql, List<Object> params) {
    sql.append(" WHERE 1 = 1");
    if (q.source() != null) {
      sql.append(" AND source = ?");
      params.add(q.source());
    }
    if (q.status() != null) {
      sql.append(" AND status = ?");
      params.add(q.status().dbValue());
    }
    if (q.partitionKey() != null) {
      sql.append(" AND partition_key = ?");
      params.add(q.partitionKey());
    }
    if (q.idempotencyKey() != null) {
      sql.append(" AND idempotency_key = ?");
      params.add(q.idempotencyKey());
    }
    if (q.receivedFrom() != null) {
      sql.append(" AND received_at >= ?");
      params.add(q.receivedFrom().toEpochMilli());
    }
    if (q.receivedTo() != null) {
      sql.append(" AND received_at < ?");
      params.add(q.receivedTo().toEpochMilli());
    }
    if (q.after() != null) {
      // the plain bound lets the planner range over an index; the row value breaks ties by id
      sql.append(" AND received_at <= ? AND (received_at, id) < (?, ?)");
      params.add(q.after().at().toEpochMilli());
      params.add(q.after().at().toEpochMilli());
      params.add(q.after().id());
    }
  }

  private static EventSummary summary(ResultSet rs) throws SQLException {
    return new EventSummary(
        new EventId(rs.getString(1)),
        rs.getString(2),
        rs.getString(3),
        Instant.ofEpochMilli(rs.getLong(4)),
        rs.getString(5),
        Instant.ofEpochMilli(rs.getLong(6)),
        EventStatus.fromDb(rs.getString(7)),
        rs.getString(8),
        Map.of());
  }

  /** Adds each event's delivery counts by state, in one query over deliveries_event. */
  private static List<EventSummary> withDeliveryCounts(Connection c, List<EventSummary> rows)
      throws SQLException {
    if (rows.isEmpty()) {
      return rows;
    }
    Map<String, Map<DeliveryState, Integer>> counts = new HashMap<>();
    String sql =
        "SELECT event_id, state, COUNT(*) FROM deliveries WHERE event_id IN ("
            + "?, ".repeat(rows.size() - 1)
            + "?) GROUP BY event_id, state";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < rows.size(); i++) {
        ps.setString(i + 1, rows.get(i).id().value());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts
              .computeIfAbsent(rs.getString(1), k -> new EnumMap<>(DeliveryState.class))
              .put(DeliveryState.fromDb(rs.getString(2)), rs.getInt(3));
        }
      }
    }
    List<EventSummary> result = new ArrayList<>(rows.size());
    for (EventSummary e : rows) {
      result.add(
          new EventSummary(
              e.id(),
              e.source(),
              e.idempotencyKey(),
              e.eventTime(),
              e.partitionKey(),
              e.receivedAt(),
              e.status(),
              e.quarantineReason(),
              counts.getOrDefault(e.id().value(), new LinkedHashMap<>())));
    }
    return result;
  }

  /**
   * Lower-cases ASCII letters only: SQLite's {@code LOWER} does the same, so the match is
   * case-insensitive for ASCII and exact for everything else on every store.
   */
  static String asciiLower(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      out.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + ('a' - 'A')) : ch);
    }
    return out.toString();
  }

  static String likeEscaped(String text) {
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }
}
