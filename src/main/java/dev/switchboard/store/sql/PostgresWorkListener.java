package dev.switchboard.store.sql;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens for {@code NOTIFY} on a channel with a connection of its own (never the pool's), on a
 * daemon thread. A notification's payload (a destination's name) goes to {@code wake}; after every
 * (re)connection {@code wake} gets null, since notifications sent while no connection listened are
 * lost. A dropped connection is opened again after a short pause, for as long as the listener is
 * open. The URL, user and password are never logged.
 */
final class PostgresWorkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresWorkListener.class);
  static final Duration READ_TIMEOUT = Duration.ofMillis(500);
  static final Duration RECONNECT_PAUSE = Duration.ofSeconds(1);

  private final String url;
  private final Properties login = new Properties();
  private final String channel;
  private final Consumer<String> wake;
  private final Thread thread;
  private volatile boolean closed;
  private volatile Connection connection;

  private PostgresWorkListener(
      String url, String user, String password, String channel, Consumer<String> wake) {
    this.url = url;
    this.channel = channel;
    this.wake = wake;
    if (user != null) {
      login.setProperty("user", user);
    }
    if (password != null) {
      login.setProperty("password", password);
    }
    login.setProperty("tcpKeepAlive", "true");
    this.thread = Thread.ofPlatform().name("store-listener").daemon(true).unstarted(this::run);
  }

  static PostgresWorkListener start(
      String url, String user, String password, String channel, Consumer<String> wake) {
    PostgresWorkListener listener = new PostgresWorkListener(url, user, password, channel, wake);
    listener.thread.start();
    return listener;
  }

  private void run() {
    boolean warned = false;
    while (!closed) {
      try (Connection c = DriverManager.getConnection(url, login)) {
        connection = c;
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + channel);
        }
        if (warned) {
          LOG.info("listening for new work again");
          warned = false;
        }
        wake.accept(null); // anything notified while nobody listened
        PGConnection pg = c.unwrap(PGConnection.class);
        while (!closed) {
          PGNotification[] notifications = pg.getNotifications((int) READ_TIMEOUT.toMillis());
          if (notifications != null) {
            for (PGNotification n : notifications) {
              wake.accept(n.getParameter());
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          return;
        }
        if (!warned) {
          // the message of a connection failure names neither the password nor the query string
          LOG.warn(
              "not listening for new work (the periodic poll still finds it): {}",
              e.getClass().getSimpleName());
          warned = true;
        }
        LockSupport.parkNanos(RECONNECT_PAUSE.toNanos());
      } finally {
        connection = null;
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    Connection c = connection;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing anyway
      }
    }
    try {
      thread.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
