package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The store's shared classes hold only SQL both databases run; what one database alone runs is its
 * dialect's ({@code PostgresDialect} with {@code PostgresStatements}, {@code SqliteDialect}).
 */
class SharedSqlIsPortableTest {
  static final Path STORE_SQL = Path.of("src/main/java/dev/switchboard/store/sql");

  /** Constructs of one database only. */
  static final List<String> DIALECT_ONLY =
      List.of("ANY(", "unnest(", "SKIP LOCKED", "pg_", "::text", "::bigint", "hashtext", "PRAGMA");

  @Test
  void sharedStoreClassesHoldNoSqlOfOneDatabaseOnly() throws Exception {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(STORE_SQL)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.startsWith("Postgres")
            || name.startsWith("Sqlite")
            || name.equals("Dialect.java")) {
          continue;
        }
        for (String line : Files.readAllLines(file)) {
          String code = line.strip();
          if (code.startsWith("*") || code.startsWith("/*") || code.startsWith("//")) {
            continue; // comments may name what the dialects do
          }
          for (String construct : DIALECT_ONLY) {
            if (code.contains(construct)) {
              found.add(name + ": " + code);
            }
          }
        }
      }
    }
    assertThat(found).isEmpty();
  }
}
