package dev.switchboard.destination.genesys;

import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.http.OAuthClientCredentials;
import dev.switchboard.destination.http.OAuthSessions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The OAuth client both {@code genesys-cloud} types use, the enricher and the destination: the same
 * keys, read by the same code, and one token per client from the gateway's {@link OAuthSessions},
 * so an enricher and a destination with the same client hold one token (docs/connectors.md,
 * "Genesys Cloud").
 *
 * @param loginUrl where tokens are asked for ({@code POST /oauth/token}), without a trailing slash
 * @param apiUrl the Platform API, without a trailing slash
 */
public record GenesysClient(URI loginUrl, URI apiUrl, String clientId, String clientSecret) {

  /** The keys that name the client, in the order messages list them. */
  static final List<String> KEYS =
      List.of("region", "client_id", "client_secret", "login_url", "api_url");

  /** Tokens are renewed this long before {@code expires_in} runs out. */
  static final Duration TOKEN_MARGIN = Duration.ofMinutes(1);

  /**
   * Reads {@code region} (or {@code login_url} and {@code api_url} together), {@code client_id} and
   * {@code client_secret}, reporting every problem on {@code node}.
   *
   * @return the client, or null when a problem was reported
   */
  static GenesysClient read(SettingsReader node) {
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
    return new GenesysClient(
        URI.create(
            ConnectorDescriptor.withoutTrailingSlash(
                login != null ? login : "https://login." + region)),
        URI.create(
            ConnectorDescriptor.withoutTrailingSlash(api != null ? api : "https://api." + region)),
        clientId,
        clientSecret);
  }

  /** The API's base URL as written, or null when the keys do not say. */
  static String apiUrl(SettingsReader node) {
    String api = node.string("api_url");
    String region = node.string("region");
    return api != null ? api : region != null ? "https://api." + region : null;
  }

  /**
   * This client's shared token: basic authentication with the id and secret, form {@code
   * grant_type=client_credentials}, renewed a minute before it ends.
   */
  OAuthClientCredentials session(OAuthSessions sessions) {
    return sessions.session(
        URI.create(loginUrl + "/oauth/token"),
        clientId,
        clientSecret,
        OAuthClientCredentials.ClientAuth.BASIC,
        TOKEN_MARGIN,
        Map.of());
  }

  /** Never the client secret: a record's default would print it. */
  @Override
  public String toString() {
    return "GenesysClient[" + loginUrl.getHost() + ", " + apiUrl.getHost() + "]";
  }
}
