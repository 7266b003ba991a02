package dev.switchboard.destination.salesforce;

import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.http.OAuthClientCredentials;
import dev.switchboard.destination.http.OAuthSessions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which org, as which client: the keys a {@code salesforce} destination and a {@code salesforce}
 * enricher share, read by one method, and the one OAuth session they share. A destination and an
 * enricher configured with the same client ask Salesforce for one token, not two: Salesforce sends
 * no {@code expires_in}, and every extra session is one more the org's session policy must allow.
 *
 * @param loginUrl the org's My Domain URL, without a trailing slash; the token is asked of {@code
 *     /services/oauth2/token} there ({@code login.salesforce.com} refuses this grant)
 * @param apiVersion such as {@code 62.0}
 */
public record SalesforceClient(
    URI loginUrl, String clientId, String clientSecret, String apiVersion) {

  /** The keys, in the order messages list them. */
  static final List<String> KEYS =
      List.of("login_url", "client_id", "client_secret", "api_version");

  static final String DEFAULT_API_VERSION = "62.0";

  /** A token is renewed this long before the end Salesforce never states (it sends none). */
  static final Duration TOKEN_MARGIN = Duration.ofMinutes(1);

  private static final Pattern API_VERSION = Pattern.compile("\\d+\\.\\d+");

  /**
   * Reads the client's keys, reporting every problem on {@code node}.
   *
   * @return the client, or null when a problem was reported
   */
  static SalesforceClient read(SettingsReader node) {
    String login = node.httpUrl("login_url", true);
    String clientId = node.required("client_id");
    String clientSecret = node.required("client_secret");
    String version = node.string("api_version", DEFAULT_API_VERSION);
    boolean versionUsable = version != null && API_VERSION.matcher(version).matches();
    if (version != null && !versionUsable) {
      node.problem("api_version", "bad api_version: expected a version such as \"62.0\"");
    }
    if (login == null || clientId == null || clientSecret == null || !versionUsable) {
      return null;
    }
    return new SalesforceClient(
        URI.create(ConnectorDescriptor.withoutTrailingSlash(login.trim())),
        clientId,
        clientSecret,
        version);
  }

  /** This client's token, shared with every connector of the gateway that uses the same client. */
  OAuthClientCredentials session(OAuthSessions sessions) {
    return sessions.session(
        URI.create(loginUrl + "/services/oauth2/token"),
        clientId,
        clientSecret,
        OAuthClientCredentials.ClientAuth.FORM,
        TOKEN_MARGIN,
        Map.of());
  }

  /** {@code /services/data/v62.0}. */
  String dataPath() {
    return "/services/data/v" + apiVersion;
  }

  /** Never the client secret: a record's default would print it. */
  @Override
  public String toString() {
    return "SalesforceClient[" + loginUrl.getHost() + ", v" + apiVersion + "]";
  }
}
