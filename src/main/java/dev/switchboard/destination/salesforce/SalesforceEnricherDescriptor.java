package dev.switchboard.destination.salesforce;

import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.EnricherDescriptor;
import dev.switchboard.destination.salesforce.SalesforceEnricher.Settings;
import java.util.List;

/**
 * The {@code salesforce} enricher: runs a route's SOQL {@code query:} with the same client keys,
 * and the same OAuth session, as a {@code salesforce} destination (docs/enrichment.md).
 */
public final class SalesforceEnricherDescriptor implements EnricherDescriptor<Settings> {

  @Override
  public String name() {
    return "salesforce";
  }

  @Override
  public List<String> keys() {
    return SalesforceClient.KEYS;
  }

  @Override
  public Settings read(SettingsReader node) {
    SalesforceClient client = SalesforceClient.read(node);
    return client == null ? null : new Settings(client);
  }

  /** None: queries go to the token's {@code instance_url}, known only once a token is fetched. */
  @Override
  public String apiUrl(SettingsReader node) {
    return null;
  }

  @Override
  public List<String> lookupKeys() {
    return List.of("query");
  }

  @Override
  public Enricher create(EnricherConfig config, ConnectorContext context) {
    return new SalesforceEnricher(config, context);
  }
}
