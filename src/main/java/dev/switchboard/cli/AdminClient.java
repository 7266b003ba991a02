package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

/**
 * The operator commands' way to a running gateway: its admin API over the JDK's HTTP client. Every
 * failure becomes a {@link Failure} with a message an operator can act on and an exit code; the
 * token never appears in either.
 */
final class AdminClient implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  /** The gateway answered with an error (exit 1). */
  static final int EXIT_REFUSED = 1;

  /** The gateway could not be reached (exit 3). */
  static final int EXIT_UNREACHABLE = 3;

  /** No token, or the gateway refused it (exit 4). */
  static final int EXIT_UNAUTHORIZED = 4;

  /** Why a command could not do its work, and the exit code that says so. */
  static final class Failure extends Exception {
    final int exitCode;

    Failure(int exitCode, String message) {
      super(message, null, false, false);
      this.exitCode = exitCode;
    }
  }

  private final URI base;
  private final String token;
  private final String actor;
  private final HttpClient http;

  /** {@code ssl} null: the JDK's default trust (the system's CAs). */
  AdminClient(URI base, String token, String actor, SSLContext ssl) {
    this.base = base;
    this.token = token;
    this.actor = actor;
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    if (ssl != null) {
      builder.sslContext(ssl);
    }
    this.http = builder.build();
  }

  /** GET; {@code query} values that are null are left out. */
  JsonNode get(String path, Map<String, String> query) throws Failure {
    StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
    query.forEach(
        (k, v) -> {
          if (v != null) {
            q.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
          }
        });
    return send(request(path + q).GET().build());
  }

  /** POST with a JSON body (or none); null when the gateway answers 204. */
  JsonNode post(String path, JsonNode body) throws Failure {
    HttpRequest.Builder r = request(path);
    if (body == null) {
      r.POST(HttpRequest.BodyPublishers.noBody());
    } else {
      r.header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    }
    return send(r.build());
  }

  private HttpRequest.Builder request(String pathAndQuery) throws Failure {
    if (token == null || token.isBlank()) {
      throw new Failure(
          EXIT_UNAUTHORIZED, "no admin token: pass --token or set SWITCHBOARD_ADMIN_TOKEN");
    }
    String root = base.toString().replaceAll("/+$", "");
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(root + pathAndQuery))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Accept", "application/json");
    if (actor != null) {
      r.header("X-Switchboard-Actor", actor);
    }
    return r;
  }

  private JsonNode send(HttpRequest request) throws Failure {
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw unreachable("connection refused");
    } catch (HttpTimeoutException e) {
      throw unreachable("no answer in time");
    } catch (SSLHandshakeException e) {
      throw unreachable(
          "TLS handshake failed: "
              + e.getMessage()
              + " (if its certificate is from a private CA or self-signed, pass --ca-cert FILE)");
    } catch (IOException e) {
      throw unreachable(e.getClass().getSimpleName() + httpsHint(base));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure(EXIT_UNREACHABLE, "interrupted");
    }
    int status = response.statusCode();
    if (status == 204) {
      return null;
    }
    JsonNode body = parse(response.body());
    if (status / 100 == 2 && body != null) {
      return body;
    }
    String type = body == null ? "" : body.path("type").asText("");
    if (status == 401) {
      throw new Failure(
          EXIT_UNAUTHORIZED,
          "the gateway refused the admin token (401): check --token or SWITCHBOARD_ADMIN_TOKEN");
    }
    if (type.endsWith("/admin_disabled")) {
      throw new Failure(
          EXIT_REFUSED,
          "the admin API is off on this gateway: set admin.token in its configuration");
    }
    if (type.startsWith("https://switchboard.dev/problems/")) {
      throw new Failure(
          EXIT_REFUSED,
          body.path("title").asText()
              + ": "
              + body.path("detail").asText()
              + " ("
              + status
              + " "
              + type.substring(type.lastIndexOf('/') + 1)
              + ")"
              + problemLines(body));
    }
    throw new Failure(
        EXIT_REFUSED,
        "unexpected answer " + status + " from " + base + " (is it a Switchboard gateway?)");
  }

  /** A plain-HTTP URL that gets no HTTP answer may point at a gateway that serves HTTPS. */
  static String httpsHint(URI url) {
    return "http".equalsIgnoreCase(url.getScheme())
        ? " (if the gateway serves HTTPS, use an https:// URL)"
        : "";
  }

  /** A bad configuration's problems, one per line (locations and messages, never values). */
  private static String problemLines(JsonNode body) {
    StringBuilder lines = new StringBuilder();
    for (JsonNode p : body.path("problems")) {
      lines.append(System.lineSeparator()).append("  ").append(p.path("file").asText());
      if (p.path("line").asInt() > 0) {
        lines.append(':').append(p.path("line").asInt());
      }
      lines.append(": ");
      if (!p.path("path").asText().isEmpty()) {
        lines.append(p.path("path").asText()).append(": ");
      }
      lines.append(p.path("message").asText());
    }
    return lines.toString();
  }

  private Failure unreachable(String why) {
    return new Failure(
        EXIT_UNREACHABLE,
        "cannot reach the gateway at "
            + base
            + ": "
            + why
            + " (is `switchboard serve` running there? set --url or SWITCHBOARD_URL)");
  }

  private static JsonNode parse(String text) {
    try {
      return text == null || text.isBlank() ? null : JSON.readTree(text);
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
