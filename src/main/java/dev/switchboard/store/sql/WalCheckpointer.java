package dev.switchboard.store.sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the SQLite write-ahead log back into the database file on its own connection and thread,
 * so that the writer's commits never pay for a checkpoint. PASSIVE checkpoints never block the
 * writer or readers; durability does not depend on them (every commit already synced the WAL).
 * Failure policy: a failed checkpoint is logged and retried at the next tick; the WAL just grows
 * meanwhile.
 */
final class WalCheckpointer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WalCheckpointer.class);

  private final DataSource dataSource;
  private final Duration every;
  private final Thread thread;
  private volatile boolean running = true;

  WalCheckpointer(DataSource dataSource, Duration every) {
    this.dataSource = dataSource;
    this.every = every;
    this.thread = Thread.ofPlatform().name("sqlite-checkpoint").daemon(true).start(this::run);
  }

  private void run() {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA busy_timeout=2000");
      while (running) {
        Thread.sleep(every);
        checkpoint(statement);
      }
      checkpoint(statement);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      LOG.warn("WAL checkpointer stopped: {}", e.getMessage());
    }
  }

  private static void checkpoint(Statement statement) {
    try {
      statement.execute("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (SQLException e) {
      LOG.warn("WAL checkpoint failed: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
