package dev.switchboard.store.sql;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * What differs between the databases the store runs on: connection settings, error classes, and the
 * statements only one database runs (the shared classes ask for them here, and get null where the
 * database has none). Everything else is the shared SQL of the store's classes and the Flyway
 * migrations ({@code db/migration}, one set for both databases, plus a few indexes of PostgreSQL's
 * own).
 */
public interface Dialect extends AutoCloseable {
  String name();

  DataSource dataSource();

  /** Settings for the one connection that writes (durability, timeouts). */
  void prepareWriter(Connection connection) throws SQLException;

  /**
   * Settings for the connections that write delivery claims and outcomes, where the database keeps
   * them apart from the ingest writer ({@link #deliveryWriter}).
   */
  default void prepareDeliveryWriter(Connection connection) throws SQLException {
    prepareWriter(connection);
  }

  /**
   * True when delivery claims and outcomes get a writer connection of their own, so that they are
   * written beside ingest instead of in turn with it: on a server database, where each statement is
   * a round trip. False where one connection must do all writing (an embedded file).
   */
  default boolean deliveryWriter() {
    return false;
  }

  /** Settings for connections that only read. */
  void prepareReader(Connection connection) throws SQLException;

  /**
   * Caps the store's size so that writes past it fail like a full disk; 0 removes the cap. Only
   * meaningful for an embedded file.
   */
  void limitSize(Connection writer, long maxSizeBytes) throws SQLException;

  /** How many read-only connections the store keeps open. */
  int readers();

  /**
   * True when this process is the database's only writer (an embedded file). Only then may the
   * store trust in-memory counts and numbering across batches, and treat every {@code in_flight}
   * row found at start as a leftover of a dead run. False when several nodes share the database.
   */
  boolean soleWriter();

  /**
   * True when a failed batch may succeed if simply run again: the database aborted it to break a
   * deadlock or a serialization conflict with another writer, not because of what it contains.
   */
  boolean isTransient(SQLException e);

  /**
   * True when the database refused a batch for what one of its writes holds (a value it cannot
   * store, a constraint), not for its own state (a full disk, a lost connection): the writer then
   * writes the batch again in parts, so that only the write at fault fails. This default reads the
   * SQLState class: 22 data exception, 23 integrity constraint, 54 program limit (an index entry
   * too large).
   */
  default boolean refusesContent(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      for (SQLException sql = t instanceof SQLException s ? s : null;
          sql != null;
          sql = sql.getNextException()) {
        String state = sql.getSQLState();
        if (state != null
            && (state.startsWith("22") || state.startsWith("23") || state.startsWith("54"))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * A query answering one boolean: whether this transaction may purge history now, taking a lock
   * held until it ends, so that nodes sharing the database purge one at a time. Null where no other
   * process writes (the sole writer purges alone).
   */
  default String purgeLock() {
    return null;
  }

  /**
   * Tells other nodes, inside the transaction about to commit, that {@code destinations} have new
   * work (cluster mode: {@code pg_notify}); nothing where this process is the sole writer (the
   * writer hands new work over in memory).
   */
  default void notifyWork(java.sql.Connection writer, java.util.Collection<String> destinations)
      throws SQLException {}

  /**
   * Calls {@code wake} with a destination's name whenever another node (or this one) notified new
   * work for it, and with null when notifications may have been missed (the listener reconnected):
   * then every destination should look. Nothing where this process is the sole writer.
   */
  default AutoCloseable listenForWork(java.util.function.Consumer<String> wake) {
    return () -> {};
  }

  /**
   * A statement that claims a batch's idempotency keys in one round trip, or null where each key is
   * claimed by {@link SqlText#CLAIM_KEY} on its own (an embedded database, where a statement costs
   * no round trip). Parameters: five arrays, one element per key, in the order to claim them:
   * sources, keys, new event ids, expiry times and each claim's now (epoch ms); the keys must be
   * distinct. Each element does what {@code CLAIM_KEY} does for it; the rows returned (source,
   * idempotency_key) are the keys claimed, the others are live keys (duplicates).
   */
  default String claimKeys() {
    return null;
  }

  /**
   * With {@link #claimKeys}: reads the event ids of many keys in one round trip. Parameters: two
   * arrays, sources and keys; rows: source, idempotency_key, event_id.
   */
  default String findKeys() {
    return null;
  }

  /**
   * Many deliveries' "delivered" outcomes in one statement, where each statement is a round trip;
   * null where each is written on its own. Parameters: ten arrays, one element per outcome: ids,
   * claim tokens, times (epoch ms), then the attempt's number, start (epoch ms), duration (ms),
   * status, outcome, error and excerpt (all null for an outcome without an attempt). Each row moves
   * as the single outcome would (fenced by its token, only from in flight) and, where its lease
   * held, its attempt is inserted by the same statement; rows returned: (id, destination) of each
   * whose lease held.
   */
  default String finishDeliveredMany() {
    return null;
  }

  /**
   * Cluster mode (not {@link #soleWriter}): try-locks, for the transaction, the (route, partition
   * key)s of a destination whose next delivery may go now, skipping any another node is claiming.
   * Parameters, once per arm (one arm per state a claim takes, in {@code DeliveryState} order):
   * destination, now, per-key routes, blocking routes, limit; then the limit. Rows: route, key.
   * Null where this process is the sole writer.
   */
  default String lockKeys() {
    return null;
  }

  /**
   * Cluster mode: claims up to a limit of a destination's due deliveries in one statement, passing
   * over rows other nodes hold. Parameters: token, lease end, now, now; per arm (as {@link
   * #lockKeys}): destination, now, destination again (its pause), held routes, per-key routes,
   * locked routes, locked keys, blocking routes, limit; then the limit. Rows: the claimed
   * deliveries with their events, in the columns and order of a scan. Null where this process is
   * the sole writer.
   */
  default String claimDue() {
    return null;
  }

  /**
   * {@link #claimDue} for a destination none of whose routes keeps per-key order: the same claim
   * without the per-key conditions (which would all hold), so cheaper to plan. Parameters: token,
   * lease end, now, now; per arm: destination, now, destination again, held routes, limit; then the
   * limit. Null where {@link #claimDue} is to be used for every claim.
   */
  default String claimDueUnordered() {
    return null;
  }

  /** Releases what the dialect holds (a connection pool); the store is closed first. */
  @Override
  void close();
}
