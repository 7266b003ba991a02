package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP to the packaged gateway in a child JVM re-reads its configuration file: a good file is
 * applied (a new route and destination work), a bad one is logged problem by problem and the
 * running configuration stays; the process keeps running throughout.
 */
class SighupReloadIT {
  static final String SECRET = "sighup-secret";
  static final String TOKEN = "sighup-admin-token";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void sighupAppliesAGoodFileAndLogsTheProblemsOfABadOne() throws Exception {
    try (FakeDestination crm = new FakeDestination();
        FakeDestination other = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      Path config = dir.resolve("switchboard.yaml");
      String base = base(crm.uri("/crm"));
      Files.writeString(config, base);
      int port = ChildGateway.freePort();
      Process child = ChildGateway.start(dir, config, port, SECRET, "hup");
      try {
        ChildGateway.awaitReady(client, port);
        assertThat(post(client, port, "h-1")).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);

        Files.writeString(
            config,
            base.replace("routes:\n", "routes:\n  to-other: { from: calls, to: other }\n")
                + "  other: { type: http, url: \"%s\" }\n".formatted(other.uri("/other")));
        hangUp(child);
        await("the new route is running")
            .atMost(Duration.ofSeconds(10))
            .until(() -> admin(client, port, "/api/v1/routes").contains("to-other"));
        assertThat(post(client, port, "h-2")).isEqualTo(202);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> other.requests().size() == 1 && crm.requests().size() == 2);

        Files.writeString(
            config,
            base.replace("routes:\n", "routes:\n  to-nowhere: { from: calls, to: nowhere }\n"));
        hangUp(child);
        Path log = dir.resolve("child-hup.log");
        await("the problems are logged")
            .atMost(Duration.ofSeconds(10))
            .until(() -> Files.readString(log).contains("routes.to-nowhere.to"));
        assertThat(child.isAlive()).isTrue();
        String routes = admin(client, port, "/api/v1/routes");
        assertThat(routes).contains("to-other").doesNotContain("to-nowhere");
        assertThat(post(client, port, "h-3")).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> other.requests().size() == 2);
        assertThat(Files.readString(log)).doesNotContain(SECRET).doesNotContain(TOKEN);
      } finally {
        child.destroy();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(child.exitValue()).isZero();
    }
  }

  static void hangUp(Process child) throws Exception {
    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(child.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  static int post(HttpClient client, int port, String id) throws Exception {
    byte[] body =
        ("{\"interactionId\":\"" + id + "\",\"disposition\":{\"code\":\"RESOLVED\"}}")
            .getBytes(StandardCharsets.UTF_8);
    return ChildGateway.postSigned(client, port, "calls", SECRET, body).statusCode();
  }

  static String admin(HttpClient client, int port, String path)
      throws IOException, InterruptedException {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .header("Authorization", "Bearer " + TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private String base(URI crm) {
    return """
        server: { host: 127.0.0.1, port: "${PORT}", shutdown_grace: 5s }
        store: { path: "%s" }
        admin: { token: "%s" }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
        destinations:
          crm: { type: http, url: "%s" }
        """
        .formatted(dir.resolve("sb.db"), TOKEN, crm);
  }
}
