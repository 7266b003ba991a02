package dev.switchboard.testing;

import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.dispatch.DispatcherSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * A real gateway on 127.0.0.1 and a random port, on a real SQLite file in a temp folder (or a
 * PostgreSQL database, {@link #startOnPostgres}), driven over real HTTP.
 */
public final class GatewayFixture implements AutoCloseable {
  /** The contract examples shipped in the repository's {@code examples/}. */
  public static final Path EXAMPLES = Path.of("examples").toAbsolutePath().normalize();

  /** Genesys Cloud's sample payloads (webhooks, API answers), kept with the test resources. */
  public static final Path GENESYS_SAMPLES =
      Path.of("src/test/resources/samples/genesys").toAbsolutePath().normalize();

  /** The dispatcher polls and sweeps often, so tests that move the clock see the effect soon. */
  public static final DispatcherSettings FAST =
      new DispatcherSettings(
          Duration.ofMillis(25), Duration.ofMillis(500), Duration.ofMillis(500), 20_000, 2_000);

  private final Gateway gateway;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private GatewayFixture(Gateway gateway) {
    this.gateway = gateway;
  }

  /**
   * Writes {@code yaml} (without server/store sections, which this adds) to {@code dir} and starts
   * a gateway on it.
   */
  public static GatewayFixture start(
      Path dir, String yaml, Map<String, String> env, MutableClock clock) throws Exception {
    return start(dir, "", yaml, env, clock);
  }

  /** As above, with extra indented lines for the {@code server:} section. */
  public static GatewayFixture start(
      Path dir, String serverLines, String yaml, Map<String, String> env, MutableClock clock)
      throws Exception {
    return start(dir, serverLines, "", yaml, env, clock);
  }

  /**
   * As {@link #start(Path, String, Map, MutableClock)}, on PostgreSQL at {@code jdbcUrl} instead of
   * SQLite; the password comes from {@code ${STORE_PASSWORD}} as an operator would pass it.
   */
  public static GatewayFixture startOnPostgres(
      Path dir,
      String jdbcUrl,
      String user,
      String password,
      String yaml,
      Map<String, String> env,
      Clock clock)
      throws Exception {
    Map<String, String> withPassword = new java.util.HashMap<>(env);
    withPassword.put("STORE_PASSWORD", password);
    String storeLines =
        "  type: postgres\n  url: "
            + jdbcUrl
            + "\n  user: "
            + user
            + "\n  password: ${STORE_PASSWORD}\n  pool_size: 4\n";
    return start(dir, "", storeLines, yaml, withPassword, clock, FAST);
  }

  /** As above, with the dispatcher's timing given (a cluster test may want a slow sweep). */
  public static GatewayFixture startOnPostgres(
      Path dir,
      String jdbcUrl,
      String user,
      String password,
      String yaml,
      Map<String, String> env,
      Clock clock,
      DispatcherSettings settings)
      throws Exception {
    Map<String, String> withPassword = new java.util.HashMap<>(env);
    withPassword.put("STORE_PASSWORD", password);
    String storeLines =
        "  type: postgres\n  url: "
            + jdbcUrl
            + "\n  user: "
            + user
            + "\n  password: ${STORE_PASSWORD}\n  pool_size: 4\n";
    return start(dir, "", storeLines, yaml, withPassword, clock, settings);
  }

  /** As above, with extra indented lines for the {@code store:} section too, and any clock. */
  public static GatewayFixture start(
      Path dir,
      String serverLines,
      String storeLines,
      String yaml,
      Map<String, String> env,
      Clock clock)
      throws Exception {
    return start(dir, serverLines, storeLines, yaml, env, clock, FAST);
  }

  private static GatewayFixture start(
      Path dir,
      String serverLines,
      String storeLines,
      String yaml,
      Map<String, String> env,
      Clock clock,
      DispatcherSettings settings)
      throws Exception {
    Path file = dir.resolve("switchboard.yaml");
    String full =
        "server:\n  host: 127.0.0.1\n  port: 0\n"
            + serverLines
            + "store:\n  path: "
            + dir.resolve("switchboard.db")
            + "\n"
            + storeLines
            + yaml;
    Files.writeString(file, full);
    SwitchboardConfig config = ConfigLoader.load(file, env);
    return new GatewayFixture(Gateway.start(config, clock, settings));
  }

  public Gateway gateway() {
    return gateway;
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + gateway.port() + path);
  }

  public HttpResponse<String> post(String source, byte[] body, Map<String, String> headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/hooks/" + source))
            .timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    boolean hasType = headers.keySet().stream().anyMatch(k -> k.equalsIgnoreCase("content-type"));
    if (!hasType) {
      request.header("Content-Type", "application/json");
    }
    headers.forEach(request::header);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    gateway.close();
    client.close();
  }
}
