package dev.switchboard.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.PulledSourceConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/guarantees.md ("Secrets and stopping") for a pulled source: the packaged gateway in a child
 * JVM at DEBUG level pulls from the fake Genesys Cloud through a throttled call, a revoked token, a
 * dropped socket and its backfill, with event payloads carrying a marker; then everything it
 * printed is scanned for the client secret, every token the fake issued, and the marker.
 */
@Timeout(120)
class PulledSourceLogHygieneIT {
  static final String SECRET = "pull-client-5ecret-3c9d";
  static final String MARKER = "PULL-PAYLOAD-MARKER-51b0";
  static final String QUEUE = "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f";
  static final String ADMIN = "adm1n-pull-T0KEN-77e2";

  @TempDir Path dir;

  @Test
  void noSecretTokenOrPayloadReachesTheLog() throws Exception {
    int port = ChildGateway.freePort();
    try (FakeGenesysCloud genesys = FakeGenesysCloud.start("hygiene-client", SECRET);
        FakeDestination receiver = new FakeDestination();
        HttpClient client = HttpClient.newHttpClient()) {
      Path config = dir.resolve("switchboard.yaml");
      Files.writeString(
          config,
          """
          server:
            host: 127.0.0.1
            port: ${PORT}
          store: { path: %s }
          admin: { token: %s }
          """
                  .formatted(dir.resolve("switchboard.db"), ADMIN)
              + PulledSourceConfig.yaml(
                  genesys.baseUrl(), "hygiene-client", "${SECRET}", QUEUE, receiver.uri("/in")));
      genesys.throttleNext(1, 1);
      Process child =
          ChildGateway.start(dir, config, port, SECRET, "hygiene", "-DSWITCHBOARD_LOG_LEVEL=DEBUG");
      try {
        ChildGateway.awaitReady(client, port);
        await()
            .atMost(Duration.ofSeconds(20))
            .ignoreExceptions()
            .until(() -> "connected".equals(pull(client, port).path("state").asText()));
        for (int i = 0; i < 3; i++) {
          Instant now = Instant.now();
          genesys.conversation(QUEUE, now.minusSeconds(60), now, MARKER + "-" + i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.requests().size() == 3);

        genesys.revokeTokens(); // the replacement's first call meets a 401
        genesys.refuseConnections(true);
        genesys.dropSockets();
        Instant now = Instant.now();
        genesys.conversation(QUEUE, now.minusSeconds(30), now, MARKER + "-gap");
        genesys.refuseConnections(false);
        await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 4);
        assertThat(receiver.requests().get(3).bodyText())
            .as("the payload went on")
            .contains(MARKER);
      } finally {
        child.destroy(); // SIGTERM: the gateway's own stop
        child.waitFor(30, TimeUnit.SECONDS);
      }
      String logged = Files.readString(dir.resolve("child-hygiene.log"));
      // the scan means something: the JSON log at DEBUG, of this run, with the pull's lines in it
      assertThat(logged)
          .contains("\"level\":\"DEBUG\"", "genesys-notifications source genesys", "gap")
          .contains("switchboard stopped");
      assertThat(genesys.issuedTokens()).hasSizeGreaterThanOrEqualTo(2);
      assertThat(logged).doesNotContain(SECRET, MARKER, ADMIN);
      for (String token : genesys.issuedTokens()) {
        assertThat(logged).as("a token").doesNotContain(token);
      }
    }
  }

  static JsonNode pull(HttpClient client, int port) throws Exception {
    HttpResponse<String> sources =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/sources"))
                .header("Authorization", "Bearer " + ADMIN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return new ObjectMapper().readTree(sources.body()).path("items").get(0).path("pull");
  }
}
