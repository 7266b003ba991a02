package dev.switchboard.destination.genesys;

import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.EnricherDescriptor;
import dev.switchboard.destination.genesys.GenesysEnricher.Settings;
import java.util.List;

/**
 * The {@code genesys-cloud} enricher: reads from the Genesys Cloud Platform API. The destination of
 * the same type name is {@link GenesysWriteConnector}: enricher and destination types are named in
 * separate sections of the file, so the two never meet.
 */
public final class GenesysConnector implements EnricherDescriptor<Settings> {

  @Override
  public String name() {
    return "genesys-cloud";
  }

  @Override
  public List<String> keys() {
    return GenesysClient.KEYS;
  }

  @Override
  public Settings read(SettingsReader node) {
    GenesysClient client = GenesysClient.read(node);
    return client == null
        ? null
        : new Settings(
            client.loginUrl(), client.apiUrl(), client.clientId(), client.clientSecret());
  }

  @Override
  public String apiUrl(SettingsReader node) {
    return GenesysClient.apiUrl(node);
  }

  @Override
  public Enricher create(EnricherConfig config, ConnectorContext context) {
    return new GenesysEnricher(config, context.clock(), context.sessions());
  }
}
