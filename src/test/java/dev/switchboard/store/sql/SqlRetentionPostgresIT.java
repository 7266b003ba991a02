package dev.switchboard.store.sql;

import dev.switchboard.testing.EmbeddedPostgres;
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
}
