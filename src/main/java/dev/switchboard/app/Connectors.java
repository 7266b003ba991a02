package dev.switchboard.app;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorTypes;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.http.OAuthSessions;
import dev.switchboard.ingest.verify.StandardWebhooksVerifier;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Builds the connector of each destination and the client of each enricher from its checked
 * configuration, through the descriptor of its type in {@link ConnectorTypes} (the same list the
 * loader checked it with), handing it the clock, the request signer and the gateway's shared OAuth
 * tokens.
 */
final class Connectors implements AutoCloseable {
  private final ConnectorContext context;

  Connectors(Clock clock) {
    StandardWebhooksVerifier signer = new StandardWebhooksVerifier(List.of(), Duration.ZERO);
    this.context = new ConnectorContext(clock, signer::sign, new OAuthSessions(clock));
  }

  /**
   * @return the connector, or null when this version has none for the type (its deliveries are kept
   *     and wait)
   * @throws IllegalArgumentException when a setting is unusable (a malformed secret, …)
   */
  Destination build(DestinationConfig config) {
    return ConnectorTypes.create(config, context);
  }

  /**
   * @throws IllegalArgumentException for a type this version has no enricher for (the loader
   *     accepts only known types)
   */
  Enricher enricher(EnricherConfig config) {
    return ConnectorTypes.createEnricher(config, context);
  }

  /** Closes the token requests' connections, once every connector is closed. */
  @Override
  public void close() {
    context.sessions().close();
  }
}
