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

  private final Dialect dialect;
  private final BlockingQueue<Connection> idle;
  private final List<Connection> all = new ArrayList<>();

  SqlReaders(Dialect dialect, int size) throws SQLException {
    this.dialect = dialect;
    this.idle = new ArrayBlockingQueue<>(size);
    for (int i = 0; i < size; i++) {
      Connection c = open();
      all.add(c);
      idle.add(c);
    }
  }

  private Connection open() throws SQLException {
    Connection c = dialect.dataSource().getConnection();
    dialect.prepareReader(c);
    return c;
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
      c = replaceIfBroken(c);
      throw new StoreUnavailableException("store read failed: " + e.getMessage(), e);
    } finally {
      idle.add(c);
    }
  }

  /**
   * A server database may drop a connection (restart, failover): swaps it for a new one so later
   * reads work again. Keeps the old one when no new one can be had yet.
   */
  private Connection replaceIfBroken(Connection c) {
    try {
      if (c.isValid(2)) {
        return c;
      }
      Connection fresh = open();
      synchronized (all) {
        all.remove(c);
        all.add(fresh);
      }
      try {
        c.close();
      } catch (SQLException ignored) {
        // already gone
      }
      return fresh;
    } catch (SQLException e) {
      return c;
    }
  }

  @Override
  public void close() {
    List<Connection> open;
    synchronized (all) {
      open = List.copyOf(all);
    }
    for (Connection c : open) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing on the way out
      }
    }
  }
}
