package dev.switchboard.store.sql;

import java.nio.file.Path;
import java.time.Clock;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on SQLite: a new file per test. */
class SqliteStoreContractTest extends StoreContract {
  @TempDir Path dir;

  @Override
  SqlEventStore open(IntConsumer batchSizes) throws Exception {
    return SqlEventStore.open(
        new SqliteDialect(dir.resolve("store.db")), Clock.systemUTC(), batchSizes);
  }
}
