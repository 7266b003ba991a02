package dev.switchboard.store.sql;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * What differs between the databases the store runs on. Everything else is the shared SQL in {@link
 * SqlEventStore} and the Flyway migrations.
 */
public interface Dialect {
  String name();

  DataSource dataSource();

  /** Settings for the one connection that writes (durability, timeouts). */
  void prepareWriter(Connection connection) throws SQLException;

  /** Settings for connections that only read. */
  void prepareReader(Connection connection) throws SQLException;

  /**
   * Caps the store's size so that writes past it fail like a full disk; 0 removes the cap. Only
   * meaningful for an embedded file.
   */
  void limitSize(Connection writer, long maxSizeBytes) throws SQLException;
}
