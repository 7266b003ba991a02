package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.pull.PullStatus;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code switchboard emulate} on a {@code genesys-notifications} source serves a fake Genesys Cloud
 * where the source points, and a gateway running the same file pulls what it streams, through a
 * dropped socket and its backfill.
 */
@Timeout(90)
class EmulateGenesysIT {
  @TempDir Path dir;

  @Test
  void aGatewayPullsWhatTheEmulatorStreamsThroughADrop() throws Exception {
    int port = ChildGateway.freePort();
    String yaml =
        """
        sources:
          genesys:
            type: genesys-notifications
            login_url: http://127.0.0.1:%d
            api_url: http://127.0.0.1:%d
            client_id: emulated-client
            client_secret: emulated-secret
            queues: ["q-1", "q-2"]
            topics:
              - v2.routing.queues.{id}.conversations
        routes:
          to-crm: { from: genesys, to: crm }
        destinations:
          crm: { type: http, url: "%s" }
        """;
    try (FakeDestination receiver = new FakeDestination();
        GatewayFixture gateway =
            GatewayFixture.start(
                dir,
                "",
                "",
                yaml.formatted(port, port, receiver.uri("/in")),
                Map.of(),
                Clock.systemUTC())) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit =
          EmulateGenesys.run(
              gateway.gateway().config().sources().get("genesys"),
              10,
              0,
              Duration.ofSeconds(12),
              Duration.ofSeconds(6),
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      String printed = out.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
      assertThat(printed)
          .contains("a fake Genesys Cloud at http://127.0.0.1:" + port)
          .contains("2 queue(s)")
          .contains("drops 1");
      long published = publishedIn(printed);
      assertThat(published).isBetween(100L, 130L);
      // what no socket heard while the gateway reconnected came from the backfill
      PullStatus pull = gateway.gateway().pullStatus().get(0);
      assertThat(pull.reconnects()).isGreaterThanOrEqualTo(1);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> gateway.gateway().pullStatus().get(0).events() == published);
      await().atMost(Duration.ofSeconds(20)).until(() -> receiver.requests().size() == published);
    }
  }

  @Test
  void aSourceThatPullsFromGenesysItselfIsRefused() throws Exception {
    var source =
        dev.switchboard.config.ConfigLoader.load(
                writeConfig(
                    """
                    sources:
                      genesys:
                        type: genesys-notifications
                        region: mypurecloud.ie
                        client_id: c
                        client_secret: s
                        queues: ["q-1"]
                        topics:
                          - v2.routing.queues.{id}.conversations
                    routes:
                      r: { from: genesys, to: d }
                    destinations:
                      d: { type: http, url: "http://127.0.0.1:9/x" }
                    """),
                Map.of())
            .sources()
            .get("genesys");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        EmulateGenesys.run(
            source,
            1,
            1,
            Duration.ofSeconds(1),
            null,
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("pulls from api.mypurecloud.ie")
        .contains("login_url and api_url both http://127.0.0.1:<port>");
  }

  Path writeConfig(String yaml) throws Exception {
    Path file = dir.resolve("emulate.yaml");
    java.nio.file.Files.writeString(file, yaml);
    return file;
  }

  /** The figure of the last "published N" line. */
  static long publishedIn(String printed) {
    String last =
        printed.lines().filter(l -> l.startsWith("published ")).reduce((a, b) -> b).orElseThrow();
    return Long.parseLong(last.substring("published ".length(), last.indexOf(' ', 10)));
  }
}
