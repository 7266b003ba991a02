package dev.switchboard.store.sql;

import static dev.switchboard.domain.DeliveryState.DEAD;
import static dev.switchboard.domain.DeliveryState.DELIVERED;
import static dev.switchboard.domain.DeliveryState.IN_FLIGHT;
import static dev.switchboard.domain.DeliveryState.PENDING;
import static dev.switchboard.domain.DeliveryState.RETRY_SCHEDULED;
import static dev.switchboard.domain.DeliveryState.SKIPPED;
import static dev.switchboard.store.sql.DeliveryStateSql.from;
import static dev.switchboard.store.sql.DeliveryStateSql.is;
import static dev.switchboard.store.sql.DeliveryStateSql.to;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.Finish;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The writes of a delivery's attempt, for {@link SqlDeliveryQueue}: the claim of one delivery, its
 * outcome (with its attempt record, the per-key watermark and the backlog tally), lease renewals,
 * hand-backs and the reaper's return of lost leases. Each is a {@link SqlWriter} op.
 *
 * <p>Fencing: every write after a claim carries {@code AND state = 'in_flight' AND lease_token =
 * ?}; a write that matches no row changed nothing (its lease was lost) and reports false. Each
 * write's source states come from the table of moves ({@link DeliveryStateSql}).
 */
final class SqlDeliveryOutcomes {
  private static final String CLAIM =
      "UPDATE deliveries SET "
          + to(IN_FLIGHT)
          + ", lease_token = ?, lease_expires_at = ?,"
          + " first_attempt_at = COALESCE(first_attempt_at, ?), updated_at = ?"
          + " WHERE id = ? AND "
          + from("state", IN_FLIGHT)
          + " AND next_attempt_at <= ?";

  /** An outcome of the claim holding the lease: it moves {@code target} only what is in flight. */
  private static String fence(DeliveryState target) {
    return " WHERE id = ? AND " + from("state", target, IN_FLIGHT) + " AND lease_token = ?";
  }

  /** A final outcome names its destination, for that destination's backlog tally. */
  private static final String RETURNING_DESTINATION = " RETURNING destination";

  private static final String FINISH_DELIVERED =
      "UPDATE deliveries SET "
          + to(DELIVERED)
          + ", attempts = attempts + 1, lease_token = NULL,"
          + " lease_expires_at = NULL, last_error = NULL, error_class = NULL, updated_at = ?"
          + fence(DELIVERED)
          + RETURNING_DESTINATION;

  private static final String FINISH_RETRY =
      "UPDATE deliveries SET "
          + to(RETRY_SCHEDULED)
          + ", attempts = attempts + 1,"
          + " lease_token = NULL, lease_expires_at = NULL, next_attempt_at = ?, last_error = ?,"
          + " error_class = ?, updated_at = ?"
          + fence(RETRY_SCHEDULED);

  private static final String FINISH_DEAD =
      "UPDATE deliveries SET "
          + to(DEAD)
          + ", attempts = attempts + ?, lease_token = NULL,"
          + " lease_expires_at = NULL, last_error = ?, error_class = ?, updated_at = ?"
          + fence(DEAD)
          + RETURNING_DESTINATION;

  private static final String FINISH_SKIPPED =
      "UPDATE deliveries SET "
          + to(SKIPPED)
          + ", lease_token = NULL, lease_expires_at = NULL,"
          + " last_error = ?, updated_at = ?"
          + fence(SKIPPED)
          + RETURNING_DESTINATION;

  private static final String INSERT_ATTEMPT =
      "INSERT INTO attempts (delivery_id, number, started_at, duration_ms, status, outcome, error,"
          + " excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

  private static final String WATERMARK =
      "INSERT INTO key_watermarks (route, partition_key, event_time) VALUES (?, ?, ?)"
          + " ON CONFLICT (route, partition_key) DO UPDATE SET event_time = excluded.event_time"
          + " WHERE excluded.event_time > key_watermarks.event_time";

  /** Not a move: the lease of what is in flight is extended. */
  private static final String RENEW =
      "UPDATE deliveries SET lease_expires_at = ? WHERE id = ? AND "
          + is("state", IN_FLIGHT)
          + " AND lease_token = ?";

  private static final String REAP =
      "UPDATE deliveries SET "
          + to(PENDING)
          + ", lease_token = NULL, lease_expires_at = NULL,"
          + " updated_at = ? WHERE "
          + from("state", PENDING, IN_FLIGHT);

  private static final String REAP_EXPIRED = REAP + " AND lease_expires_at < ?";

  private static final String UNCLAIM =
      "UPDATE deliveries SET "
          + to(PENDING)
          + ", lease_token = NULL, lease_expires_at = NULL,"
          + " updated_at = ?"
          + fence(PENDING);

  private final SqlWriter writer;

  /**
   * Claims one by one, outcomes, lease renewals and hand-backs: {@link #writer} on SQLite, a
   * connection of their own on PostgreSQL.
   */
  private final SqlWriter outcomes;

  /**
   * Many "delivered" outcomes in one statement ({@link Dialect#finishDeliveredMany}), or null where
   * each is written on its own.
   */
  private final String deliveredMany;

  private final BacklogTally unfinished;
  private final Clock clock;

  SqlDeliveryOutcomes(SqlWriter writer, SqlWriter outcomes, BacklogTally unfinished, Clock clock) {
    this.writer = writer;
    this.outcomes = outcomes;
    this.deliveredMany = outcomes.dialect().finishDeliveredMany();
    this.unfinished = unfinished;
    this.clock = clock;
  }

  CompletableFuture<Boolean> claim(DeliveryId id, String token, Instant now, Instant leaseUntil) {
    return outcomes
        .submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(CLAIM);
              ps.setString(1, token);
              ps.setLong(2, leaseUntil.toEpochMilli());
              ps.setLong(3, now.toEpochMilli());
              ps.setLong(4, now.toEpochMilli());
              ps.setString(5, id.value());
              ps.setLong(6, now.toEpochMilli());
              return ps.executeUpdate() == 1;
            })
        .thenApply(Boolean.class::cast);
  }

  CompletableFuture<Boolean> finish(Finish finish, Instant now) {
    return outcomes.submit(new FinishOp(finish, now)).thenApply(Boolean.class::cast);
  }

  private boolean applyFinish(Finish finish, Instant now, SqlWriter.Context ctx)
      throws SQLException {
    long at = now.toEpochMilli();
    PreparedStatement ps;
    int fence;
    AttemptRecord attempt = null;
    boolean terminal = true;
    switch (finish) {
      case Finish.Delivered d -> {
        ps = ctx.statement(FINISH_DELIVERED);
        ps.setLong(1, at);
        fence = 2;
        attempt = d.attempt();
      }
      case Finish.Retry r -> {
        ps = ctx.statement(FINISH_RETRY);
        ps.setLong(1, r.nextAttemptAt().toEpochMilli());
        ps.setString(2, r.attempt().error());
        ps.setString(3, r.errorClass());
        ps.setLong(4, at);
        fence = 5;
        attempt = r.attempt();
        terminal = false;
      }
      case Finish.Dead d -> {
        ps = ctx.statement(FINISH_DEAD);
        ps.setInt(1, d.attempt() == null ? 0 : 1);
        ps.setString(2, d.error());
        ps.setString(3, d.errorClass());
        ps.setLong(4, at);
        fence = 5;
        attempt = d.attempt();
      }
      case Finish.Skipped s -> {
        ps = ctx.statement(FINISH_SKIPPED);
        ps.setString(1, s.reason());
        ps.setLong(2, at);
        fence = 3;
      }
    }
    ps.setString(fence, finish.id().value());
    ps.setString(fence + 1, finish.token());
    String destination = null;
    if (terminal) {
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        destination = rs.getString(1);
      }
    } else if (ps.executeUpdate() != 1) {
      return false;
    }
    finished(finish, attempt, destination, ctx);
    return true;
  }

  /**
   * What follows an outcome that held its lease: its attempt, watermark and the tally ({@code
   * destination}, of a final outcome, has one unfinished delivery less; null for a retry).
   */
  private void finished(
      Finish finish, AttemptRecord attempt, String destination, SqlWriter.Context ctx)
      throws SQLException {
    if (attempt != null) {
      PreparedStatement insert = ctx.batch(INSERT_ATTEMPT);
      insert.setString(1, finish.id().value());
      insert.setInt(2, attempt.number());
      insert.setLong(3, attempt.startedAt().toEpochMilli());
      insert.setLong(4, attempt.duration().toMillis());
      insert.setInt(5, attempt.status());
      insert.setString(6, attempt.outcome());
      insert.setString(7, attempt.error());
      insert.setString(8, attempt.excerpt());
      insert.addBatch();
    }
    if (finish instanceof Finish.Delivered d && d.watermark() != null) {
      PreparedStatement mark = ctx.statement(WATERMARK);
      mark.setString(1, d.watermark().route());
      mark.setString(2, d.watermark().partitionKey());
      mark.setLong(3, d.watermark().eventTime().toEpochMilli());
      mark.executeUpdate();
    }
    if (destination != null) {
      ctx.afterCommit(() -> unfinished.add(destination, -1));
    }
  }

  /** An outcome; on the delivery writer of a server database, neighbouring "delivered"s group. */
  private final class FinishOp implements SqlWriter.GroupedOp {
    private final Finish finish;
    private final Instant now;

    FinishOp(Finish finish, Instant now) {
      this.finish = finish;
      this.now = now;
    }

    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return applyFinish(finish, now, ctx);
    }

    @Override
    public SqlWriter.Group group() {
      return finish instanceof Finish.Delivered && deliveredMany != null ? deliveredGroup : null;
    }
  }

  /**
   * Applies a run of "delivered" outcomes as if one after the other: one statement updates the
   * first of each id and inserts its attempt (one round trip for the run), then any repeat of an id
   * is applied on its own (it finds the row already finished, as it would have in turn).
   */
  private final SqlWriter.Group deliveredGroup = this::applyDelivered;

  private List<Object> applyDelivered(List<SqlWriter.WriteOp> ops, SqlWriter.Context ctx)
      throws SQLException {
    Object[] results = new Object[ops.size()];
    if (ops.size() == 1) {
      return List.of(ops.get(0).apply(ctx));
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    int n = ops.size();
    List<String> ids = new ArrayList<>(n);
    List<String> tokens = new ArrayList<>(n);
    List<Long> times = new ArrayList<>(n);
    List<Integer> numbers = new ArrayList<>(n);
    List<Long> starts = new ArrayList<>(n);
    List<Long> durations = new ArrayList<>(n);
    List<Integer> statuses = new ArrayList<>(n);
    List<String> outcomes = new ArrayList<>(n);
    List<String> errors = new ArrayList<>(n);
    List<String> excerpts = new ArrayList<>(n);
    for (SqlWriter.WriteOp op : ops) {
      FinishOp f = (FinishOp) op;
      if (seen.add(f.finish.id().value())) {
        ids.add(f.finish.id().value());
        tokens.add(f.finish.token());
        times.add(f.now.toEpochMilli());
        // the attempt goes in with the update, for the ids whose lease held
        AttemptRecord a = ((Finish.Delivered) f.finish).attempt();
        numbers.add(a == null ? null : a.number());
        starts.add(a == null ? null : a.startedAt().toEpochMilli());
        durations.add(a == null ? null : a.duration().toMillis());
        statuses.add(a == null ? null : a.status());
        outcomes.add(a == null ? null : a.outcome());
        errors.add(a == null ? null : a.error());
        excerpts.add(a == null ? null : a.excerpt());
      }
    }
    java.sql.Connection c = ctx.connection();
    PreparedStatement ps = ctx.statement(deliveredMany);
    ps.setArray(1, c.createArrayOf("text", ids.toArray()));
    ps.setArray(2, c.createArrayOf("text", tokens.toArray()));
    ps.setArray(3, c.createArrayOf("bigint", times.toArray()));
    ps.setArray(4, c.createArrayOf("int4", numbers.toArray()));
    ps.setArray(5, c.createArrayOf("bigint", starts.toArray()));
    ps.setArray(6, c.createArrayOf("bigint", durations.toArray()));
    ps.setArray(7, c.createArrayOf("int4", statuses.toArray()));
    ps.setArray(8, c.createArrayOf("text", outcomes.toArray()));
    ps.setArray(9, c.createArrayOf("text", errors.toArray()));
    ps.setArray(10, c.createArrayOf("text", excerpts.toArray()));
    Map<String, String> held = new java.util.HashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        held.put(rs.getString(1), rs.getString(2));
      }
    }
    seen.clear();
    for (int i = 0; i < results.length; i++) {
      FinishOp f = (FinishOp) ops.get(i);
      if (!seen.add(f.finish.id().value())) {
        results[i] = f.apply(ctx); // a repeat of an id: in turn, after the first
      } else if (held.containsKey(f.finish.id().value())) {
        // its attempt is in already (the statement inserted it); the watermark and tally follow
        finished(f.finish, null, held.get(f.finish.id().value()), ctx);
        results[i] = true;
      } else {
        results[i] = false;
      }
    }
    return java.util.Arrays.asList(results);
  }

  CompletableFuture<Integer> renew(Map<DeliveryId, String> leases, Instant leaseUntil) {
    return outcomes
        .submit(
            ctx -> {
              int renewed = 0;
              PreparedStatement ps = ctx.statement(RENEW);
              for (Map.Entry<DeliveryId, String> lease : leases.entrySet()) {
                ps.setLong(1, leaseUntil.toEpochMilli());
                ps.setString(2, lease.getKey().value());
                ps.setString(3, lease.getValue());
                renewed += ps.executeUpdate();
              }
              return renewed;
            })
        .thenApply(Integer.class::cast);
  }

  int reapExpired(Instant now) {
    return (Integer)
        SqlEventStore.await(
            writer.submit(
                ctx -> {
                  PreparedStatement ps = ctx.statement(REAP_EXPIRED);
                  ps.setLong(1, now.toEpochMilli());
                  ps.setLong(2, now.toEpochMilli());
                  return ps.executeUpdate();
                }));
  }

  /** Only where this process is the sole writer: on a shared database, other nodes hold leases. */
  int reapAll() {
    long now = clock.millis();
    return (Integer)
        SqlEventStore.await(
            writer.submit(
                ctx -> {
                  PreparedStatement ps = ctx.statement(REAP);
                  ps.setLong(1, now);
                  return ps.executeUpdate();
                }));
  }

  CompletableFuture<Integer> unclaim(Map<DeliveryId, String> leases, Instant now) {
    return outcomes
        .submit(
            ctx -> {
              int back = 0;
              PreparedStatement ps = ctx.statement(UNCLAIM);
              for (Map.Entry<DeliveryId, String> lease : leases.entrySet()) {
                ps.setLong(1, now.toEpochMilli());
                ps.setString(2, lease.getKey().value());
                ps.setString(3, lease.getValue());
                back += ps.executeUpdate();
              }
              return back;
            })
        .thenApply(Integer.class::cast);
  }
}
