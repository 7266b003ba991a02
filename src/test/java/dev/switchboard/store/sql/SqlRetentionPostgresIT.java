package dev.switchboard.store.sql;

import dev.switchboard.testing.EmbeddedPostgres;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link SqlRetentionTest} on PostgreSQL: the retention SQL is shared, and cluster mode will run it
 * there. A fresh database per test on one embedded server; the dialect is the least a store needs.
 */
class SqlRetentionPostgresIT extends SqlRetentionTest {
  static final AtomicInteger DATABASES = new AtomicInteger();
  static EmbeddedPostgres pg;

  @BeforeAll
  static void startPostgres() {
    pg = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (pg != null) {
      pg.close();
    }
  }

  @Override
  Dialect newDialect() {
    String database = pg.createDatabase("retention" + DATABASES.incrementAndGet());
    return new PostgresForTests(database);
  }

  /** Each ingest, claim and outcome is a round trip here: fewer, still more than a batch a day. */
  @Override
  int perDay() {
    return SqlRetention.BATCH + 100;
  }

  /** Applies the migrations by hand: this build's Flyway has no PostgreSQL module yet. */
  @Override
  SqlEventStore openStore(Dialect dialect) throws Exception {
    try (Connection c = dialect.dataSource().getConnection();
        Statement s = c.createStatement()) {
      for (String version :
          List.of("V1__events_and_deliveries", "V2__delivery_queue", "V3__admin_indexes")) {
        try (InputStream in =
            SqlRetentionPostgresIT.class.getResourceAsStream("/db/migration/" + version + ".sql")) {
          s.execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    }
    return SqlEventStore.openMigrated(dialect, clock, n -> {});
  }

  /** Read committed, synchronous commits: PostgreSQL's defaults. */
  record PostgresForTests(String database) implements Dialect, DataSource {
    @Override
    public String name() {
      return "postgres";
    }

    @Override
    public DataSource dataSource() {
      return this;
    }

    @Override
    public void prepareWriter(Connection connection) {}

    @Override
    public void prepareReader(Connection connection) throws SQLException {
      try (Statement s = connection.createStatement()) {
        s.execute("SET default_transaction_read_only = on");
      }
    }

    @Override
    public void limitSize(Connection writer, long maxSizeBytes) {}

    @Override
    public Connection getConnection() throws SQLException {
      return pg.connect(database);
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }
}
