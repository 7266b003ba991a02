package dev.switchboard.store.sql;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * PostgreSQL, shared by any number of nodes (cluster mode). The shared SQL runs unchanged: {@code
 * ON CONFLICT} upserts, partial indexes, row-value comparisons and {@code LIMIT} are common to both
 * databases, and the schema uses only TEXT, BIGINT and INTEGER columns. What differs lives here:
 *
 * <ul>
 *   <li>connections come from a HikariCP pool: {@code poolSize} held by the store (three writers —
 *       events, delivery claims, delivery outcomes ({@link #deliveryWriter}) — the rest readers)
 *       and one more opened only when needed (Flyway's migration, maintenance);
 *   <li>the delivery writers plan each statement for its parameters and the table as it is now
 *       ({@code plan_cache_mode = force_custom_plan}): a generic plan made while the table was
 *       small (a fresh database, before autovacuum's first analyze) would scan the whole table for
 *       every claim once it has grown;
 *   <li>the writer commits with {@code synchronous_commit=on} (a commit returns once the WAL is
 *       flushed, so a 2xx is durable whatever the server's default) and a statement timeout, so a
 *       batch stuck behind another node's lock fails (503, the sender retries) instead of hanging;
 *       the writers never JIT-compile a statement ({@code jit = off});
 *   <li>readers are read-only sessions;
 *   <li>no size cap ({@link #limitSize} does nothing: PostgreSQL's space is the operator's);
 *   <li>other nodes write too ({@link #soleWriter} is false), and a batch aborted by a deadlock or
 *       a serialization failure with another node is run again ({@link #isTransient});
 *   <li>the statements only PostgreSQL runs are in {@link PostgresStatements}: a batch's keys
 *       claimed in one round trip, cluster claims ({@code SKIP LOCKED}, per-key advisory locks),
 *       grouped outcomes, the purge lock and the notifications of new work.
 * </ul>
 *
 * The password is handed to the pool only; it is never logged.
 */
public final class PostgresDialect implements Dialect {
  /** Longest a statement of the writer may run or wait for a lock of another node. */
  static final Duration WRITER_STATEMENT_TIMEOUT = Duration.ofSeconds(10);

  /** The channel nodes notify and listen on when deliveries are created. */
  static final String WORK_CHANNEL = "switchboard_work";

  private final HikariDataSource pool;
  private final int poolSize;
  private final String url;
  private final String user;
  private final String password;

  public PostgresDialect(String url, String user, String password, int poolSize) {
    if (poolSize < 4) {
      throw new IllegalArgumentException(
          "pool size must be at least 4 (three writers, at least one reader)");
    }
    this.poolSize = poolSize;
    this.url = url;
    this.user = user;
    this.password = password;
    HikariConfig config = new HikariConfig();
    config.setPoolName("switchboard-store");
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    // the writers and the readers hold poolSize connections for the store's life;
    // one more is opened only when needed (Flyway's migration, maintenance)
    config.setMaximumPoolSize(poolSize + 1);
    config.setMinimumIdle(0);
    // how long a writer or reader waits for a new connection while the server is away
    config.setConnectionTimeout(Duration.ofSeconds(5).toMillis());
    config.setInitializationFailTimeout(Duration.ofSeconds(10).toMillis());
    // a batch's deliveries go to the server as one multi-row INSERT
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    this.pool = new HikariDataSource(config);
  }

  @Override
  public String name() {
    return "postgres";
  }

  @Override
  public DataSource dataSource() {
    return pool;
  }

  @Override
  public void prepareWriter(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("SET synchronous_commit = on");
      s.execute("SET statement_timeout = " + WRITER_STATEMENT_TIMEOUT.toMillis());
      // short statements run thousands of times a second: compiling one (JIT, on by default where
      // the server has LLVM) costs far more than it saves. A claim over a large backlog is
      // estimated above jit_above_cost and, planned afresh each time (force_custom_plan below),
      // was compiled afresh each time: 58 ms of a 79 ms claim.
      s.execute("SET jit = off");
    }
  }

  @Override
  public void prepareDeliveryWriter(Connection connection) throws SQLException {
    prepareWriter(connection);
    try (Statement s = connection.createStatement()) {
      s.execute("SET plan_cache_mode = force_custom_plan");
    }
  }

  @Override
  public boolean deliveryWriter() {
    return true;
  }

  @Override
  public void prepareReader(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
      s.execute("SET statement_timeout = 30000");
    }
  }

  /** PostgreSQL's disk is the operator's to size; nothing to cap here. */
  @Override
  public void limitSize(Connection writer, long maxSizeBytes) {
    // no size cap on a server database
  }

  @Override
  public int readers() {
    return poolSize - 3;
  }

  @Override
  public boolean soleWriter() {
    return false;
  }

  @Override
  public String claimKeys() {
    return PostgresStatements.CLAIM_KEYS;
  }

  @Override
  public String findKeys() {
    return PostgresStatements.FIND_KEYS;
  }

  @Override
  public String finishDeliveredMany() {
    return PostgresStatements.DELIVERED_MANY;
  }

  @Override
  public String lockKeys() {
    return PostgresStatements.LOCK_KEYS;
  }

  @Override
  public String claimDue() {
    return PostgresStatements.CLAIM_DUE;
  }

  @Override
  public String claimDueUnordered() {
    return PostgresStatements.CLAIM_DUE_UNORDERED;
  }

  @Override
  public String purgeLock() {
    return PostgresStatements.PURGE_LOCK;
  }

  /** 40P01 deadlock_detected, 40001 serialization_failure: run the batch again. */
  @Override
  public boolean isTransient(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql
          && ("40P01".equals(sql.getSQLState()) || "40001".equals(sql.getSQLState()))) {
        return true;
      }
    }
    return false;
  }

  /** One notification per destination; PostgreSQL folds repeats within a transaction. */
  @Override
  public void notifyWork(Connection writer, java.util.Collection<String> destinations)
      throws SQLException {
    if (destinations.isEmpty()) {
      return;
    }
    try (java.sql.PreparedStatement ps = writer.prepareStatement(PostgresStatements.NOTIFY_WORK)) {
      ps.setArray(1, writer.createArrayOf("text", destinations.toArray()));
      ps.execute();
    }
  }

  /**
   * {@code LISTEN} on a connection of its own, outside the pool (a pooled connection would lose its
   * registration when handed to someone else), read by a daemon thread that reconnects when the
   * connection drops.
   */
  @Override
  public AutoCloseable listenForWork(java.util.function.Consumer<String> wake) {
    return PostgresWorkListener.start(url, user, password, WORK_CHANNEL, wake);
  }

  @Override
  public void close() {
    pool.close();
  }
}
