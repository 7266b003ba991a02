package dev.switchboard.destination.salesforce;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.salesforce.SalesforceSettings.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The {@code salesforce} connector: sObject upserts or creates (docs/connectors.md). */
public final class SalesforceConnector implements ConnectorDescriptor<SalesforceSettings> {
  static final List<String> OPERATIONS = List.of("upsert", "create");
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  @Override
  public String name() {
    return "salesforce";
  }

  @Override
  public List<String> keys() {
    List<String> keys = new ArrayList<>(SalesforceClient.KEYS);
    keys.addAll(List.of("operation", "object", "external_id_field", "batch_size"));
    return List.copyOf(keys);
  }

  @Override
  public Function<Common, SalesforceSettings> read(SettingsReader node) {
    SalesforceClient client = SalesforceClient.read(node);
    String object = node.required("object");
    String operation = node.oneOf("operation", "operation", OPERATIONS, "upsert");
    boolean upsert = operation.equals("upsert");
    if (upsert && !node.has("external_id_field")) {
      node.problem("external_id_field", "external_id_field is required for operation upsert");
    }
    int batchSize = node.integer("batch_size", 1, 1, 200);
    String field = upsert ? node.string("external_id_field") : null;
    if (client == null || object == null || (upsert && field == null)) {
      return null;
    }
    return common ->
        new SalesforceSettings(
            client.loginUrl(),
            client.clientId(),
            client.clientSecret(),
            client.apiVersion(),
            upsert ? Operation.UPSERT : Operation.CREATE,
            object,
            field,
            batchSize,
            common.timeout(),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout());
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new SalesforceDestination(config, context);
  }
}
