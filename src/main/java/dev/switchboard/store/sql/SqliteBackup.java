package dev.switchboard.store.sql;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

/**
 * A consistent copy of a SQLite store while a gateway keeps writing to it (docs/store.md,
 * "Backups"): {@code VACUUM INTO} reads the whole database inside one read transaction, which in
 * WAL mode neither waits for the gateway's writer nor makes it wait, so the copy is the store as of
 * one commit, and it is compacted and self-contained (no {@code -wal} beside it). SQLite's
 * page-by-page backup API would start over each time the gateway commits.
 */
public final class SqliteBackup {
  private SqliteBackup() {}

  /** What a copy holds, read back from the copy itself. */
  public record Copied(long bytes, long events, long deliveries) {}

  /**
   * Copies {@code store} to {@code target}, which must not exist yet, and checks the copy ({@code
   * PRAGMA quick_check}). A copy that fails is deleted.
   */
  public static Copied copy(Path store, Path target) throws IOException, SQLException {
    if (!Files.isRegularFile(store)) {
      throw new IOException("no SQLite store at " + store);
    }
    if (Files.exists(target)) {
      throw new IOException(target + " exists already; a backup never overwrites a file");
    }
    Path folder = target.toAbsolutePath().getParent();
    if (folder == null || !Files.isDirectory(folder)) {
      throw new IOException("no folder " + folder + " for the backup");
    }
    SQLiteConfig readOnly = new SQLiteConfig();
    readOnly.setReadOnly(true);
    readOnly.setBusyTimeout(10_000);
    try (Connection source =
            DriverManager.getConnection("jdbc:sqlite:" + store, readOnly.toProperties());
        PreparedStatement vacuum = source.prepareStatement("VACUUM INTO ?")) {
      vacuum.setString(1, target.toString());
      vacuum.execute();
    } catch (SQLException e) {
      Files.deleteIfExists(target);
      throw e;
    }
    try (Connection copy =
            DriverManager.getConnection("jdbc:sqlite:" + target, readOnly.toProperties());
        Statement statement = copy.createStatement()) {
      String check = single(statement, "PRAGMA quick_check");
      if (!"ok".equals(check)) {
        throw new SQLException("the copy fails SQLite's check: " + check);
      }
      return new Copied(
          Files.size(target),
          Long.parseLong(single(statement, "SELECT count(*) FROM events")),
          Long.parseLong(single(statement, "SELECT count(*) FROM deliveries")));
    } catch (SQLException | RuntimeException e) {
      Files.deleteIfExists(target);
      throw e;
    }
  }

  private static String single(Statement statement, String sql) throws SQLException {
    try (var rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getString(1);
    }
  }
}
