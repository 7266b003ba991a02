package dev.switchboard.store.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one connection that writes, behind a {@link GroupCommitWriter}: every write of the store —
 * ingest, delivery claims and outcomes, operator actions, housekeeping — is a {@link WriteOp}, and
 * whatever ops are waiting are applied in one transaction with one sync. Ingest acks and delivery
 * outcomes thus share the cost of a sync (ADR 0005).
 *
 * <p>Failure policy: if any op of a batch throws, the whole batch is rolled back, every future in
 * it fails, and no after-commit action of it runs.
 */
final class SqlWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlWriter.class);
  private static final int QUEUE_CAPACITY = 50_000;
  private static final int MAX_BATCH = 1_000;

  /** One unit of work, applied inside the batch's transaction on the writer thread. */
  interface WriteOp {
    Object apply(Context ctx) throws SQLException;
  }

  /** What an op may use while its batch is open. */
  interface Context {
    /** A prepared statement for {@code sql}, kept for the connection's life. */
    PreparedStatement statement(String sql) throws SQLException;

    /**
     * A statement whose rows the op adds with {@code addBatch}; executed before the next plain
     * statement and before the commit.
     */
    PreparedStatement batch(String sql) throws SQLException;

    /** Runs {@code action} on the writer thread once the batch is committed and synced. */
    void afterCommit(Runnable action);

    /**
     * A list shared by every op of this batch under {@code key}; once the batch commits, {@code
     * action} gets it (once, whatever the number of ops that added to it). Lets ops that each
     * produce a little hand it on in one piece.
     */
    <T> List<T> collectAfterCommit(Object key, java.util.function.Consumer<List<T>> action);

    /** The raw connection, for what statements cannot do (pragmas). Flushes batches first. */
    Connection connection() throws SQLException;
  }

  private final Dialect dialect;
  private final Connection connection;
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private final Set<PreparedStatement> batched = new LinkedHashSet<>();
  private final List<Runnable> afterCommit = new ArrayList<>();
  private final Map<Object, List<?>> collected = new HashMap<>();
  private final GroupCommitWriter<WriteOp, Object> groupCommit;

  /**
   * A batch failed and no probe has succeeded since: small updates (delivery outcomes) may still
   * fit where new events do not, so a later successful batch does not prove the store healthy.
   */
  private volatile boolean failedSinceProbe;

  private final Context context =
      new Context() {
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
        public <T> List<T> collectAfterCommit(
            Object key, java.util.function.Consumer<List<T>> action) {
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
      };

  SqlWriter(Dialect dialect, IntConsumer batchSizeObserver) throws SQLException {
    this.dialect = dialect;
    this.connection = dialect.dataSource().getConnection();
    dialect.prepareWriter(connection);
    connection.setAutoCommit(false);
    this.groupCommit =
        new GroupCommitWriter<>(
            "store-group-commit", QUEUE_CAPACITY, MAX_BATCH, this::writeBatch, batchSizeObserver);
  }

  CompletableFuture<Object> submit(WriteOp op) {
    return groupCommit.submit(op);
  }

  int waiting() {
    return groupCommit.waiting();
  }

  boolean failedSinceProbe() {
    return failedSinceProbe;
  }

  void probeSucceeded() {
    failedSinceProbe = false;
  }

  Dialect dialect() {
    return dialect;
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

  private List<Object> writeBatch(List<WriteOp> batch) throws SQLException {
    collected.clear();
    List<Object> results = new ArrayList<>(batch.size());
    try {
      for (WriteOp op : batch) {
        results.add(op.apply(context));
      }
      flushBatches();
      connection.commit();
    } catch (Throwable e) {
      // whatever went wrong, nothing of this batch may stay written
      failedSinceProbe = true;
      afterCommit.clear();
      collected.clear();
      batched.clear();
      // a statement that failed mid-way may be left unusable by the driver: prepare anew
      closeStatements();
      rollbackQuietly();
      throw e;
    }
    for (Runnable action : afterCommit) {
      try {
        action.run();
      } catch (RuntimeException e) {
        LOG.error("after-commit action failed", e);
      }
    }
    afterCommit.clear();
    return results;
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

  /** Writes what was already handed over, then closes the connection. */
  @Override
  public void close() {
    groupCommit.close();
    closeStatements();
    try {
      connection.close();
    } catch (SQLException ignored) {
      // closing on the way out; nothing left to protect
    }
  }
}
