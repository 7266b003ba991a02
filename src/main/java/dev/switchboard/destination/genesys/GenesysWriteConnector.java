package dev.switchboard.destination.genesys;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.genesys.GenesysWriteSettings.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The {@code genesys-cloud} destination: writes back to Genesys Cloud with the same client keys as
 * the {@code genesys-cloud} enricher ({@link GenesysConnector}), whose type name it shares in the
 * other section of the file (docs/connectors.md, "Genesys Cloud (write-back)").
 */
public final class GenesysWriteConnector implements ConnectorDescriptor<GenesysWriteSettings> {
  static final List<String> OPERATIONS =
      Arrays.stream(Operation.values()).map(Operation::written).toList();
  static final List<String> MATCH_ON = List.of("phone", "email", "externalSystemUrl");
  static final List<String> METHODS = List.of("POST", "PUT", "PATCH", "DELETE", "GET");
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  @Override
  public String name() {
    return "genesys-cloud";
  }

  @Override
  public List<String> keys() {
    List<String> keys = new ArrayList<>(GenesysClient.KEYS);
    keys.addAll(List.of("operation", "match_on", "method", "path"));
    return keys;
  }

  @Override
  public Function<Common, GenesysWriteSettings> read(SettingsReader node) {
    GenesysClient client = GenesysClient.read(node);
    boolean usable = client != null;
    String written = node.required("operation");
    Operation operation = null;
    if (written != null) {
      written = node.oneOf("operation", "operation", OPERATIONS, null);
      operation = OPERATIONS.contains(written) ? Operation.of(written) : null;
    }
    usable &= operation != null;
    String matchOn = null;
    if (operation == Operation.EXTERNAL_CONTACT) {
      matchOn =
          node.required("match_on") == null ? null : node.oneOf("match_on", "key", MATCH_ON, null);
      usable &= matchOn != null && MATCH_ON.contains(matchOn);
    } else if (node.has("match_on")) {
      node.problem("match_on", "match_on applies to operation external-contact only");
      usable = false;
    }
    String method = null;
    EnrichPath path = null;
    if (operation == Operation.REQUEST) {
      method = node.string("method", "POST");
      if (method != null) {
        method = method.toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method)) {
          node.problem("method", "bad method: expected one of " + String.join(", ", METHODS));
          usable = false;
        }
      }
      path = path(node);
      usable &= path != null;
    } else {
      for (String key : List.of("method", "path")) {
        if (node.has(key)) {
          node.problem(key, key + " applies to operation request only");
          usable = false;
        }
      }
    }
    if (!usable) {
      return null;
    }
    Operation op = operation;
    String key = matchOn;
    String verb = method;
    EnrichPath template = path;
    return common ->
        new GenesysWriteSettings(
            client,
            op,
            key,
            verb,
            template,
            common.timeout(),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout(),
            common.concurrency());
  }

  /**
   * The {@code path:} template of a request, under {@code /api/v2/} on the client's API: the host
   * is the configured one, never the event's.
   */
  private static EnrichPath path(SettingsReader node) {
    String text = node.required("path");
    if (text == null) {
      return null;
    }
    EnrichPath path;
    try {
      path = EnrichPath.template(text);
    } catch (IllegalArgumentException e) {
      node.problem("path", "bad path: " + e.getMessage());
      return null;
    }
    if (path.origin() != null || !text.startsWith("/api/v2/")) {
      node.problem("path", "the path must start with /api/v2/ (the host is api_url's or region's)");
      return null;
    }
    return path;
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new GenesysDestination(config, context.clock(), context.sessions());
  }
}
