package dev.switchboard.destination.http;

import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.http.OAuthClientCredentials.ClientAuth;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How an {@code http} destination or enricher authenticates its calls ({@code auth:}, one of three
 * types; docs/connectors.md). Read once by {@link #read}, for the destination and the enricher
 * alike, and used by {@link HttpAuthenticator}.
 *
 * <p>Compared by value, so a reload that leaves {@code auth:} alone keeps the running connector. No
 * {@code toString} shows a token, a password or a client secret.
 */
public sealed interface HttpAuth {
  List<String> TYPES = List.of("oauth2-client-credentials", "bearer", "basic");
  List<String> CLIENT_CREDENTIALS_KEYS =
      List.of(
          "type",
          "token_url",
          "client_id",
          "client_secret",
          "scope",
          "audience",
          "form",
          "client_auth");
  List<String> BEARER_KEYS = List.of("type", "token");
  List<String> BASIC_KEYS = List.of("type", "username", "password");

  /** {@code Authorization: Bearer <token>}, a token that never changes. */
  record Bearer(String token) implements HttpAuth {
    @Override
    public String toString() {
      return "Bearer[token=***]";
    }
  }

  /** {@code Authorization: Basic base64(username:password)} (RFC 7617). */
  record Basic(String username, String password) implements HttpAuth {
    /** The header value, computed from the pair. */
    String header() {
      String pair = username + ":" + password;
      return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return "Basic[username=" + username + ", password=***]";
    }
  }

  /**
   * An OAuth 2.0 client-credentials token (RFC 6749 §4.4), shared per client and renewed before it
   * ends.
   *
   * @param form the token request's extra fields after the client's credentials: {@code scope},
   *     {@code audience}, then {@code form:} in file order
   */
  record ClientCredentials(
      URI tokenUrl,
      String clientId,
      String clientSecret,
      ClientAuth clientAuth,
      Map<String, String> form)
      implements HttpAuth {
    public ClientCredentials {
      form = Collections.unmodifiableMap(new LinkedHashMap<>(form));
    }

    @Override
    public String toString() {
      return "ClientCredentials["
          + tokenUrl.getScheme()
          + "://"
          + tokenUrl.getHost()
          + (tokenUrl.getPort() < 0 ? "" : ":" + tokenUrl.getPort())
          + tokenUrl.getRawPath()
          + ", client_id="
          + clientId
          + ", "
          + clientAuth
          + "]";
    }
  }

  /**
   * The {@code auth:} of a destination or enricher whose configured headers are {@code headers}.
   *
   * @param auth the settings, or null without {@code auth:}
   * @param usable false when a problem was reported (then the file is refused)
   */
  record Read(HttpAuth auth, boolean usable) {
    static Read of(SettingsReader node, java.util.Map<String, String> headers) {
      SettingsReader authNode = node.mapping("auth");
      if (!authNode.present()) {
        return new Read(null, true);
      }
      HttpAuth auth = read(authNode);
      boolean usable = auth != null;
      if (headers.keySet().stream().anyMatch(h -> h.equalsIgnoreCase("authorization"))) {
        node.problem(
            "auth",
            "give auth: or an Authorization header, not both: auth sets the Authorization header");
        usable = false;
      }
      return new Read(auth, usable);
    }
  }

  /**
   * Reads an {@code auth:} mapping, reporting each problem at its key.
   *
   * @param auth the mapping, which is present
   * @return the settings, or null when a problem was reported
   */
  static HttpAuth read(SettingsReader auth) {
    String type = auth.oneOf("type", "auth type", TYPES, null);
    if (!auth.has("type")) {
      auth.problem("type", "type is required: one of " + String.join(", ", TYPES));
    }
    if (type == null) {
      return null;
    }
    return switch (type) {
      case "bearer" -> {
        auth.checkKeys(BEARER_KEYS);
        String token = auth.required("token");
        yield token == null ? null : new Bearer(token);
      }
      case "basic" -> {
        auth.checkKeys(BASIC_KEYS);
        String username = auth.required("username");
        String password = auth.required("password");
        if (username != null && username.contains(":")) {
          auth.problem("username", "a basic auth username cannot hold a colon (RFC 7617)");
          yield null;
        }
        yield username == null || password == null ? null : new Basic(username, password);
      }
      default -> clientCredentials(auth);
    };
  }

  private static ClientCredentials clientCredentials(SettingsReader auth) {
    auth.checkKeys(CLIENT_CREDENTIALS_KEYS);
    String tokenUrl = auth.httpUrl("token_url", true);
    String clientId = auth.required("client_id");
    String clientSecret = auth.required("client_secret");
    String clientAuth =
        auth.oneOf("client_auth", "client authentication", List.of("form", "basic"), "form");
    Map<String, String> form = new LinkedHashMap<>();
    for (String key : List.of("scope", "audience")) {
      String value = auth.string(key);
      if (value != null) {
        form.put(key, value);
      }
    }
    Map<String, String> extra = auth.stringMap("form");
    boolean usable = true;
    for (String key : extra.keySet()) {
      if (List.of("grant_type", "client_id", "client_secret", "scope", "audience").contains(key)) {
        auth.problem(
            "form",
            "form." + key + " is set by the token request itself (or its own key under auth)");
        usable = false;
      }
    }
    form.putAll(extra);
    if (!usable || tokenUrl == null || clientId == null || clientSecret == null) {
      return null;
    }
    return new ClientCredentials(
        URI.create(tokenUrl.trim()),
        clientId,
        clientSecret,
        clientAuth.equals("basic") ? ClientAuth.BASIC : ClientAuth.FORM,
        form);
  }
}
