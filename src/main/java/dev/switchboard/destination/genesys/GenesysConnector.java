package dev.switchboard.destination.genesys;

import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.EnricherDescriptor;
import dev.switchboard.destination.genesys.GenesysEnricher.Settings;
import java.net.URI;
import java.util.List;

/** The {@code genesys-cloud} enricher: reads from the Genesys Cloud Platform API. */
public final class GenesysConnector implements EnricherDescriptor<Settings> {

  @Override
  public String name() {
    return "genesys-cloud";
  }

  @Override
  public List<String> keys() {
    return List.of("region", "client_id", "client_secret", "login_url", "api_url");
  }

  @Override
  public Settings read(SettingsReader node) {
    String clientId = node.required("client_id");
    String clientSecret = node.required("client_secret");
    String login = node.httpUrl("login_url", false);
    String api = node.httpUrl("api_url", false);
    boolean overridden = node.has("login_url") && node.has("api_url");
    boolean usable = true;
    if (!node.has("region") && !overridden) {
      node.problem(
          "region", "region is required (e.g. mypurecloud.com), or both login_url and api_url");
      usable = false;
    } else if (node.has("login_url") != node.has("api_url")) {
      node.problem(
          node.has("login_url") ? "api_url" : "login_url", "give login_url and api_url together");
      usable = false;
    }
    String region = node.string("region");
    if (login == null && node.has("login_url") || api == null && node.has("api_url")) {
      usable = false;
    }
    if (!usable || clientId == null || clientSecret == null || (!overridden && region == null)) {
      return null;
    }
    return new Settings(
        URI.create(strip(login != null ? login : "https://login." + region)),
        URI.create(strip(api != null ? api : "https://api." + region)),
        clientId,
        clientSecret);
  }

  @Override
  public String apiUrl(SettingsReader node) {
    String api = node.string("api_url");
    String region = node.string("region");
    return api != null ? api : region != null ? "https://api." + region : null;
  }

  @Override
  public Enricher create(EnricherConfig config, ConnectorContext context) {
    return new GenesysEnricher(config, context.clock());
  }

  private static String strip(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
