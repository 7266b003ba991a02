package dev.switchboard.destination.jdbc;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorDescriptor;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code jdbc} connector's settings, read by {@link JdbcConnector} when the file is loaded.
 *
 * <p>The URL may carry a password ({@code ?password=}); nothing here puts {@link #url()} or {@link
 * #password()} into a message: use {@link #safeTarget()}.
 *
 * @param user null when the URL or the database needs none (SQLite)
 * @param password null when none is configured
 * @param table a plain name, optionally schema-qualified ({@code crm.interaction_tracking})
 * @param keyColumns the columns of the unique key the upsert conflicts on, at least one
 * @param timeout how long one statement may run (the destination's {@code timeout})
 * @param connectTimeout how long an attempt waits for a connection (the pool's, or a new one)
 * @param poolSize the most connections, the destination's {@code concurrency}
 */
public record JdbcDestinationSettings(
    String url,
    String user,
    String password,
    String table,
    List<String> keyColumns,
    Duration timeout,
    Duration connectTimeout,
    int poolSize)
    implements ConnectorSettings {

  /**
   * SQL identifiers are written into the statement, not bound: only plain names pass (the loader
   * checks {@code table} and {@code key_columns} by it), and they are quoted.
   */
  static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public JdbcDestinationSettings {
    keyColumns = List.copyOf(keyColumns);
  }

  /**
   * The settings of a destination the loader read as {@code jdbc}, refused when a key column is
   * named twice (checked when the connector is built, as it always was).
   *
   * @throws IllegalArgumentException when the settings are unusable; the message never holds the
   *     URL or the password
   */
  static JdbcDestinationSettings of(DestinationConfig config) {
    JdbcDestinationSettings settings =
        ConnectorDescriptor.settingsOf(config, JdbcDestinationSettings.class);
    if (settings.keyColumns.stream().distinct().count() != settings.keyColumns.size()) {
      throw new IllegalArgumentException("key_columns names a column twice");
    }
    return settings;
  }

  /** {@code jdbc:postgresql} or {@code jdbc:sqlite}: the only part of the URL fit for a log. */
  public String safeTarget() {
    int second = url.indexOf(':', "jdbc:".length());
    return second < 0 ? "jdbc" : url.substring(0, second);
  }

  boolean postgres() {
    return url.startsWith("jdbc:postgresql:");
  }

  /** Never the URL or the password: a record's default would print both. */
  @Override
  public String toString() {
    return "JdbcDestinationSettings["
        + safeTarget()
        + ", table="
        + table
        + ", key="
        + keyColumns
        + "]";
  }
}
