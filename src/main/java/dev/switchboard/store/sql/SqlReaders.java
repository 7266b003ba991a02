package dev.switchboard.store.sql;

import dev.switchboard.store.StoreUnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A few read-only connections, lent out one query at a time. Readers never wait for the writer's
 * sync (WAL on SQLite, MVCC on PostgreSQL).
 */
final class SqlReaders implements AutoCloseable {
  interface SqlRead<T> {
    T run(Connection c) throws SQLException;
  }

  private final BlockingQueue<Connection> idle;
  private final List<Connection> all = new ArrayList<>();

  SqlReaders(Dialect dialect, int size) throws SQLException {
    this.idle = new ArrayBlockingQueue<>(size);
    for (int i = 0; i < size; i++) {
      Connection c = dialect.dataSource().getConnection();
      dialect.prepareReader(c);
      all.add(c);
      idle.add(c);
    }
  }

  <T> T read(SqlRead<T> body) {
    Connection c;
    try {
      c = idle.poll(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted", e);
    }
    if (c == null) {
      throw new StoreUnavailableException("no store reader free within 30 s", null);
    }
    try {
      return body.run(c);
    } catch (SQLException e) {
      throw new StoreUnavailableException("store read failed: " + e.getMessage(), e);
    } finally {
      idle.add(c);
    }
  }

  @Override
  public void close() {
    for (Connection c : all) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing on the way out
      }
    }
  }
}
