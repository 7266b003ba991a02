package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.PagePosition;
import dev.switchboard.store.QueuedDelivery;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The delivery queue on SQL. Claims, outcomes and operator actions are {@link SqlWriter} ops, so
 * they share transactions and syncs with ingest; scans and lookups use the readers.
 *
 * <p>Fencing: every write after a claim carries {@code AND state = 'in_flight' AND lease_token =
 * ?}; a write that matches no row changed nothing (its lease was lost) and reports false.
 */
public final class SqlDeliveryQueue implements DeliveryQueue {
  private static final String COLUMNS =
      "d.id, d.event_id, e.source, d.route, d.destination, d.partition_key, d.event_time,"
          + " e.received_at, d.seq, d.state, d.attempts, d.first_attempt_at, d.next_attempt_at,"
          + " e.payload, e.headers FROM deliveries d JOIN events e ON e.id = d.event_id";

  private static final String CLAIM =
      "UPDATE deliveries SET state = 'in_flight', lease_token = ?, lease_expires_at = ?,"
          + " first_attempt_at = COALESCE(first_attempt_at, ?), updated_at = ?"
          + " WHERE id = ? AND state IN ('pending', 'retry_scheduled') AND next_attempt_at <= ?";

  private static final String FENCE = " WHERE id = ? AND state = 'in_flight' AND lease_token = ?";

  /** A final outcome names its destination, for that destination's backlog tally. */
  private static final String RETURNING_DESTINATION = " RETURNING destination";

  private static final String DELIVERED =
      "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, lease_token = NULL,"
          + " lease_expires_at = NULL, last_error = NULL, error_class = NULL, updated_at = ?"
          + FENCE
          + RETURNING_DESTINATION;

  private static final String RETRY =
      "UPDATE deliveries SET state = 'retry_scheduled', attempts = attempts + 1,"
          + " lease_token = NULL, lease_expires_at = NULL, next_attempt_at = ?, last_error = ?,"
          + " error_class = ?, updated_at = ?"
          + FENCE;

  private static final String DEAD =
      "UPDATE deliveries SET state = 'dead', attempts = attempts + ?, lease_token = NULL,"
          + " lease_expires_at = NULL, last_error = ?, error_class = ?, updated_at = ?"
          + FENCE
          + RETURNING_DESTINATION;

  private static final String SKIPPED =
      "UPDATE deliveries SET state = 'skipped', lease_token = NULL, lease_expires_at = NULL,"
          + " last_error = ?, updated_at = ?"
          + FENCE
          + RETURNING_DESTINATION;

  private static final String INSERT_ATTEMPT =
      "INSERT INTO attempts (delivery_id, number, started_at, duration_ms, status, outcome, error,"
          + " excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

  private static final String WATERMARK =
      "INSERT INTO key_watermarks (route, partition_key, event_time) VALUES (?, ?, ?)"
          + " ON CONFLICT (route, partition_key) DO UPDATE SET event_time = excluded.event_time"
          + " WHERE excluded.event_time > key_watermarks.event_time";

  private static final String RENEW = "UPDATE deliveries SET lease_expires_at = ?" + FENCE;

  private static final String REAP =
      "UPDATE deliveries SET state = 'pending', lease_token = NULL, lease_expires_at = NULL,"
          + " updated_at = ? WHERE state = 'in_flight'";

  static final String DELIVERY_COLUMNS =
      "id, event_id, route, destination, state, partition_key, event_time, attempts,"
          + " next_attempt_at, last_error, error_class, replays, handled_by, handled_at,"
          + " created_at, updated_at FROM deliveries";

  /** Ranges over deliveries_queue (destination, state, …): never reads the delivered history. */
  static final String COUNT_OPEN =
      "SELECT state, COUNT(*) FROM deliveries WHERE destination = ?"
          + " AND state IN ('pending', 'in_flight', 'retry_scheduled', 'dead') GROUP BY state";

  private final SqlWriter writer;

  /** Cluster claims: {@link #writer} on SQLite, a connection of their own on PostgreSQL. */
  private final SqlWriter claims;

  /**
   * Outcomes, lease renewals and hand-backs: {@link #writer} on SQLite, a connection of their own
   * on PostgreSQL.
   */
  private final SqlWriter outcomes;

  private final SqlReaders readers;
  private final BacklogTally unfinished;
  private final SqlDeliveryActions actions;
  private final java.time.Clock clock;
  private volatile Consumer<List<QueuedDelivery>> listener = list -> {};

  SqlDeliveryQueue(
      SqlWriter writer,
      SqlWriter claims,
      SqlWriter outcomes,
      SqlReaders readers,
      BacklogTally unfinished,
      java.time.Clock clock) {
    this.clock = clock;
    this.writer = writer;
    this.claims = claims;
    this.outcomes = outcomes;
    this.readers = readers;
    this.unfinished = unfinished;
    this.actions = new SqlDeliveryActions(writer, unfinished);
  }

  /** Called by the event store after a batch that created pending deliveries committed. */
  void committed(List<QueuedDelivery> queued) {
    if (queued.isEmpty()) {
      return;
    }
    for (QueuedDelivery d : queued) {
      unfinished.add(d.destination(), 1);
    }
    listener.accept(queued);
  }

  @Override
  public void onCommitted(Consumer<List<QueuedDelivery>> listener) {
    this.listener = listener;
  }

  @Override
  public CompletableFuture<Boolean> claim(
      DeliveryId id, String token, Instant now, Instant leaseUntil) {
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

  @Override
  public CompletableFuture<Boolean> finish(Finish finish, Instant now) {
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
        ps = ctx.statement(DELIVERED);
        ps.setLong(1, at);
        fence = 2;
        attempt = d.attempt();
      }
      case Finish.Retry r -> {
        ps = ctx.statement(RETRY);
        ps.setLong(1, r.nextAttemptAt().toEpochMilli());
        ps.setString(2, r.attempt().error());
        ps.setString(3, r.errorClass());
        ps.setLong(4, at);
        fence = 5;
        attempt = r.attempt();
        terminal = false;
      }
      case Finish.Dead d -> {
        ps = ctx.statement(DEAD);
        ps.setInt(1, d.attempt() == null ? 0 : 1);
        ps.setString(2, d.error());
        ps.setString(3, d.errorClass());
        ps.setLong(4, at);
        fence = 5;
        attempt = d.attempt();
      }
      case Finish.Skipped s -> {
        ps = ctx.statement(SKIPPED);
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

  /**
   * Many deliveries' "delivered" in one statement (where each statement is a round trip): the same
   * fenced update as {@link #DELIVERED}, one row per (id, token, time); returns the ids whose lease
   * held.
   */
  private static final String DELIVERED_MANY =
      "UPDATE deliveries d SET state = 'delivered', attempts = d.attempts + 1,"
          + " lease_token = NULL, lease_expires_at = NULL, last_error = NULL, error_class = NULL,"
          + " updated_at = f.at FROM unnest(?::text[], ?::text[], ?::bigint[]) AS f (id, token, at)"
          + " WHERE d.id = f.id AND d.state = 'in_flight' AND d.lease_token = f.token"
          + " RETURNING d.id, d.destination";

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
      return finish instanceof Finish.Delivered && outcomes != writer ? deliveredGroup : null;
    }
  }

  /**
   * Applies a run of "delivered" outcomes as if one after the other: one update for the first of
   * each id, then any repeat of an id on its own (it finds the row already finished, as it would
   * have in turn).
   */
  private final SqlWriter.Group deliveredGroup =
      (ops, ctx) -> {
        Object[] results = new Object[ops.size()];
        if (ops.size() == 1) {
          return List.of(ops.get(0).apply(ctx));
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<String> ids = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        for (SqlWriter.WriteOp op : ops) {
          FinishOp f = (FinishOp) op;
          if (seen.add(f.finish.id().value())) {
            ids.add(f.finish.id().value());
            tokens.add(f.finish.token());
            times.add(f.now.toEpochMilli());
          }
        }
        java.sql.Connection c = ctx.connection();
        PreparedStatement ps = ctx.statement(DELIVERED_MANY);
        ps.setArray(1, c.createArrayOf("text", ids.toArray()));
        ps.setArray(2, c.createArrayOf("text", tokens.toArray()));
        ps.setArray(3, c.createArrayOf("bigint", times.toArray()));
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
            finished(
                f.finish,
                ((Finish.Delivered) f.finish).attempt(),
                held.get(f.finish.id().value()),
                ctx);
            results[i] = true;
          } else {
            results[i] = false;
          }
        }
        return java.util.Arrays.asList(results);
      };

  @Override
  public CompletableFuture<Integer> renew(Map<DeliveryId, String> leases, Instant leaseUntil) {
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

  @Override
  public int reapExpired(Instant now) {
    return (Integer)
        SqlEventStore.await(
            writer.submit(
                ctx -> {
                  PreparedStatement ps = ctx.statement(REAP + " AND lease_expires_at < ?");
                  ps.setLong(1, now.toEpochMilli());
                  ps.setLong(2, now.toEpochMilli());
                  return ps.executeUpdate();
                }));
  }

  /** Only where this process is the sole writer: on a shared database, other nodes hold leases. */
  @Override
  public int reapAll() {
    if (!singleNode()) {
      throw new IllegalStateException("reapAll on a shared database would take other nodes' work");
    }
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

  @Override
  public boolean singleNode() {
    return writer.dialect().soleWriter();
  }

  /** The first key of {@code pg_try_advisory_xact_lock(int, int)}: (route, key) locks. */
  static final int KEY_LOCK_SPACE = 0x5342;

  /**
   * Cluster mode: whether {@code c}, a due delivery of a per-key route, may go now: no delivery of
   * its (route, key) in flight (looked for among the destination's in-flight rows, a handful, on
   * deliveries_queue), and none before it in (event time, arrival, id) order unfinished — pending,
   * retry_scheduled, or dead on a route of the one parameter (on_dead: block) — looked for on
   * deliveries_key (route, partition_key, event_time, seq) up to {@code c}'s position: its cost
   * grows with the key's stored history, which retention bounds.
   */
  private static final String KEY_IS_FREE =
      " NOT EXISTS (SELECT 1 FROM deliveries f WHERE f.destination = c.destination"
          + " AND f.state = 'in_flight' AND f.route = c.route"
          + " AND f.partition_key = c.partition_key)"
          + " AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.route = c.route"
          + " AND o.partition_key = c.partition_key"
          + " AND (o.event_time, o.seq) <= (c.event_time, c.seq)"
          + " AND (o.event_time, o.seq, o.id) < (c.event_time, c.seq, c.id)"
          + " AND (o.state IN ('pending', 'retry_scheduled')"
          + " OR (o.state = 'dead' AND c.route = ANY(?))))";

  /**
   * The due rows of a destination in one state, in (next attempt, arrival) order, filtered by
   * {@code where}: one arm per state, so each is an ordered range of deliveries_queue that stops at
   * {@code LIMIT} (an {@code IN} over both states would sort the whole backlog).
   */
  private static String dueArm(String state, String where, boolean lock) {
    return "SELECT * FROM (SELECT c.id, c.route, c.partition_key, c.next_attempt_at, c.seq"
        + " FROM deliveries c WHERE c.destination = ? AND c.state = '"
        + state
        + "' AND c.next_attempt_at <= ?"
        + where
        + " ORDER BY c.next_attempt_at, c.seq LIMIT ?"
        + (lock ? " FOR UPDATE OF c SKIP LOCKED" : "")
        + ") "
        + state.charAt(0);
  }

  private static String dueArms(String where, boolean lock) {
    return "SELECT * FROM ("
        + dueArm("pending", where, lock)
        + " UNION ALL "
        + dueArm("retry_scheduled", where, lock)
        + ") w ORDER BY w.next_attempt_at, w.seq LIMIT ?";
  }

  /**
   * Cluster mode, before the claim: try-locks (for the transaction) the (route, key)s whose next
   * delivery may go now, as far as this statement's snapshot shows; a key another node is claiming
   * right now is skipped, never waited for. The claim after it runs with a fresh snapshot, so it
   * sees every claim of these keys that committed before the lock was taken. Parameters per arm:
   * destination, now, per-key routes, blocking routes, limit; then the limit.
   */
  private static final String LOCK_KEYS =
      "SELECT k.route, k.partition_key FROM (SELECT DISTINCT h.route, h.partition_key FROM ("
          + dueArms(
              " AND c.partition_key IS NOT NULL AND c.route = ANY(?) AND" + KEY_IS_FREE, false)
          + ") h) k WHERE pg_try_advisory_xact_lock("
          + KEY_LOCK_SPACE
          + ", hashtext(k.route || chr(31) || k.partition_key))";

  /**
   * Cluster mode: claims a batch in one statement. {@code SKIP LOCKED} passes over rows other nodes
   * are claiming or finishing; a per-key row needs its key locked above and free (KEY_IS_FREE);
   * nothing of a destination an operator paused on any node is claimed. Parameters: token, lease
   * end, now, now; per arm: destination, now, held routes, per-key routes, locked routes, locked
   * keys, blocking routes, limit; then the limit.
   */
  private static final String CLAIM_DUE =
      "WITH claimed AS (UPDATE deliveries SET state = 'in_flight', lease_token = ?,"
          + " lease_expires_at = ?, first_attempt_at = COALESCE(first_attempt_at, ?),"
          + " updated_at = ? WHERE id IN (SELECT d.id FROM ("
          + dueArms(
              " AND NOT EXISTS (SELECT 1 FROM destination_state s"
                  + " WHERE s.destination = c.destination AND s.paused = 1)"
                  + " AND NOT (c.route = ANY(?))"
                  + " AND (c.partition_key IS NULL OR NOT (c.route = ANY(?))"
                  + " OR ((c.route, c.partition_key) IN (SELECT * FROM unnest(?::text[], ?::text[]))"
                  + " AND"
                  + KEY_IS_FREE
                  + "))",
              true)
          + ") d) AND state IN ('pending', 'retry_scheduled')"
          + " RETURNING id, event_id, route, destination, partition_key, event_time, seq, state,"
          + " attempts, first_attempt_at, next_attempt_at)"
          + " SELECT d.id, d.event_id, e.source, d.route, d.destination, d.partition_key,"
          + " d.event_time, e.received_at, d.seq, d.state, d.attempts, d.first_attempt_at,"
          + " d.next_attempt_at, e.payload, e.headers FROM claimed d"
          + " JOIN events e ON e.id = d.event_id ORDER BY d.next_attempt_at, d.seq";

  private static final String UNCLAIM =
      "UPDATE deliveries SET state = 'pending', lease_token = NULL, lease_expires_at = NULL,"
          + " updated_at = ?"
          + FENCE;

  @Override
  public CompletableFuture<List<QueuedDelivery>> claimDue(
      String destination,
      java.util.Set<String> perKeyRoutes,
      java.util.Set<String> blockingRoutes,
      java.util.Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {
    if (singleNode()) {
      throw new IllegalStateException("claimDue is for a shared store");
    }
    long at = now.toEpochMilli();
    return claims
        .submit(
            ctx -> {
              java.sql.Connection c = ctx.connection();
              java.sql.Array perKey = c.createArrayOf("text", perKeyRoutes.toArray());
              java.sql.Array blocking = c.createArrayOf("text", blockingRoutes.toArray());
              List<String> lockedRoutes = new ArrayList<>();
              List<String> lockedKeys = new ArrayList<>();
              if (!perKeyRoutes.isEmpty()) {
                PreparedStatement lock = ctx.statement(LOCK_KEYS);
                int i = 1;
                for (int arm = 0; arm < 2; arm++) {
                  lock.setString(i++, destination);
                  lock.setLong(i++, at);
                  lock.setArray(i++, perKey);
                  lock.setArray(i++, blocking);
                  lock.setInt(i++, limit);
                }
                lock.setInt(i, limit);
                try (ResultSet rs = lock.executeQuery()) {
                  while (rs.next()) {
                    lockedRoutes.add(rs.getString(1));
                    lockedKeys.add(rs.getString(2));
                  }
                }
              }
              java.sql.Array held = c.createArrayOf("text", heldRoutes.toArray());
              java.sql.Array routesLocked = c.createArrayOf("text", lockedRoutes.toArray());
              java.sql.Array keysLocked = c.createArrayOf("text", lockedKeys.toArray());
              PreparedStatement ps = ctx.statement(CLAIM_DUE);
              ps.setString(1, token);
              ps.setLong(2, leaseUntil.toEpochMilli());
              ps.setLong(3, at);
              ps.setLong(4, at);
              int i = 5;
              for (int arm = 0; arm < 2; arm++) {
                ps.setString(i++, destination);
                ps.setLong(i++, at);
                ps.setArray(i++, held);
                ps.setArray(i++, perKey);
                ps.setArray(i++, routesLocked);
                ps.setArray(i++, keysLocked);
                ps.setArray(i++, blocking);
                ps.setInt(i++, limit);
              }
              ps.setInt(i, limit);
              return mapQueued(ps);
            })
        .thenApply(
            result -> {
              @SuppressWarnings("unchecked")
              List<QueuedDelivery> claimed = (List<QueuedDelivery>) result;
              return claimed;
            });
  }

  @Override
  public CompletableFuture<Integer> unclaim(Map<DeliveryId, String> leases, Instant now) {
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

  @Override
  public AutoCloseable onWork(Consumer<String> wake) {
    return writer.dialect().listenForWork(wake);
  }

  @Override
  public List<QueuedDelivery> scan(
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

  @Override
  public Optional<QueuedDelivery> earlierUnfinished(QueuedDelivery d, boolean includeDead) {
    String states =
        includeDead
            ? "('pending', 'in_flight', 'retry_scheduled', 'dead')"
            : "('pending', 'in_flight', 'retry_scheduled')";
    String sql =
        "SELECT "
            + COLUMNS
            + " WHERE d.route = ? AND d.partition_key = ? AND d.state IN "
            + states
            + " AND (d.event_time < ? OR (d.event_time = ? AND d.seq < ?)) AND d.id <> ?"
            + " ORDER BY d.event_time, d.seq LIMIT 1";
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

  @Override
  public Optional<Instant> watermark(String route, String partitionKey) {
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

  @Override
  public CompletableFuture<List<DeliveryRecord>> replay(
      DeliveryFilter filter, String by, Instant now) {
    return actions.replay(filter, by, now);
  }

  @Override
  public CompletableFuture<Integer> discard(DeliveryFilter filter, String by, Instant now) {
    return actions.discard(filter, by, now);
  }

  @Override
  public long count(DeliveryFilter filter) {
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

  @Override
  public CompletableFuture<Void> setPaused(
      String destination, boolean paused, String by, Instant now) {
    return actions.setPaused(destination, paused, by, now);
  }

  @Override
  public CompletableFuture<Integer> endHold(String destination, Instant heldUntil, Instant now) {
    return actions.endHold(destination, heldUntil, now);
  }

  @Override
  public CompletableFuture<List<DeliveryRecord>> expireUnattempted(
      String destination, Instant waitingSince, Instant notBefore, String error, Instant now) {
    return actions.expireUnattempted(destination, waitingSince, notBefore, error, now);
  }

  @Override
  public List<String> pausedDestinations() {
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

  @Override
  public Optional<DeliveryRecord> findDelivery(DeliveryId id) {
    return readers.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + DELIVERY_COLUMNS + " WHERE id = ?")) {
            ps.setString(1, id.value());
            return mapRecords(ps).stream().findFirst();
          }
        });
  }

  @Override
  public List<DeliveryRecord> deliveriesOf(EventId eventId) {
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

  @Override
  public List<AttemptRecord> attemptsOf(DeliveryId id) {
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

  @Override
  public Map<DeliveryState, Long> countByState(String destination) {
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

  @Override
  public List<DeliveryRecord> findDeliveries(DeliveryFilter filter, PagePosition after, int limit) {
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

  @Override
  public Map<DeliveryState, Long> countOpen(String destination) {
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

  private static List<QueuedDelivery> mapQueued(PreparedStatement ps) throws SQLException {
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

  /** A {@link DeliveryFilter} as a WHERE clause and its parameters. */
  record FilterSql(String sql, List<Object> params) {
    static FilterSql of(DeliveryFilter f, DeliveryState... allowed) {
      StringBuilder sql = new StringBuilder(" WHERE 1 = 1");
      List<Object> params = new ArrayList<>();
      if (!f.ids().isEmpty()) {
        sql.append(" AND id IN (").append("?, ".repeat(f.ids().size() - 1)).append("?)");
        f.ids().forEach(id -> params.add(id.value()));
      }
      if (f.destination() != null) {
        sql.append(" AND destination = ?");
        params.add(f.destination());
      }
      if (f.route() != null) {
        sql.append(" AND route = ?");
        params.add(f.route());
      }
      // States are written as literals (they come from the enum, never from a request), so the
      // planner can use the partial index on dead letters (V3__admin_indexes.sql).
      List<String> states = new ArrayList<>();
      for (DeliveryState s : DeliveryState.values()) {
        if (f.states().contains(s) && List.of(allowed).contains(s)) {
          states.add("'" + s.dbValue() + "'");
        }
      }
      if (states.isEmpty()) {
        sql.append(" AND 1 = 0");
      } else if (states.size() == 1) {
        sql.append(" AND state = ").append(states.get(0));
      } else {
        sql.append(" AND state IN (").append(String.join(", ", states)).append(")");
      }
      if (f.createdFrom() != null) {
        sql.append(" AND created_at >= ?");
        params.add(f.createdFrom().toEpochMilli());
      }
      if (f.createdTo() != null) {
        sql.append(" AND created_at < ?");
        params.add(f.createdTo().toEpochMilli());
      }
      if (f.errorClass() != null) {
        sql.append(" AND error_class = ?");
        params.add(f.errorClass());
      }
      return new FilterSql(sql.toString(), params);
    }

    void bind(PreparedStatement ps, int from) throws SQLException {
      for (int i = 0; i < params.size(); i++) {
        ps.setObject(from + i, params.get(i));
      }
    }
  }
}
