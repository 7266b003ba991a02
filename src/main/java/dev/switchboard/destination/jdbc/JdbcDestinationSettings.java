package dev.switchboard.destination.jdbc;

import dev.switchboard.config.ConfigValues;
import dev.switchboard.config.DestinationConfig;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code jdbc} connector's settings, read from a checked {@link DestinationConfig}.
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
    int poolSize) {

  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * SQL identifiers are written into the statement, not bound: only plain names pass (the same rule
   * the loader applies to {@code table} and {@code key_columns}), and they are quoted.
   */
  static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

  public JdbcDestinationSettings {
    keyColumns = List.copyOf(keyColumns);
  }

  /**
   * Reads the settings the loader checked; also accepts a hand-built config (tests), checking the
   * same rules.
   *
   * @throws IllegalArgumentException when a setting is missing or malformed; the message never
   *     holds the URL or the password
   */
  public static JdbcDestinationSettings from(DestinationConfig config) {
    var settings = config.settings();
    if (!(settings.get("url") instanceof String url) || !url.startsWith("jdbc:")) {
      throw new IllegalArgumentException("url: expected a JDBC URL starting with jdbc:");
    }
    if (!(settings.get("table") instanceof String table) || !TABLE.matcher(table).matches()) {
      throw new IllegalArgumentException("table: expected a name such as schema.table");
    }
    List<String> keyColumns = keyColumns(settings.get("key_columns"));
    Duration connectTimeout =
        settings.get("connect_timeout") instanceof String text
            ? ConfigValues.duration(text)
            : DEFAULT_CONNECT_TIMEOUT;
    return new JdbcDestinationSettings(
        url,
        settings.get("user") instanceof String user ? user : null,
        settings.get("password") instanceof String password ? password : null,
        table,
        keyColumns,
        config.timeout() == null ? Duration.ofSeconds(30) : config.timeout(),
        connectTimeout,
        Math.max(1, config.concurrency()));
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

  private static List<String> keyColumns(Object value) {
    List<String> columns =
        switch (value) {
          case List<?> list -> list.stream().map(String::valueOf).toList();
          case String one -> List.of(one);
          case null, default -> List.of();
        };
    if (columns.isEmpty()) {
      throw new IllegalArgumentException("key_columns must name at least one column");
    }
    for (String column : columns) {
      if (!PLAIN_NAME.matcher(column).matches()) {
        throw new IllegalArgumentException(
            "key_columns: \"" + column + "\" is not a plain column name");
      }
    }
    if (columns.stream().distinct().count() != columns.size()) {
      throw new IllegalArgumentException("key_columns names a column twice");
    }
    return columns;
  }
}
