package dev.switchboard.store.sql;

import dev.switchboard.logging.LogThrottle;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
 * <p>Failure policy: if any op of a batch throws, the whole batch is rolled back and no
 * after-commit action of it runs; every future in it fails, except when the database refused the
 * batch for what one op holds: then it is written again in parts, and only the op at fault fails.
 */
final class SqlWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlWriter.class);
  private static final int QUEUE_CAPACITY = 50_000;

  /**
   * The most the ops waiting for a batch may hold in memory together (their events' bodies), a
   * sixth of the heap: past it new events are refused at once, and ingest answers 503
   * (docs/adr/0011). Claims, outcomes and the like carry no body and are never refused by it.
   */
  static final long QUEUE_BYTES = Runtime.getRuntime().maxMemory() / 6;

  private static final int MAX_BATCH = 1_000;

  /** One unit of work, applied inside the batch's transaction on the writer thread. */
  interface WriteOp {
    Object apply(Context ctx) throws SQLException;

    /**
     * The body this op holds in memory while it waits for its batch, in bytes (reckoned, not
     * exact); 0 for an op without one, which the byte bound never refuses.
     */
    default long bytes() {
      return 0;
    }
  }

  /**
   * An op that takes a row lock other nodes may want too (an idempotency key). When the database is
   * shared, a batch applies these in the order of their keys, so two nodes' batches claiming the
   * same keys wait for each other instead of deadlocking. Ops of the same key keep their order.
   */
  interface KeyedOp extends WriteOp {
    String lockKey();
  }

  /**
   * An op that is cheaper applied together with others of its kind (fewer round trips to a server
   * database): consecutive ops of a batch, in the order they are applied, with the same non-null
   * {@link #group} are handed to that group in one call.
   */
  interface GroupedOp extends WriteOp {
    /** The group that applies this op together with its neighbours, or null to apply it alone. */
    Group group();
  }

  /** Applies a run of {@link GroupedOp}s at once. */
  interface Group {
    /** Applies {@code ops} in this order; returns one result per op, in the same order. */
    List<Object> applyAll(List<WriteOp> ops, Context ctx) throws SQLException;
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

    /**
     * A set shared by every op of this batch under {@code key}; after the last op and before the
     * commit, {@code action} gets it (once), inside the transaction (e.g. one {@code NOTIFY} for
     * the batch).
     */
    <T> Set<T> collectBeforeCommit(Object key, BeforeCommit<T> action);
  }

  /** What runs inside a batch's transaction, after its ops. */
  @FunctionalInterface
  interface BeforeCommit<T> {
    void accept(Connection connection, Set<T> collected) throws SQLException;
  }

  private final Dialect dialect;
  private final WriterConnection connection;
  private final GroupCommitWriter<WriteOp, Object> groupCommit;

  /**
   * A batch failed and no probe has succeeded since: small updates (delivery outcomes) may still
   * fit where new events do not, so a later successful batch does not prove the store healthy.
   */
  private volatile boolean failedSinceProbe;

  /** Settings for a writer's connection, applied again after a reconnect. */
  interface Setup {
    void prepare(Connection connection) throws SQLException;
  }

  /** The store's writer: ingest, operator actions, housekeeping (and on SQLite everything). */
  SqlWriter(Dialect dialect, IntConsumer batchSizeObserver) throws SQLException {
    this(dialect, "store-group-commit", dialect::prepareWriter, batchSizeObserver);
  }

  SqlWriter(Dialect dialect, String name, Setup setup, IntConsumer batchSizeObserver)
      throws SQLException {
    this.dialect = dialect;
    this.connection = new WriterConnection(dialect, setup);
    this.groupCommit =
        new GroupCommitWriter<>(
            name,
            QUEUE_CAPACITY,
            QUEUE_BYTES,
            WriteOp::bytes,
            MAX_BATCH,
            this::writeBatch,
            batchSizeObserver);
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

  /**
   * A batch aborted by the database to break a deadlock with another node is run again, this many
   * times in all, before its requests fail (503, and the senders retry).
   */
  private static final int TRANSIENT_TRIES = 3;

  /**
   * Writes a batch. If the database refuses it for what one op holds ({@link
   * Dialect#refusesContent}), the batch is written again in halves, and a half that is refused in
   * halves again, down to single ops: the op at fault fails alone ({@link
   * GroupCommitWriter.Refused}) and every other op is written, each part in its own transaction.
   */
  private List<Object> writeBatch(List<WriteOp> batch) throws SQLException {
    try {
      return writeRunningAgainIfTransient(batch);
    } catch (SQLException e) {
      if (!splittable(batch, e)) {
        throw e;
      }
      splitsLog.log(
          skipped ->
              LOG.warn(
                  "the database refused a batch of {} write(s) ({}); writing it in parts so that"
                      + " only the write at fault fails{}",
                  batch.size(),
                  describe(e),
                  LogThrottle.more(skipped)));
      return writeInHalves(batch);
    }
  }

  /** Each refused batch: one line, then one every few seconds with a count. */
  private final LogThrottle splitsLog = new LogThrottle(java.time.Duration.ofSeconds(5));

  private boolean splittable(List<WriteOp> ops, SQLException e) {
    return ops.size() > 1 && !connection.broken() && dialect.refusesContent(e);
  }

  private List<Object> writeInHalves(List<WriteOp> ops) {
    int half = ops.size() / 2;
    List<Object> results = new ArrayList<>(ops.size());
    results.addAll(writePart(ops.subList(0, half)));
    results.addAll(writePart(ops.subList(half, ops.size())));
    return results;
  }

  private List<Object> writePart(List<WriteOp> part) {
    try {
      return writeRunningAgainIfTransient(part);
    } catch (SQLException e) {
      if (splittable(part, e)) {
        return writeInHalves(part);
      }
      return java.util.Collections.nCopies(part.size(), new GroupCommitWriter.Refused(e));
    } catch (RuntimeException | Error e) {
      // refused here, not thrown: a part written before this one has committed, and its requests
      // must hear so (thrown, the whole batch would be answered as failed and sent again)
      return java.util.Collections.nCopies(part.size(), new GroupCommitWriter.Refused(e));
    }
  }

  /**
   * What the database said, without its message: a message may quote the values refused (a row's
   * key, which comes from a payload).
   */
  static String describe(SQLException e) {
    if (e.getSQLState() != null) {
      return "SQLState " + e.getSQLState();
    }
    String described = e.getClass().getSimpleName() + " code " + e.getErrorCode();
    return e instanceof org.sqlite.SQLiteException sqlite
        ? described + " (" + sqlite.getResultCode().name() + ")"
        : described;
  }

  /**
   * A failure of a whole batch, for a log line or an error answer: an SQL error anywhere in the
   * chain is described by its state or code only (PostgreSQL's message for a refused batch quotes
   * the statement with every value, payloads included); anything else by its class and message.
   */
  static String describe(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return describe(sql);
      }
    }
    return failure.getMessage() == null
        ? failure.getClass().getSimpleName()
        : failure.getClass().getSimpleName() + ": " + failure.getMessage();
  }

  private List<Object> writeRunningAgainIfTransient(List<WriteOp> batch) throws SQLException {
    int[] order = dialect.soleWriter() ? null : lockOrder(batch);
    for (int tries = 1; ; tries++) {
      try {
        return tryBatch(batch, order);
      } catch (SQLException e) {
        if (tries >= TRANSIENT_TRIES || !dialect.isTransient(e)) {
          throw e;
        }
        LOG.info("store batch aborted by the database ({}); running it again", e.getSQLState());
      }
    }
  }

  /**
   * The order to apply a batch in: as submitted, except that {@link KeyedOp}s are applied in the
   * order of their keys (stable), in the slots keyed ops hold. Null when no op is keyed.
   */
  static int[] lockOrder(List<WriteOp> batch) {
    List<Integer> keyed = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      if (batch.get(i) instanceof KeyedOp) {
        keyed.add(i);
      }
    }
    if (keyed.size() < 2) {
      return null;
    }
    List<Integer> sorted = new ArrayList<>(keyed);
    sorted.sort(java.util.Comparator.comparing(i -> ((KeyedOp) batch.get(i)).lockKey()));
    int[] order = new int[batch.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    for (int k = 0; k < keyed.size(); k++) {
      order[keyed.get(k)] = sorted.get(k);
    }
    return order;
  }

  private List<Object> tryBatch(List<WriteOp> batch, int[] order) throws SQLException {
    connection.begin();
    Object[] results = new Object[batch.size()];
    try {
      for (int i = 0; i < results.length; ) {
        int at = order == null ? i : order[i];
        WriteOp op = batch.get(at);
        Group group = op instanceof GroupedOp grouped ? grouped.group() : null;
        if (group == null) {
          results[at] = op.apply(connection);
          i++;
          continue;
        }
        // the run of neighbours (in apply order) of the same group, applied in one call
        List<Integer> slots = new ArrayList<>();
        List<WriteOp> run = new ArrayList<>();
        for (; i < results.length; i++) {
          int next = order == null ? i : order[i];
          if (!(batch.get(next) instanceof GroupedOp g && g.group() == group)) {
            break;
          }
          slots.add(next);
          run.add(batch.get(next));
        }
        List<Object> applied = group.applyAll(run, connection);
        for (int k = 0; k < slots.size(); k++) {
          results[slots.get(k)] = applied.get(k);
        }
      }
      connection.commit();
    } catch (Throwable e) {
      // whatever went wrong, nothing of this batch may stay written
      failedSinceProbe = true;
      connection.failed();
      throw e;
    }
    connection.runAfterCommit();
    return java.util.Arrays.asList(results);
  }

  /** Writes what was already handed over, then closes the connection. */
  @Override
  public void close() {
    groupCommit.close();
    connection.close();
  }
}
