package dev.switchboard.destination.jdbc;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Types;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jdbc} connector, the guides' "tracking store": each delivery's body (the route's
 * transform output, one flat JSON object) becomes one row, upserted on the configured key columns:
 * {@code INSERT INTO t (cols) VALUES (?, …) ON CONFLICT (keys) DO UPDATE SET col = EXCLUDED.col}.
 * The key makes a retry or a replay rewrite the same row, never add a second one; with a route's
 * {@code ordering: per-key} and {@code stale: skip}, an older event never overwrites a newer one.
 *
 * <p>Plain JDBC, so any database with PostgreSQL's {@code ON CONFLICT} works (PostgreSQL, SQLite).
 * Field names are the column names: checked against the plain-name rule and quoted, so they match
 * the table's exact (usually lower-case) names. Every value is bound, never written into the SQL:
 * strings, numbers, booleans and null as such, nested objects and arrays as their JSON text. On
 * PostgreSQL strings are sent untyped ({@code stringtype=unspecified}), so the server converts them
 * to the column's type: an ISO time into {@code timestamptz}, JSON text into {@code jsonb}, an id
 * into {@code uuid}.
 *
 * <p>Failure policy: the body is checked first (an object, plain names, every key column present
 * and not null), else the delivery is rejected without touching the database; a failed statement is
 * classified by {@link JdbcOutcomes}. Nothing is retried here. Neither the URL, the password nor
 * any value is logged or put into a result: errors carry SQLStates, excerpts the statement with its
 * placeholders.
 */
public final class JdbcDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcDestination.class);

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  /** The socket waits this much longer than a statement may run, so the server's cancel wins. */
  private static final Duration NETWORK_GRACE = Duration.ofSeconds(5);

  private static final int MAX_SHOWN_NAME = 64;

  private final String name;
  private final JdbcDestinationSettings settings;
  private final HikariDataSource pool;
  private final int timeoutSeconds;
  private volatile boolean networkTimeoutSupported = true;

  /**
   * Builds the pool without connecting: a database that is down at startup only delays deliveries.
   *
   * @throws IllegalArgumentException when a setting is malformed or no driver serves the URL
   */
  public JdbcDestination(DestinationConfig config) {
    this.name = config.name();
    this.settings = JdbcDestinationSettings.of(config);
    this.timeoutSeconds = (int) Math.max(1, Math.ceilDiv(settings.timeout().toMillis(), 1000));
    try {
      this.pool = new HikariDataSource(poolConfig(name, settings));
    } catch (RuntimeException e) {
      // Hikari's message quotes the URL, which may hold a password
      throw new IllegalArgumentException(
          "destination " + name + ": no JDBC driver for " + settings.safeTarget() + " URLs");
    }
    LOG.info(
        "jdbc destination {} upserts into {} on {} ({})",
        name,
        settings.table(),
        settings.keyColumns(),
        settings.safeTarget());
  }

  public JdbcDestinationSettings settings() {
    return settings;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    Map<String, JsonNode> row;
    try {
      row = row(delivery.body());
    } catch (IllegalArgumentException e) {
      return new Rejected(e.getMessage(), 0, null);
    }
    String sql = upsert(row.keySet());
    try (Connection connection = pool.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      limitNetworkWait(connection);
      statement.setQueryTimeout(timeoutSeconds);
      int index = 1;
      for (JsonNode value : row.values()) {
        bind(statement, index++, value);
      }
      int rows = statement.executeUpdate();
      return new Delivered(0, rows == 0 ? "row unchanged" : "upserted into " + settings.table());
    } catch (SQLException e) {
      DeliveryResult failure = JdbcOutcomes.of(e, sql);
      LOG.debug("jdbc destination {}: {}", name, failure);
      return failure;
    }
  }

  /** Closes every pooled connection. */
  @Override
  public void close() {
    pool.close();
  }

  /**
   * The body's fields as columns, in body order.
   *
   * @throws IllegalArgumentException saying why the body cannot be a row; never quoting a value
   */
  Map<String, JsonNode> row(byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("body is not JSON");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(
          "body is not a JSON object: the transform must give one object whose fields are columns");
    }
    Map<String, JsonNode> row = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      if (!JdbcDestinationSettings.PLAIN_NAME.matcher(field.getKey()).matches()) {
        throw new IllegalArgumentException(
            "field " + shown(field.getKey()) + " is not a plain column name");
      }
      row.put(field.getKey(), field.getValue());
    }
    for (String key : settings.keyColumns()) {
      JsonNode value = row.get(key);
      if (value == null || value.isNull()) {
        throw new IllegalArgumentException("key column " + key + " is missing or null in the body");
      }
      if (value.isContainerNode()) {
        throw new IllegalArgumentException(
            "key column " + key + " must be a string, number or boolean");
      }
    }
    return row;
  }

  /** The upsert for these columns; names only, every value a placeholder. */
  String upsert(Collection<String> columns) {
    List<String> keys = settings.keyColumns();
    List<String> others = columns.stream().filter(c -> !keys.contains(c)).toList();
    String action =
        others.isEmpty()
            ? "DO NOTHING"
            : others.stream()
                .map(c -> quoted(c) + " = EXCLUDED." + quoted(c))
                .collect(Collectors.joining(", ", "DO UPDATE SET ", ""));
    return "INSERT INTO "
        + quotedTable()
        + " ("
        + columns.stream().map(JdbcDestination::quoted).collect(Collectors.joining(", "))
        + ") VALUES ("
        + String.join(", ", Collections.nCopies(columns.size(), "?"))
        + ") ON CONFLICT ("
        + keys.stream().map(JdbcDestination::quoted).collect(Collectors.joining(", "))
        + ") "
        + action;
  }

  private static void bind(PreparedStatement statement, int index, JsonNode value)
      throws SQLException {
    if (value.isNull() || value.isMissingNode()) {
      statement.setNull(index, Types.NULL);
    } else if (value.isBoolean()) {
      statement.setBoolean(index, value.booleanValue());
    } else if (value.isIntegralNumber() && value.canConvertToLong()) {
      statement.setLong(index, value.longValue());
    } else if (value.isNumber()) {
      statement.setBigDecimal(index, value.decimalValue());
    } else if (value.isTextual()) {
      statement.setString(index, value.textValue());
    } else {
      statement.setString(index, value.toString()); // object or array: its JSON text
    }
  }

  /** Bounds a read on a dead network, which the statement timeout's cancel cannot reach. */
  private void limitNetworkWait(Connection connection) throws SQLException {
    if (!networkTimeoutSupported) {
      return;
    }
    try {
      connection.setNetworkTimeout(
          Runnable::run, (int) settings.timeout().plus(NETWORK_GRACE).toMillis());
    } catch (SQLFeatureNotSupportedException e) {
      networkTimeoutSupported = false; // SQLite: no network
    }
  }

  private String quotedTable() {
    return Arrays.stream(settings.table().split("\\."))
        .map(JdbcDestination::quoted)
        .collect(Collectors.joining("."));
  }

  /** Names passed the plain-name rule, so they hold no quote to escape. */
  private static String quoted(String name) {
    return "\"" + name + "\"";
  }

  private static String shown(String name) {
    String printable =
        name.codePoints()
            .map(c -> c < 0x20 || c == 0x7f ? '?' : c)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
            .toString();
    return "\""
        + (printable.length() > MAX_SHOWN_NAME
            ? printable.substring(0, MAX_SHOWN_NAME) + "…"
            : printable)
        + "\"";
  }

  private static HikariConfig poolConfig(String name, JdbcDestinationSettings settings) {
    long connectMillis = Math.max(250, settings.connectTimeout().toMillis());
    HikariConfig config = new HikariConfig();
    config.setPoolName("jdbc-" + name);
    config.setJdbcUrl(settings.url());
    if (settings.user() != null) {
      config.setUsername(settings.user());
    }
    if (settings.password() != null) {
      config.setPassword(settings.password());
    }
    config.setMaximumPoolSize(settings.poolSize());
    config.setMinimumIdle(Math.min(2, settings.poolSize())); // grows with the load, up to the max
    config.setConnectionTimeout(connectMillis);
    config.setValidationTimeout(Math.min(connectMillis, 5_000));
    config.setInitializationFailTimeout(-1); // start even when the database is down
    if (settings.postgres()) {
      // a URL parameter of the same name still wins
      config.addDataSourceProperty("stringtype", "unspecified");
      config.addDataSourceProperty("ApplicationName", "switchboard");
    }
    return config;
  }
}
