package dev.switchboard.store.sql;

import static dev.switchboard.domain.DeliveryState.DEAD;
import static dev.switchboard.domain.DeliveryState.DELIVERED;
import static dev.switchboard.domain.DeliveryState.IN_FLIGHT;
import static dev.switchboard.store.sql.DeliveryStateSql.from;
import static dev.switchboard.store.sql.DeliveryStateSql.in;
import static dev.switchboard.store.sql.DeliveryStateSql.is;
import static dev.switchboard.store.sql.DeliveryStateSql.sources;
import static dev.switchboard.store.sql.DeliveryStateSql.to;

import dev.switchboard.domain.DeliveryState;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The statements only PostgreSQL runs, which {@link PostgresDialect} hands to the shared store
 * classes: arrays ({@code unnest}, {@code = ANY(?)}), {@code FOR UPDATE … SKIP LOCKED}, advisory
 * locks and {@code pg_notify}. Their state conditions come from the table of moves, as the shared
 * statements' do ({@link DeliveryStateSql}). Built once, when the class is loaded.
 */
final class PostgresStatements {
  private PostgresStatements() {}

  /**
   * One {@code INSERT … ON CONFLICT} for all keys of a batch, in the given order (so nodes claim
   * keys in the same order and wait for each other rather than deadlock); each key's takeover of an
   * expired row is checked against its own claim's now.
   */
  static final String CLAIM_KEYS =
      "WITH k AS (SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[])"
          + " WITH ORDINALITY AS k (source, idempotency_key, event_id, expires_at, now, n))"
          + " INSERT INTO idempotency_keys (source, idempotency_key, event_id, expires_at)"
          + " SELECT source, idempotency_key, event_id, expires_at FROM k ORDER BY n"
          + " ON CONFLICT (source, idempotency_key) DO UPDATE"
          + " SET event_id = excluded.event_id, expires_at = excluded.expires_at"
          + " WHERE idempotency_keys.expires_at <= (SELECT k.now FROM k"
          + " WHERE k.source = excluded.source AND k.idempotency_key = excluded.idempotency_key)"
          + " RETURNING source, idempotency_key";

  static final String FIND_KEYS =
      "SELECT i.source, i.idempotency_key, i.event_id FROM idempotency_keys i"
          + " JOIN unnest(?::text[], ?::text[]) AS k (source, idempotency_key)"
          + " ON i.source = k.source AND i.idempotency_key = k.idempotency_key";

  /**
   * Many deliveries' "delivered" in one statement (where each statement is a round trip), with
   * their attempt records: the same fenced update as {@code SqlDeliveryOutcomes}'s single one, one
   * row per (id, token, time), and an attempt row for each id whose lease held (none where the
   * attempt's number is null). Returns the ids whose lease held, with their destinations.
   */
  static final String DELIVERED_MANY =
      "WITH f AS (SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::int[], ?::bigint[],"
          + " ?::bigint[], ?::int[], ?::text[], ?::text[], ?::text[]) AS f (id, token, at, number,"
          + " started_at, duration_ms, status, outcome, error, excerpt)),"
          + " u AS (UPDATE deliveries d SET "
          + to(DELIVERED)
          + ", attempts = d.attempts + 1,"
          + " lease_token = NULL, lease_expires_at = NULL, last_error = NULL, error_class = NULL,"
          + " updated_at = f.at FROM f"
          + " WHERE d.id = f.id AND "
          + from("d.state", DELIVERED, IN_FLIGHT)
          + " AND d.lease_token = f.token"
          + " RETURNING d.id, d.destination),"
          + " a AS (INSERT INTO attempts (delivery_id, number, started_at, duration_ms, status,"
          + " outcome, error, excerpt) SELECT f.id, f.number, f.started_at, f.duration_ms, f.status,"
          + " f.outcome, f.error, f.excerpt FROM f JOIN u ON u.id = f.id"
          + " WHERE f.number IS NOT NULL)"
          + " SELECT id, destination FROM u";

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

  /** One arm per claimable state, in enum order (the claim binds each arm's parameters). */
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
  static final String LOCK_KEYS =
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
   * end, now, now; per arm: destination, now, destination again, held routes, per-key routes,
   * locked routes, locked keys, blocking routes, limit; then the limit.
   *
   * <p>The pause is looked up by the destination given, not by the row's ({@code c.destination}):
   * so it is one lookup before the scan (an init plan, a one-time filter). Correlated with the row,
   * it was an anti-join the planner guessed would keep one row out of the whole backlog as soon as
   * the destination had a row in destination_state (any destination ever paused or resumed): it
   * then read and sorted every due row of the destination for each claim (34 ms with 20,000
   * pending, against 2 ms for the ordered range that stops at the limit).
   */
  static final String CLAIM_DUE =
      claim(
          " AND (c.partition_key IS NULL OR NOT (c.route = ANY(?))"
              + " OR ((c.route, c.partition_key) IN (SELECT * FROM unnest(?::text[], ?::text[]))"
              + " AND"
              + KEY_IS_FREE
              + "))");

  /**
   * {@link #CLAIM_DUE} for a destination without per-key routes, where its per-key conditions all
   * hold: planned in about half the time (each claim is planned afresh, see PostgresDialect).
   * Parameters: token, lease end, now, now; per arm: destination, now, destination, held routes,
   * limit; then the limit.
   */
  static final String CLAIM_DUE_UNORDERED = claim("");

  /** The claim, with {@code perKey} added to each arm's conditions. */
  private static String claim(String perKey) {
    return "WITH claimed AS (UPDATE deliveries SET "
        + to(IN_FLIGHT)
        + ", lease_token = ?,"
        + " lease_expires_at = ?, first_attempt_at = COALESCE(first_attempt_at, ?),"
        + " updated_at = ? WHERE id IN (SELECT d.id FROM ("
        + dueArms(
            " AND NOT EXISTS (SELECT 1 FROM destination_state s"
                + " WHERE s.destination = ? AND s.paused = 1)"
                + " AND NOT (c.route = ANY(?))"
                + perKey,
            true)
        + ") d) AND "
        + in("state", CLAIMABLE)
        + " RETURNING id, event_id, route, destination, partition_key, event_time, seq, state,"
        + " attempts, first_attempt_at, next_attempt_at)"
        + " SELECT d.id, d.event_id, e.source, d.route, d.destination, d.partition_key,"
        + " d.event_time, e.received_at, d.seq, d.state, d.attempts, d.first_attempt_at,"
        + " d.next_attempt_at, e.payload, e.headers FROM claimed d"
        + " JOIN events e ON e.id = d.event_id ORDER BY d.next_attempt_at, d.seq";
  }

  /** One notification per destination; PostgreSQL folds repeats within a transaction. */
  static final String NOTIFY_WORK =
      "SELECT pg_notify('" + PostgresDialect.WORK_CHANNEL + "', d) FROM unnest(?::text[]) AS d";

  /** The advisory lock id of retention ("SWBDPURG" read as a number). */
  private static final long PURGE_LOCK_ID = 0x5357424450555247L;

  /** A transaction-scoped advisory lock: never waits, released by the batch's commit. */
  static final String PURGE_LOCK = "SELECT pg_try_advisory_xact_lock(" + PURGE_LOCK_ID + ")";
}
