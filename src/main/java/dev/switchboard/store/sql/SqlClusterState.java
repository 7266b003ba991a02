package dev.switchboard.store.sql;

import dev.switchboard.store.ClusterState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link ClusterState} in the {@code nodes} and {@code destination_limits} tables. Writes go
 * through the group-commit writer (one small op each); reads use a reader connection. Each change
 * is one statement that decides by itself (an upsert keeping the later time, a compare-and-set on
 * the breaker's time), so nodes never read-modify-write across statements.
 */
final class SqlClusterState implements ClusterState {
  private static final String BEAT =
      "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)"
          + " ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";

  private static final String FORGET = "DELETE FROM nodes WHERE heartbeat_at < ?";

  private static final String LIVE = "SELECT COUNT(*) FROM nodes WHERE heartbeat_at >= ?";

  private static final String LEAVE = "DELETE FROM nodes WHERE id = ?";

  private static final String READ =
      "SELECT destination, breaker_open_until, paused_until, updated_at FROM destination_limits";

  /**
   * Keeps the later open time (portable: no GREATEST on SQLite), except that it replaces the window
   * of the failed probe it follows.
   */
  private static final String OPEN =
      "INSERT INTO destination_limits (destination, breaker_open_until, paused_until, updated_at)"
          + " VALUES (?, ?, 0, ?) ON CONFLICT (destination) DO UPDATE SET"
          + " breaker_open_until = CASE WHEN excluded.breaker_open_until"
          + " > destination_limits.breaker_open_until OR destination_limits.breaker_open_until = ?"
          + " THEN excluded.breaker_open_until ELSE destination_limits.breaker_open_until END,"
          + " updated_at = excluded.updated_at";

  /** Takes the probe only where the breaker is not open now: one node wins. */
  private static final String CLAIM =
      "INSERT INTO destination_limits (destination, breaker_open_until, paused_until, updated_at)"
          + " VALUES (?, ?, 0, ?) ON CONFLICT (destination) DO UPDATE SET"
          + " breaker_open_until = excluded.breaker_open_until, updated_at = excluded.updated_at"
          + " WHERE destination_limits.breaker_open_until <= ?";

  private static final String OPEN_UNTIL =
      "SELECT breaker_open_until FROM destination_limits WHERE destination = ?";

  private static final String CLOSE =
      "UPDATE destination_limits SET breaker_open_until = 0, updated_at = ?"
          + " WHERE destination = ? AND breaker_open_until = ?";

  private static final String PAUSE =
      "INSERT INTO destination_limits (destination, breaker_open_until, paused_until, updated_at)"
          + " VALUES (?, 0, ?, ?) ON CONFLICT (destination) DO UPDATE SET"
          + " paused_until = CASE WHEN excluded.paused_until > destination_limits.paused_until"
          + " THEN excluded.paused_until ELSE destination_limits.paused_until END,"
          + " updated_at = excluded.updated_at";

  private static final String END_HOLD =
      "UPDATE destination_limits SET paused_until = 0, updated_at = ? WHERE destination = ?";

  private final SqlWriter writer;
  private final SqlReaders readers;

  SqlClusterState(SqlWriter writer, SqlReaders readers) {
    this.writer = writer;
    this.readers = readers;
  }

  @Override
  public int heartbeat(
      String node, Instant startedAt, Instant now, Instant liveSince, Instant forgetBefore) {
    SqlEventStore.await(
        writer.submit(
            ctx -> {
              PreparedStatement beat = ctx.statement(BEAT);
              beat.setString(1, node);
              beat.setLong(2, startedAt.toEpochMilli());
              beat.setLong(3, now.toEpochMilli());
              beat.executeUpdate();
              PreparedStatement forget = ctx.statement(FORGET);
              forget.setLong(1, forgetBefore.toEpochMilli());
              return forget.executeUpdate();
            }));
    return readers.read(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(LIVE)) {
            ps.setLong(1, liveSince.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getInt(1);
            }
          }
        });
  }

  @Override
  public void leave(String node) {
    SqlEventStore.await(
        writer.submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(LEAVE);
              ps.setString(1, node);
              return ps.executeUpdate();
            }));
  }

  @Override
  public List<DestinationLimits> destinations() {
    return readers.read(
        c -> {
          List<DestinationLimits> all = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(READ);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              all.add(
                  new DestinationLimits(
                      rs.getString(1),
                      Instant.ofEpochMilli(rs.getLong(2)),
                      Instant.ofEpochMilli(rs.getLong(3)),
                      Instant.ofEpochMilli(rs.getLong(4))));
            }
          }
          return all;
        });
  }

  @Override
  public void openBreaker(String destination, Instant until, Instant failedProbe, Instant now) {
    SqlEventStore.await(
        writer.submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(OPEN);
              ps.setString(1, destination);
              ps.setLong(2, until.toEpochMilli());
              ps.setLong(3, now.toEpochMilli());
              ps.setLong(4, failedProbe == null ? -1 : failedProbe.toEpochMilli());
              return ps.executeUpdate();
            }));
  }

  @Override
  public void pause(String destination, Instant until, Instant now) {
    upsert(PAUSE, destination, until, now);
  }

  @Override
  public void endHold(String destination, Instant now) {
    SqlEventStore.await(
        writer.submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(END_HOLD);
              ps.setLong(1, now.toEpochMilli());
              ps.setString(2, destination);
              return ps.executeUpdate();
            }));
  }

  private void upsert(String sql, String destination, Instant until, Instant now) {
    SqlEventStore.await(
        writer.submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(sql);
              ps.setString(1, destination);
              ps.setLong(2, until.toEpochMilli());
              ps.setLong(3, now.toEpochMilli());
              return ps.executeUpdate();
            }));
  }

  @Override
  public Instant claimProbe(String destination, Instant now, Instant probeUntil) {
    Object answer =
        SqlEventStore.await(
            writer.submit(
                ctx -> {
                  PreparedStatement claim = ctx.statement(CLAIM);
                  claim.setString(1, destination);
                  claim.setLong(2, probeUntil.toEpochMilli());
                  claim.setLong(3, now.toEpochMilli());
                  claim.setLong(4, now.toEpochMilli());
                  if (claim.executeUpdate() == 1) {
                    return null;
                  }
                  PreparedStatement read = ctx.statement(OPEN_UNTIL);
                  read.setString(1, destination);
                  try (ResultSet rs = read.executeQuery()) {
                    return rs.next() ? Instant.ofEpochMilli(rs.getLong(1)) : null;
                  }
                }));
    return (Instant) answer;
  }

  @Override
  public void closeBreaker(String destination, Instant probeUntil, Instant now) {
    SqlEventStore.await(
        writer.submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(CLOSE);
              ps.setLong(1, now.toEpochMilli());
              ps.setString(2, destination);
              ps.setLong(3, probeUntil.toEpochMilli());
              return ps.executeUpdate();
            }));
  }
}
