package dev.switchboard.store.sql;

import dev.switchboard.testing.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link SqlRetentionTest} on PostgreSQL: the retention SQL is shared, and cluster mode will run it
 * there. A fresh database per test on one embedded server, opened as {@code store.type: postgres}
 * opens it.
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
    return new PostgresDialect(
        pg.jdbcUrl(database), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD, 4);
  }

  /** Each ingest, claim and outcome is a round trip here: fewer, still more than a batch a day. */
  @Override
  int perDay() {
    return SqlRetention.BATCH + 100;
  }

  /**
   * PostgreSQL plans by its statistics: the plan that matters is the one on a large, analysed
   * history where every event is past the cutoff (a purge that has fallen behind), so the history
   * is made here first: 200,000 delivered events of two deliveries each.
   */
  @Override
  String candidatesPlan() throws Exception {
    StringBuilder plan = new StringBuilder();
    try (Connection c = dialect.dataSource().getConnection()) {
      try (Statement s = c.createStatement()) {
        s.execute(
            "INSERT INTO events (id, source, event_time, received_at, payload, headers, status)"
                + " SELECT 'evt_' || lpad(g::text, 8, '0'), 'src', g, g, '{}', '{}', 'accepted'"
                + " FROM generate_series(1, 200000) g");
        s.execute(
            "INSERT INTO deliveries (id, event_id, route, destination, state, event_time,"
                + " next_attempt_at, created_at, updated_at)"
                + " SELECT 'dlv_' || lpad(g::text, 8, '0') || '_' || r, 'evt_' || lpad(g::text, 8,"
                + " '0'), 'r' || r, 'd' || r, CASE r WHEN 1 THEN 'delivered' ELSE 'skipped' END,"
                + " g, g, g, g FROM generate_series(1, 200000) g, generate_series(1, 2) r");
        s.execute("ANALYZE events");
        s.execute("ANALYZE deliveries");
      }
      try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + SqlRetention.CANDIDATES)) {
        bindCandidates(ps, 300_000L);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
      }
    }
    return plan.toString();
  }
}
