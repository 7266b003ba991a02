package dev.switchboard.store.sql;

import static dev.switchboard.domain.DeliveryState.DEAD;
import static dev.switchboard.domain.DeliveryState.IN_FLIGHT;
import static dev.switchboard.store.sql.DeliveryStateSql.in;
import static dev.switchboard.store.sql.DeliveryStateSql.is;
import static dev.switchboard.store.sql.DeliveryStateSql.sources;
import static dev.switchboard.store.sql.DeliveryStateSql.to;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.QueuedDelivery;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster mode's claim, for {@link SqlDeliveryQueue}: a batch of a destination's due deliveries in
 * one statement, on the claims writer (a connection of its own), with per-key ordering kept across
 * the nodes by transaction-scoped key locks.
 */
final class SqlClusterClaims {
  /** What a claim takes: every state the table lets move to in flight. */
  private static final Set<DeliveryState> CLAIMABLE = sources(IN_FLIGHT);

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
          + " AND "
          + is("f.state", IN_FLIGHT)
          + " AND f.route = c.route"
          + " AND f.partition_key = c.partition_key)"
          + " AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.route = c.route"
          + " AND o.partition_key = c.partition_key"
          + " AND (o.event_time, o.seq) <= (c.event_time, c.seq)"
          + " AND (o.event_time, o.seq, o.id) < (c.event_time, c.seq, c.id)"
          + " AND ("
          + in("o.state", CLAIMABLE)
          + " OR ("
          + is("o.state", DEAD)
          + " AND c.route = ANY(?))))";

  /**
   * The due rows of a destination in one state, in (next attempt, arrival) order, filtered by
   * {@code where}: one arm per state, so each is an ordered range of deliveries_queue that stops at
   * {@code LIMIT} (an {@code IN} over both states would sort the whole backlog).
   */
  private static String dueArm(DeliveryState state, String where, boolean lock) {
    return "SELECT * FROM (SELECT c.id, c.route, c.partition_key, c.next_attempt_at, c.seq"
        + " FROM deliveries c WHERE c.destination = ? AND "
        + is("c.state", state)
        + " AND c.next_attempt_at <= ?"
        + where
        + " ORDER BY c.next_attempt_at, c.seq LIMIT ?"
        + (lock ? " FOR UPDATE OF c SKIP LOCKED" : "")
        + ") "
        + state.dbValue().charAt(0);
  }

  /** One arm per claimable state (the claim binds each arm's parameters, once per arm). */
  private static String dueArms(String where, boolean lock) {
    StringJoiner arms = new StringJoiner(" UNION ALL ", "SELECT * FROM (", ")");
    for (DeliveryState state : CLAIMABLE) {
      arms.add(dueArm(state, where, lock));
    }
    return arms + " w ORDER BY w.next_attempt_at, w.seq LIMIT ?";
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
      "WITH claimed AS (UPDATE deliveries SET "
          + to(IN_FLIGHT)
          + ", lease_token = ?,"
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
          + ") d) AND "
          + in("state", CLAIMABLE)
          + " RETURNING id, event_id, route, destination, partition_key, event_time, seq, state,"
          + " attempts, first_attempt_at, next_attempt_at)"
          + " SELECT d.id, d.event_id, e.source, d.route, d.destination, d.partition_key,"
          + " d.event_time, e.received_at, d.seq, d.state, d.attempts, d.first_attempt_at,"
          + " d.next_attempt_at, e.payload, e.headers FROM claimed d"
          + " JOIN events e ON e.id = d.event_id ORDER BY d.next_attempt_at, d.seq";

  private final SqlWriter claims;

  SqlClusterClaims(SqlWriter claims) {
    this.claims = claims;
  }

  CompletableFuture<List<QueuedDelivery>> claimDue(
      String destination,
      java.util.Set<String> perKeyRoutes,
      java.util.Set<String> blockingRoutes,
      java.util.Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {
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
                for (int arm = 0; arm < CLAIMABLE.size(); arm++) {
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
              for (int arm = 0; arm < CLAIMABLE.size(); arm++) {
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
              return SqlDeliveryReads.mapQueued(ps);
            })
        .thenApply(
            result -> {
              @SuppressWarnings("unchecked")
              List<QueuedDelivery> claimed = (List<QueuedDelivery>) result;
              return claimed;
            });
  }
}
