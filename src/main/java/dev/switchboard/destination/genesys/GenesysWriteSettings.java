package dev.switchboard.destination.genesys;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.EnrichPath;
import java.time.Duration;

/**
 * The {@code genesys-cloud} destination's settings, read by {@link GenesysWriteConnector} when the
 * file is loaded.
 *
 * @param matchOn for {@link Operation#EXTERNAL_CONTACT}: which field of the contact finds an
 *     existing one ({@code phone}, {@code email} or {@code externalSystemUrl}); null otherwise
 * @param method for {@link Operation#REQUEST}: the HTTP method when the route sets none; null
 *     otherwise
 * @param path for {@link Operation#REQUEST}: the API path template; null otherwise
 */
public record GenesysWriteSettings(
    GenesysClient client,
    Operation operation,
    String matchOn,
    String method,
    EnrichPath path,
    Duration timeout,
    Duration connectTimeout,
    int concurrency)
    implements ConnectorSettings {

  /**
   * What each delivery does in Genesys Cloud (docs/connectors.md, "Genesys Cloud (write-back)").
   */
  public enum Operation {
    /** PATCH a conversation participant's attributes. */
    CONVERSATION_ATTRIBUTES("conversation-attributes"),
    /** Create a callback, once per delivery. */
    CALLBACK("callback"),
    /** Create or update an external contact found by a key. */
    EXTERNAL_CONTACT("external-contact"),
    /** Any Platform API call: method, path template, the body as it is. */
    REQUEST("request");

    private final String written;

    Operation(String written) {
      this.written = written;
    }

    /** As written after {@code operation:}. */
    public String written() {
      return written;
    }

    static Operation of(String written) {
      for (Operation o : values()) {
        if (o.written.equals(written)) {
          return o;
        }
      }
      throw new IllegalArgumentException("no operation " + written);
    }
  }

  /**
   * A {@code request}'s path template reads these bindings; the loader checks each route gives
   * them.
   */
  @Override
  public java.util.Set<String> templateVariables() {
    return path == null ? java.util.Set.of() : path.variables();
  }

  /** Only a {@code request} has a method a route can change. */
  @Override
  public boolean takesRouteMethod() {
    return operation == Operation.REQUEST;
  }

  /** Never the client secret. */
  @Override
  public String toString() {
    return "GenesysWriteSettings["
        + client
        + ", "
        + operation.written()
        + (matchOn == null ? "" : " on " + matchOn)
        + (path == null ? "" : " " + method + " " + path.text())
        + "]";
  }
}
