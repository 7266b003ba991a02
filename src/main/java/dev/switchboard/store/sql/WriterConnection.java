package dev.switchboard.store.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SqlWriter}'s connection and what one batch's ops use on it (the {@link
 * SqlWriter.Context}): prepared statements kept for the connection's life, statements batched until
 * the next plain one, and the actions to run before and after the commit. Used by the writer thread
 * only. A server database may drop the connection; a new one is then opened off the writer thread
 * (see {@link #begin}).
 */
final class WriterConnection implements SqlWriter.Context {
  /** The writer's logger: its lines are the writer's, wherever they are written from. */
  private static final Logger LOG = LoggerFactory.getLogger(SqlWriter.class);

  /** Where new connections are opened after a drop: not the writer thread, nor a shared pool. */
  private static final Executor RECONNECTS =
      command -> Thread.ofVirtual().name("store-reconnect").start(command);

  private final Dialect dialect;
  private final SqlWriter.Setup setup;

  /** Replaced when the database drops it (a PostgreSQL restart); never on SQLite. */
  private Connection connection;

  /** The last batch found the connection dropped; the next one reconnects first. */
  private boolean broken;

  /** A new connection being opened off the writer thread, while the old one is broken. */
  private CompletableFuture<Connection> reconnecting;

  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private final Set<PreparedStatement> batched = new LinkedHashSet<>();
  private final List<Runnable> afterCommit = new ArrayList<>();
  private final Map<Object, List<?>> collected = new HashMap<>();
  private final Map<Object, Set<?>> beforeCommit = new LinkedHashMap<>();
  private final Map<Object, SqlWriter.BeforeCommit<?>> beforeCommitActions = new HashMap<>();

  WriterConnection(Dialect dialect, SqlWriter.Setup setup) throws SQLException {
    this.dialect = dialect;
    this.setup = setup;
    this.connection = open(dialect, setup);
  }

  @Override
  public PreparedStatement statement(String sql) throws SQLException {
    flushBatches();
    return prepared(sql);
  }

  @Override
  public PreparedStatement batch(String sql) throws SQLException {
    PreparedStatement ps = prepared(sql);
    batched.add(ps);
    return ps;
  }

  @Override
  public void afterCommit(Runnable action) {
    afterCommit.add(action);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> List<T> collectAfterCommit(Object key, Consumer<List<T>> action) {
    return (List<T>)
        collected.computeIfAbsent(
            key,
            k -> {
              List<T> list = new ArrayList<>();
              afterCommit.add(() -> action.accept(list));
              return list;
            });
  }

  @Override
  public Connection connection() throws SQLException {
    flushBatches();
    return connection;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> Set<T> collectBeforeCommit(Object key, SqlWriter.BeforeCommit<T> action) {
    beforeCommitActions.putIfAbsent(key, action);
    return (Set<T>) beforeCommit.computeIfAbsent(key, k -> new LinkedHashSet<>());
  }

  /** True while the connection is known to be dropped (a batch then fails for it, not its ops). */
  boolean broken() {
    return broken;
  }

  /** Starts a batch: nothing of an earlier one is collected any more. */
  void begin() throws SQLException {
    if (broken) {
      reconnected();
    }
    collected.clear();
    beforeCommit.clear();
    beforeCommitActions.clear();
  }

  /** Writes what is batched, runs what runs before the commit, and commits. */
  void commit() throws SQLException {
    flushBatches();
    runBeforeCommit();
    connection.commit();
  }

  /** Runs the committed batch's after-commit actions; one that fails is logged, not rethrown. */
  void runAfterCommit() {
    for (Runnable action : afterCommit) {
      try {
        action.run();
      } catch (RuntimeException e) {
        LOG.error("after-commit action failed", e);
      }
    }
    afterCommit.clear();
  }

  /** Undoes a failed batch: nothing of it may stay written, nor run after it. */
  void failed() {
    afterCommit.clear();
    collected.clear();
    batched.clear();
    // a statement that failed mid-way may be left unusable by the driver: prepare anew
    closeStatements();
    rollbackQuietly();
    broken = !isValid();
  }

  private PreparedStatement prepared(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = connection.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  private void flushBatches() throws SQLException {
    if (batched.isEmpty()) {
      return;
    }
    for (PreparedStatement ps : batched) {
      ps.executeBatch();
    }
    batched.clear();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void runBeforeCommit() throws SQLException {
    if (beforeCommit.isEmpty()) {
      return;
    }
    for (Map.Entry<Object, Set<?>> e : beforeCommit.entrySet()) {
      SqlWriter.BeforeCommit action = beforeCommitActions.get(e.getKey());
      action.accept(connection, e.getValue());
    }
    beforeCommit.clear();
    beforeCommitActions.clear();
  }

  private boolean isValid() {
    try {
      return connection.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  /**
   * A server database may drop the connection (restart, failover, outage). A new one is opened off
   * the writer thread (opening one to a server that is down waits for the pool's connection
   * timeout): until it is open, each batch fails at once, so that ingest answers 503 without
   * waiting and the other ops are not held up behind the attempt. Once it is open, the batch that
   * finds it uses it. A failed attempt is followed by a new one at the next batch.
   */
  private void reconnected() throws SQLException {
    if (reconnecting == null) {
      reconnecting = CompletableFuture.supplyAsync(this::openConnection, RECONNECTS);
    }
    if (!reconnecting.isDone()) {
      throw new SQLTransientConnectionException(
          "the store's connection was lost; reconnecting", "08003");
    }
    CompletableFuture<Connection> done = reconnecting;
    reconnecting = null;
    Connection fresh;
    try {
      fresh = done.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof SQLException sql
          ? sql
          : new SQLTransientConnectionException("reconnect failed: " + e.getCause(), "08001");
    }
    try {
      connection.close();
    } catch (SQLException ignored) {
      // already gone
    }
    connection = fresh;
    broken = false;
    LOG.info("store writer reconnected");
  }

  private Connection openConnection() {
    try {
      return open(dialect, setup);
    } catch (SQLException e) {
      throw new CompletionException(e);
    }
  }

  /** A writer's connection: from the dialect's source, set up, outside auto-commit. */
  private static Connection open(Dialect dialect, SqlWriter.Setup setup) throws SQLException {
    Connection fresh = dialect.dataSource().getConnection();
    try {
      setup.prepare(fresh);
      fresh.setAutoCommit(false);
    } catch (SQLException e) {
      fresh.close();
      throw e;
    }
    return fresh;
  }

  private void closeStatements() {
    for (PreparedStatement ps : statements.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // already broken; it is dropped either way
      }
    }
    statements.clear();
  }

  /**
   * Rolls back a failed batch. SQLite may already have rolled the transaction back itself (it does
   * on a full disk), leaving the driver outside a transaction; reopening one keeps the writer
   * usable for the next batch.
   */
  private void rollbackQuietly() {
    try {
      connection.rollback();
    } catch (SQLException alreadyRolledBack) {
      try (var s = connection.createStatement()) {
        s.execute("BEGIN");
      } catch (SQLException e) {
        LOG.warn("store writer could not reopen a transaction: {}", e.getMessage());
      }
    }
  }

  /** Closes the statements and the connection (and one still being opened, once it is). */
  void close() {
    closeStatements();
    CompletableFuture<Connection> opening = reconnecting;
    if (opening != null) {
      // a connection opened after the close would never be returned to the pool
      opening.thenAccept(
          c -> {
            try {
              c.close();
            } catch (SQLException ignored) {
              // closing on the way out
            }
          });
    }
    try {
      connection.close();
    } catch (SQLException ignored) {
      // closing on the way out; nothing left to protect
    }
  }
}
