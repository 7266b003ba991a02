package dev.switchboard.app;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.genesys.GenesysEnricher;
import dev.switchboard.destination.http.HttpDestination;
import dev.switchboard.destination.jdbc.JdbcDestination;
import dev.switchboard.destination.jira.JiraDestination;
import dev.switchboard.destination.kafka.KafkaDestination;
import dev.switchboard.destination.salesforce.SalesforceDestination;
import dev.switchboard.destination.slack.SlackDestination;
import dev.switchboard.ingest.verify.StandardWebhooksVerifier;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Builds the connector of each destination type from its checked configuration: the one place that
 * knows which class serves which {@code type}. Adding a connector is one line here, one class and
 * one config record in its own package under {@code destination}.
 */
final class Connectors {
  private final Clock clock;
  private final StandardWebhooksVerifier signer =
      new StandardWebhooksVerifier(List.of(), Duration.ZERO);

  Connectors(Clock clock) {
    this.clock = clock;
  }

  /**
   * @return the connector, or null when this version has none for the type (its deliveries are kept
   *     and wait)
   * @throws IllegalArgumentException when a setting is unusable (a malformed secret, …)
   */
  Destination build(DestinationConfig config) {
    return switch (config.type()) {
      case "http" -> new HttpDestination(config, clock, signer::sign);
      case "kafka" -> new KafkaDestination(config);
      case "salesforce" -> new SalesforceDestination(config, clock);
      case "slack" -> new SlackDestination(config, clock);
      case "jira" -> new JiraDestination(config, clock);
      case "jdbc" -> new JdbcDestination(config);
      default -> null;
    };
  }

  /**
   * @throws IllegalArgumentException for a type this version has no enricher for (the loader
   *     accepts only known types)
   */
  Enricher enricher(EnricherConfig config) {
    return switch (config.type()) {
      case "genesys-cloud" -> new GenesysEnricher(config, clock);
      default -> throw new IllegalArgumentException("no enricher of type " + config.type());
    };
  }
}
