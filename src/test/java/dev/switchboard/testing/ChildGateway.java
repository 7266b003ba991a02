package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The packaged gateway in a child JVM, for tests that kill it: started on a configuration whose
 * {@code ${PORT}} and {@code ${SECRET}} come from the environment, its output in {@code dir}.
 */
public final class ChildGateway {
  private ChildGateway() {}

  public static Process start(Path dir, Path config, int port, String secret, String logName)
      throws IOException {
    return start(dir, config, port, secret, logName, new String[0]);
  }

  /** As above, with extra JVM options (e.g. {@code -Dswitchboard.dispatch.heartbeat=500ms}). */
  public static Process start(
      Path dir, Path config, int port, String secret, String logName, String... jvmOptions)
      throws IOException {
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    assertThat(Path.of(jar)).as("the packaged jar (failsafe runs after package)").exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(command(java, jar, config, jvmOptions))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child-" + logName + ".log").toFile());
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("SECRET", secret);
    return pb.start();
  }

  private static java.util.List<String> command(
      String javaBin, String jar, Path config, String... jvmOptions) {
    java.util.List<String> command = new java.util.ArrayList<>();
    command.add(javaBin);
    command.add("-Xmx512m");
    command.addAll(java.util.List.of(jvmOptions));
    command.addAll(java.util.List.of("-jar", jar, "serve", "--config", config.toString()));
    return command;
  }

  /** Waits until the child answers {@code /readyz} with 200. */
  public static void awaitReady(HttpClient client, int port) {
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2))
            .build();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
  }

  /**
   * Posts {@code body} to {@code /hooks/{source}}, signed as hmac-sha256-hex in
   * X-Genesys-Signature.
   */
  public static HttpResponse<String> postSigned(
      HttpClient client, int port, String source, String secret, byte[] body)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/" + source))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .header("X-Genesys-Signature", Hmac.sha256Hex(secret, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
