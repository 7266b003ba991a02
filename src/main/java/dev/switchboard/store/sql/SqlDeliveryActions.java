package dev.switchboard.store.sql;

import static dev.switchboard.domain.DeliveryState.DEAD;
import static dev.switchboard.domain.DeliveryState.DELIVERED;
import static dev.switchboard.domain.DeliveryState.PENDING;
import static dev.switchboard.domain.DeliveryState.RETRY_SCHEDULED;
import static dev.switchboard.domain.DeliveryState.SKIPPED;
import static dev.switchboard.store.sql.DeliveryStateSql.from;
import static dev.switchboard.store.sql.DeliveryStateSql.in;
import static dev.switchboard.store.sql.DeliveryStateSql.is;
import static dev.switchboard.store.sql.DeliveryStateSql.sources;
import static dev.switchboard.store.sql.DeliveryStateSql.to;
import static dev.switchboard.store.sql.SqlDeliveryReads.DELIVERY_COLUMNS;
import static dev.switchboard.store.sql.SqlDeliveryReads.mapRecords;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryRecord;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What operators and server holds do to stored deliveries, for {@link SqlDeliveryQueue}: replay,
 * discard, pause, the end of a hold and the expiry of deliveries a hold kept past their {@code
 * max_age}. Each is a {@link SqlWriter} op, so it shares transactions with ingest; each moves the
 * backlog tally once its transaction commits.
 */
final class SqlDeliveryActions {
  private final SqlWriter writer;
  private final BacklogTally unfinished;

  SqlDeliveryActions(SqlWriter writer, BacklogTally unfinished) {
    this.writer = writer;
    this.unfinished = unfinished;
  }

  /** What a replay moves back to pending: dead letters and delivered history. */
  private static final Set<DeliveryState> REPLAYABLE = sources(PENDING, DEAD, DELIVERED);

  /** What an operator may discard: dead letters. */
  private static final Set<DeliveryState> DISCARDABLE = sources(SKIPPED, DEAD);

  /** Moves a row only if it is still replayable (another node may have replayed it). */
  private static final String REPLAY =
      "UPDATE deliveries SET "
          + to(PENDING)
          + ", attempts = 0, first_attempt_at = NULL,"
          + " next_attempt_at = ?, lease_token = NULL, lease_expires_at = NULL,"
          + " replays = replays + 1, handled_by = ?, handled_at = ?, updated_at = ?"
          + " WHERE id = ? AND "
          + in("state", REPLAYABLE);

  /** Not a move: retries that waited for the hold are due now. */
  private static final String END_HOLD =
      "UPDATE deliveries SET next_attempt_at = ?, updated_at = ?"
          + " WHERE destination = ? AND "
          + is("state", RETRY_SCHEDULED)
          + " AND next_attempt_at > ? AND next_attempt_at <= ?";

  /** What a hold kept past its max_age: pending and never attempted (moves to dead). */
  private static final String EXPIRABLE = from("state", DEAD, PENDING);

  /**
   * A pending delivery's next_attempt_at is when it was created or replayed: the range is along
   * deliveries_queue (destination, state, next_attempt_at); an operator's pause, recorded by any
   * node, keeps its deliveries.
   */
  private static final String EXPIRY_CANDIDATES =
      "SELECT "
          + DELIVERY_COLUMNS
          + " WHERE destination = ? AND "
          + EXPIRABLE
          + " AND first_attempt_at IS NULL"
          + " AND next_attempt_at <= ? AND next_attempt_at > ?"
          + " AND NOT EXISTS (SELECT 1 FROM destination_state s"
          + " WHERE s.destination = deliveries.destination AND s.paused = 1)";

  private static final String EXPIRE =
      "UPDATE deliveries SET "
          + to(DEAD)
          + ", last_error = ?,"
          + " error_class = 'max_age', updated_at = ?"
          + " WHERE id = ? AND "
          + EXPIRABLE
          + " AND first_attempt_at IS NULL";

  /** Rows a replay reads and moves per writer transaction, so that ingest commits in between. */
  private static final int REPLAY_CHUNK = 500;

  CompletableFuture<List<DeliveryRecord>> replay(DeliveryFilter filter, String by, Instant now) {
    FilterSql where = FilterSql.of(filter, REPLAYABLE);
    List<DeliveryRecord> replayed = new ArrayList<>();
    return replayAfter(where, by, now, "", replayed).thenApply(done -> List.copyOf(replayed));
  }

  /**
   * One chunk of a replay, in id order after {@code afterId}, then the next: each row read, then
   * moved only if it is still dead or delivered (another node may have replayed it in between), so
   * the answer lists exactly the rows this call moved. A bulk replay of millions of rows is many
   * short transactions, not one that holds the store's writer for as long as it takes.
   */
  private CompletableFuture<Void> replayAfter(
      FilterSql where, String by, Instant now, String afterId, List<DeliveryRecord> replayed) {
    String update = REPLAY;
    String select =
        "SELECT "
            + DELIVERY_COLUMNS
            + where.sql()
            + " AND id > ? ORDER BY id LIMIT "
            + REPLAY_CHUNK;
    return writer
        .submit(
            ctx -> {
              List<DeliveryRecord> chunk;
              try (PreparedStatement ps = ctx.connection().prepareStatement(select)) {
                where.bind(ps, 1);
                ps.setString(where.params().size() + 1, afterId);
                chunk = mapRecords(ps);
              }
              List<DeliveryRecord> moved = new ArrayList<>(chunk.size());
              try (PreparedStatement ps = ctx.connection().prepareStatement(update)) {
                long at = now.toEpochMilli();
                for (DeliveryRecord d : chunk) {
                  ps.setLong(1, at);
                  ps.setString(2, by);
                  ps.setLong(3, at);
                  ps.setLong(4, at);
                  ps.setString(5, d.id().value());
                  if (ps.executeUpdate() == 1) {
                    moved.add(d);
                  }
                }
              }
              // what went back to pending, per destination, moved once the transaction commits
              Map<String, Long> byDestination = new java.util.HashMap<>();
              for (DeliveryRecord d : moved) {
                byDestination.merge(d.destination(), 1L, Long::sum);
              }
              ctx.afterCommit(() -> byDestination.forEach(unfinished::add));
              String last = chunk.size() < REPLAY_CHUNK ? null : chunk.getLast().id().value();
              return new ReplayChunk(moved, last);
            })
        // the next chunk is submitted off the writer's thread, which completes this one
        .thenComposeAsync(
            r -> {
              ReplayChunk done = (ReplayChunk) r;
              replayed.addAll(done.moved());
              return done.lastId() == null
                  ? CompletableFuture.completedFuture(null)
                  : replayAfter(where, by, now, done.lastId(), replayed);
            });
  }

  private record ReplayChunk(List<DeliveryRecord> moved, String lastId) {}

  CompletableFuture<Integer> discard(DeliveryFilter filter, String by, Instant now) {
    FilterSql where = FilterSql.of(filter, DISCARDABLE);
    String sql =
        "UPDATE deliveries SET "
            + to(SKIPPED)
            + ", last_error = ?, handled_by = ?, handled_at = ?,"
            + " updated_at = ?"
            + where.sql();
    return writer
        .submit(
            ctx -> {
              try (PreparedStatement ps = ctx.connection().prepareStatement(sql)) {
                long at = now.toEpochMilli();
                ps.setString(1, "discarded by " + by);
                ps.setString(2, by);
                ps.setLong(3, at);
                ps.setLong(4, at);
                where.bind(ps, 5);
                return ps.executeUpdate();
              }
            })
        .thenApply(Integer.class::cast);
  }

  CompletableFuture<Void> setPaused(String destination, boolean paused, String by, Instant now) {
    return writer
        .submit(
            ctx -> {
              PreparedStatement ps =
                  ctx.statement(
                      "INSERT INTO destination_state (destination, paused, changed_by, changed_at)"
                          + " VALUES (?, ?, ?, ?) ON CONFLICT (destination) DO UPDATE SET"
                          + " paused = excluded.paused, changed_by = excluded.changed_by,"
                          + " changed_at = excluded.changed_at");
              ps.setString(1, destination);
              ps.setInt(2, paused ? 1 : 0);
              ps.setString(3, by);
              ps.setLong(4, now.toEpochMilli());
              ps.executeUpdate();
              return null;
            })
        .thenApply(ignored -> null);
  }

  CompletableFuture<Integer> endHold(String destination, Instant heldUntil, Instant now) {
    return writer
        .submit(
            ctx -> {
              PreparedStatement ps = ctx.statement(END_HOLD);
              long at = now.toEpochMilli();
              ps.setLong(1, at);
              ps.setLong(2, at);
              ps.setString(3, destination);
              ps.setLong(4, at);
              ps.setLong(5, heldUntil.toEpochMilli());
              return ps.executeUpdate();
            })
        .thenApply(Integer.class::cast);
  }

  @SuppressWarnings("unchecked")
  CompletableFuture<List<DeliveryRecord>> expireUnattempted(
      String destination, Instant waitingSince, Instant notBefore, String error, Instant now) {
    return writer
        .submit(
            ctx -> {
              List<DeliveryRecord> candidates;
              try (PreparedStatement ps = ctx.connection().prepareStatement(EXPIRY_CANDIDATES)) {
                ps.setString(1, destination);
                ps.setLong(2, waitingSince.toEpochMilli());
                ps.setLong(3, notBefore.toEpochMilli());
                candidates = mapRecords(ps);
              }
              List<DeliveryRecord> expired = new ArrayList<>(candidates.size());
              PreparedStatement update = ctx.statement(EXPIRE);
              for (DeliveryRecord d : candidates) {
                update.setString(1, error);
                update.setLong(2, now.toEpochMilli());
                update.setString(3, d.id().value());
                if (update.executeUpdate() == 1) {
                  expired.add(d);
                }
              }
              int n = expired.size();
              ctx.afterCommit(() -> unfinished.add(destination, -n));
              return List.copyOf(expired);
            })
        .thenApply(r -> (List<DeliveryRecord>) r);
  }
}
