package dev.switchboard.store.sql;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.sqlite.SQLiteDataSource;

/**
 * One SQLite file in WAL mode with {@code synchronous=FULL}: a commit returns only after the WAL is
 * fsynced, which is what makes a 2xx durable. Readers never block the writer.
 */
public final class SqliteDialect implements Dialect {
  private final Path file;
  private final SQLiteDataSource dataSource;

  public SqliteDialect(Path file) {
    this.file = file.toAbsolutePath().normalize();
    this.dataSource = new SQLiteDataSource();
    dataSource.setUrl("jdbc:sqlite:" + this.file);
  }

  /** Creates the file's folder when missing. */
  public void createFolder() throws java.io.IOException {
    Path parent = file.getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
  }

  public Path file() {
    return file;
  }

  @Override
  public String name() {
    return "sqlite";
  }

  @Override
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void prepareWriter(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=FULL");
      s.execute("PRAGMA busy_timeout=2000");
      s.execute("PRAGMA foreign_keys=ON");
    }
  }

  @Override
  public void prepareReader(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("PRAGMA busy_timeout=2000");
      s.execute("PRAGMA query_only=ON");
    }
  }

  @Override
  public void limitSize(Connection writer, long maxSizeBytes) throws SQLException {
    try (Statement s = writer.createStatement()) {
      long pageSize;
      try (var rs = s.executeQuery("PRAGMA page_size")) {
        rs.next();
        pageSize = rs.getLong(1);
      }
      long pages =
          maxSizeBytes <= 0 ? Integer.MAX_VALUE - 1L : Math.max(1, maxSizeBytes / pageSize);
      s.execute("PRAGMA max_page_count=" + pages);
    }
  }

  @Override
  public int readers() {
    return 4;
  }

  @Override
  public boolean soleWriter() {
    return true;
  }

  /** One writer, no lock waits between writers: a failed batch failed for what it is. */
  @Override
  public boolean isTransient(SQLException e) {
    return false;
  }

  /**
   * SQLite has no SQLStates; its primary result codes say the same: SQLITE_TOOBIG (18),
   * SQLITE_CONSTRAINT (19), SQLITE_MISMATCH (20). A full disk (13) or a busy file (5) is not one.
   */
  @Override
  public boolean refusesContent(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof org.sqlite.SQLiteException sqlite) {
        int code = sqlite.getResultCode().code & 0xff;
        return code == 18 || code == 19 || code == 20;
      }
    }
    return false;
  }

  @Override
  public void close() {
    // a SQLiteDataSource holds nothing open
  }
}
