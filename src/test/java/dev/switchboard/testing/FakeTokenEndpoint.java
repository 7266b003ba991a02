package dev.switchboard.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OAuth 2.0 client-credentials token endpoint on 127.0.0.1, speaking one of two real dialects:
 *
 * <ul>
 *   <li>{@link #entraId} — Microsoft Entra ID v2, {@code POST /<tenant>/oauth2/v2.0/token}: form
 *       {@code grant_type, client_id, client_secret, scope} (the secret may come as HTTP basic
 *       instead); answers {@code {token_type:"Bearer", expires_in, ext_expires_in, access_token}};
 *       errors {@code 400/401 {error, error_description: "AADSTS…", error_codes:[…], timestamp,
 *       trace_id, correlation_id, error_uri}} (learn.microsoft.com, "Microsoft identity platform
 *       and the OAuth 2.0 client credentials flow").
 *   <li>{@link #genesys} — Genesys Cloud's login, {@code POST /oauth/token}: HTTP basic with the
 *       client id and secret, form {@code grant_type=client_credentials}; answers {@code
 *       {access_token, token_type:"bearer", expires_in}}; a wrong client is {@code 400
 *       {error:"invalid_client", description, error_description}} (docs/connectors.md).
 * </ul>
 *
 * Every request is recorded; tokens are {@code tok-<n>}, so tests can tell them apart.
 */
public final class FakeTokenEndpoint implements AutoCloseable {

  /** One token request as received: the form decoded, the Authorization header as sent. */
  public record TokenRequest(String path, Map<String, String> form, String authorization) {}

  private enum Dialect {
    ENTRA_ID,
    GENESYS
  }

  private final Dialect dialect;
  private final String path;
  private final String clientId;
  private final String clientSecret;
  private final String scope;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final List<TokenRequest> requests = new CopyOnWriteArrayList<>();
  private final List<String> issued = new CopyOnWriteArrayList<>();
  private final AtomicInteger counter = new AtomicInteger();
  private volatile long expiresInSeconds;

  private FakeTokenEndpoint(
      Dialect dialect, String path, String clientId, String clientSecret, String scope) {
    this.dialect = dialect;
    this.path = path;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.scope = scope;
    this.expiresInSeconds = dialect == Dialect.ENTRA_ID ? 3599 : 86399;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the fake token endpoint", e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Entra ID v2 for one tenant and one app registration; {@code scope} must be asked for. */
  public static FakeTokenEndpoint entraId(
      String tenant, String clientId, String clientSecret, String scope) {
    return new FakeTokenEndpoint(
        Dialect.ENTRA_ID, "/" + tenant + "/oauth2/v2.0/token", clientId, clientSecret, scope);
  }

  /** Genesys Cloud's login for one OAuth client. */
  public static FakeTokenEndpoint genesys(String clientId, String clientSecret) {
    return new FakeTokenEndpoint(Dialect.GENESYS, "/oauth/token", clientId, clientSecret, null);
  }

  /** The token URL to configure. */
  public URI tokenUrl() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  /** What later tokens say in {@code expires_in}. */
  public FakeTokenEndpoint expiresIn(long seconds) {
    this.expiresInSeconds = seconds;
    return this;
  }

  public List<TokenRequest> requests() {
    return List.copyOf(requests);
  }

  /** The tokens issued so far, oldest first. */
  public List<String> issued() {
    return List.copyOf(issued);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange x) throws IOException {
    try (x;
        InputStream in = x.getRequestBody()) {
      Map<String, String> form = form(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      String authorization = x.getRequestHeaders().getFirst("Authorization");
      requests.add(new TokenRequest(x.getRequestURI().getPath(), form, authorization));
      if (!x.getRequestMethod().equals("POST") || !x.getRequestURI().getPath().equals(path)) {
        answer(x, 404, "{\"error\":\"not_found\"}");
        return;
      }
      if (!"client_credentials".equals(form.get("grant_type"))) {
        answer(x, 400, error("unsupported_grant_type", "AADSTS70003", 70003));
        return;
      }
      String[] basic = basic(authorization);
      String id = basic != null ? basic[0] : form.get("client_id");
      String secret = basic != null ? basic[1] : form.get("client_secret");
      if (dialect == Dialect.GENESYS && basic == null) {
        answer(x, 400, error("invalid_client", "client authentication required", 0));
        return;
      }
      if (!clientId.equals(id)) {
        answer(x, 400, error("unauthorized_client", "AADSTS700016", 700016));
        return;
      }
      if (!clientSecret.equals(secret)) {
        answer(x, 401, error("invalid_client", "AADSTS7000215", 7000215));
        return;
      }
      if (dialect == Dialect.ENTRA_ID && !scope.equals(form.get("scope"))) {
        answer(x, 400, error("invalid_scope", "AADSTS1002012", 1002012));
        return;
      }
      String token = "tok-" + counter.incrementAndGet();
      issued.add(token);
      answer(
          x,
          200,
          dialect == Dialect.ENTRA_ID
              ? "{\"token_type\":\"Bearer\",\"expires_in\":%d,\"ext_expires_in\":%d,\"access_token\":\"%s\"}"
                  .formatted(expiresInSeconds, expiresInSeconds, token)
              : "{\"access_token\":\"%s\",\"token_type\":\"bearer\",\"expires_in\":%d}"
                  .formatted(token, expiresInSeconds));
    }
  }

  private String error(String error, String code, int number) {
    if (dialect == Dialect.GENESYS) {
      return "{\"error\":\"%s\",\"description\":\"%s\",\"error_description\":\"%s\"}"
          .formatted(error, code, code);
    }
    String description =
        switch (number) {
          case 7000215 ->
              "Invalid client secret provided. Ensure the secret being sent in the request is the"
                  + " client secret value, not the client secret ID";
          case 700016 -> "Application with identifier was not found in the directory";
          case 1002012 -> "The provided value for scope is not valid";
          default -> "The provided request is not valid";
        };
    return ("{\"error\":\"%s\",\"error_description\":\"%s: %s. Trace ID: 0000 Correlation ID: 0000"
            + " Timestamp: 2026-12-07 10:00:00Z\",\"error_codes\":[%d],\"timestamp\":\"2026-12-07"
            + " 10:00:00Z\",\"trace_id\":\"0000\",\"correlation_id\":\"0000\",\"error_uri\":"
            + "\"https://login.microsoftonline.com/error?code=%d\"}")
        .formatted(error, code, description, number, number);
  }

  private static String[] basic(String authorization) {
    if (authorization == null || !authorization.startsWith("Basic ")) {
      return null;
    }
    String pair =
        new String(Base64.getDecoder().decode(authorization.substring(6)), StandardCharsets.UTF_8);
    int colon = pair.indexOf(':');
    return colon < 0 ? null : new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
  }

  private static Map<String, String> form(String body) {
    Map<String, String> form = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String key = equals < 0 ? pair : pair.substring(0, equals);
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      form.put(
          URLDecoder.decode(key, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return form;
  }

  private static void answer(HttpExchange x, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    x.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }
}
