package dev.switchboard.destination.jdbc;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/** The {@code jdbc} connector: one upserted row per delivery (docs/connectors.md). */
public final class JdbcConnector implements ConnectorDescriptor<JdbcDestinationSettings> {
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * SQL identifiers are written into statements, not bound, so only plain names pass; a table may
   * be schema-qualified.
   */
  private static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

  @Override
  public String name() {
    return "jdbc";
  }

  @Override
  public List<String> keys() {
    return List.of("url", "user", "password", "table", "key_columns");
  }

  @Override
  public Function<Common, JdbcDestinationSettings> read(SettingsReader node) {
    String url = node.required("url");
    boolean urlUsable = url != null && url.startsWith("jdbc:");
    if (url != null && !urlUsable) {
      node.problem("url", "bad url: expected a JDBC URL starting with jdbc:");
    }
    String table = node.required("table");
    boolean tableUsable = table != null && TABLE.matcher(table).matches();
    if (table != null && !tableUsable) {
      node.problem("table", "bad table \"" + table + "\": expected a name such as schema.table");
    }
    boolean keysUsable = true;
    if (!node.has("key_columns")) {
      node.problem("key_columns", "key_columns is required: the columns to upsert on");
      keysUsable = false;
    } else if (node.isList("key_columns") && node.strings("key_columns").isEmpty()) {
      node.problem("key_columns", "key_columns must name at least one column");
      keysUsable = false;
    }
    List<String> keyColumns = new ArrayList<>();
    for (SettingsReader.Item column : node.items("key_columns")) {
      if (!JdbcDestinationSettings.PLAIN_NAME.matcher(column.value()).matches()) {
        node.problem(column, "bad column " + column.shown() + ": expected a plain column name");
        keysUsable = false;
      }
      keyColumns.add(column.value());
    }
    String user = node.string("user");
    String password = node.string("password");
    if (!urlUsable || !tableUsable || !keysUsable || keyColumns.isEmpty()) {
      return null;
    }
    return common ->
        new JdbcDestinationSettings(
            url,
            user,
            password,
            table,
            keyColumns,
            common.timeout(),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout(),
            Math.max(1, common.concurrency()));
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new JdbcDestination(config);
  }
}
