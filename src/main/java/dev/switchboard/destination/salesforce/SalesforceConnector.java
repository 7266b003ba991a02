package dev.switchboard.destination.salesforce;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.salesforce.SalesforceSettings.Operation;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/** The {@code salesforce} connector: sObject upserts or creates (docs/connectors.md). */
public final class SalesforceConnector implements ConnectorDescriptor<SalesforceSettings> {
  static final List<String> OPERATIONS = List.of("upsert", "create");
  static final String DEFAULT_API_VERSION = "62.0";
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Pattern API_VERSION = Pattern.compile("\\d+\\.\\d+");

  @Override
  public String name() {
    return "salesforce";
  }

  @Override
  public List<String> keys() {
    return List.of(
        "login_url",
        "client_id",
        "client_secret",
        "api_version",
        "operation",
        "object",
        "external_id_field",
        "batch_size");
  }

  @Override
  public Function<Common, SalesforceSettings> read(SettingsReader node) {
    String login = node.httpUrl("login_url", true);
    String clientId = node.required("client_id");
    String clientSecret = node.required("client_secret");
    String object = node.required("object");
    String version = node.string("api_version", DEFAULT_API_VERSION);
    boolean versionUsable = version != null && API_VERSION.matcher(version).matches();
    if (version != null && !versionUsable) {
      node.problem("api_version", "bad api_version: expected a version such as \"62.0\"");
    }
    String operation = node.oneOf("operation", "operation", OPERATIONS, "upsert");
    boolean upsert = operation.equals("upsert");
    if (upsert && !node.has("external_id_field")) {
      node.problem("external_id_field", "external_id_field is required for operation upsert");
    }
    int batchSize = node.integer("batch_size", 1, 1, 200);
    String field = upsert ? node.string("external_id_field") : null;
    if (login == null
        || clientId == null
        || clientSecret == null
        || object == null
        || !versionUsable
        || (upsert && field == null)) {
      return null;
    }
    URI loginUrl = URI.create(ConnectorDescriptor.withoutTrailingSlash(login.trim()));
    return common ->
        new SalesforceSettings(
            loginUrl,
            clientId,
            clientSecret,
            version,
            upsert ? Operation.UPSERT : Operation.CREATE,
            object,
            field,
            batchSize,
            common.timeout(),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout());
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new SalesforceDestination(config, context.clock());
  }
}
