package dev.switchboard.destination;

import dev.switchboard.config.ConnectorCatalog;
import dev.switchboard.config.ConnectorType;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.EnricherType;
import dev.switchboard.destination.genesys.GenesysConnector;
import dev.switchboard.destination.genesys.GenesysWriteConnector;
import dev.switchboard.destination.http.HttpConnector;
import dev.switchboard.destination.http.HttpEnricherDescriptor;
import dev.switchboard.destination.jdbc.JdbcConnector;
import dev.switchboard.destination.jira.JiraConnector;
import dev.switchboard.destination.kafka.KafkaConnector;
import dev.switchboard.destination.salesforce.SalesforceConnector;
import dev.switchboard.destination.salesforce.SalesforceEnricherDescriptor;
import dev.switchboard.destination.slack.SlackConnector;
import java.util.List;

/**
 * Every connector and enricher this build has: the one list. The configuration loader checks a
 * destination's keys with the entry of its {@code type} (it finds this catalog through {@code
 * META-INF/services}, since the configuration may not depend on the connectors); the composition
 * root builds the connector with the same entry. Adding a connector is one descriptor in its
 * package and one line here.
 */
public final class ConnectorTypes implements ConnectorCatalog {
  /** In the order messages list the types. */
  public static final List<ConnectorDescriptor<?>> ALL =
      List.of(
          new HttpConnector(),
          new SalesforceConnector(),
          new SlackConnector(),
          new JiraConnector(),
          new KafkaConnector(),
          new JdbcConnector(),
          new GenesysWriteConnector());

  /** The enrichers, in the order messages list the types. */
  public static final List<EnricherDescriptor<?>> ENRICHERS =
      List.of(
          new GenesysConnector(), new SalesforceEnricherDescriptor(), new HttpEnricherDescriptor());

  @Override
  public List<ConnectorType<?>> destinationTypes() {
    return List.copyOf(ALL);
  }

  @Override
  public List<EnricherType<?>> enricherTypes() {
    return List.copyOf(ENRICHERS);
  }

  /**
   * Builds the connector of {@code config}'s type.
   *
   * @return the connector, or null when this build has none for the type
   * @throws IllegalArgumentException when a setting is unusable
   */
  public static Destination create(DestinationConfig config, ConnectorContext context) {
    for (ConnectorDescriptor<?> type : ALL) {
      if (type.name().equals(config.type())) {
        return type.create(config, context);
      }
    }
    return null;
  }

  /**
   * Builds the enricher of {@code config}'s type.
   *
   * @throws IllegalArgumentException for a type this build has no enricher for (the loader accepts
   *     only known types)
   */
  public static Enricher createEnricher(EnricherConfig config, ConnectorContext context) {
    for (EnricherDescriptor<?> type : ENRICHERS) {
      if (type.name().equals(config.type())) {
        return type.create(config, context);
      }
    }
    throw new IllegalArgumentException("no enricher of type " + config.type());
  }
}
