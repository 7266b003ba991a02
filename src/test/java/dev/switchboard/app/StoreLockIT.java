package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.store.sql.StoreInUseException;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * Two {@code serve} processes on one SQLite file: the second (a slip in a deploy script, a restart
 * racing the old process) must not touch the store, where it would hand the first one's in-flight
 * deliveries out again. It refuses to start, naming the file and the holder's pid, and every
 * delivery reaches the destination once. Both are real child JVMs from the packaged jar.
 */
class StoreLockIT {
  static final String SECRET = "store-lock-secret";
  static final int EVENTS = 4;

  /** Long enough for the second JVM to start and give up while the four are still in flight. */
  static final Duration ANSWER_DELAY = Duration.ofSeconds(20);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void aSecondServeOnTheSameStoreRefusesToStartAndNoDeliveryIsSentTwice() throws Exception {
    try (FakeDestination fake = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      fake.answerByDefault(Answer.status(200).after(ANSWER_DELAY));
      Path config = writeConfig(fake.uri("/crm/dispositions"));
      int port = ChildGateway.freePort();
      Process first = ChildGateway.start(dir, config, port, SECRET, "first");
      Process second = null;
      try {
        ChildGateway.awaitReady(client, port);
        for (int i = 1; i <= EVENTS; i++) {
          byte[] body = ("{\"interactionId\":\"call-" + i + "\"}").getBytes(StandardCharsets.UTF_8);
          assertThat(
                  ChildGateway.postSigned(client, port, "dispositions", SECRET, body).statusCode())
              .isEqualTo(202);
        }
        await("four deliveries in flight at the destination (" + dir + ")")
            .atMost(Duration.ofSeconds(15))
            .until(() -> fake.requests().size() == EVENTS);
        assertThat(countByState()).containsEntry("in_flight", (long) EVENTS);

        second = ChildGateway.start(dir, config, port, SECRET, "second");
        assertThat(second.waitFor(60, TimeUnit.SECONDS))
            .as("the second serve gives up (" + dir + ")")
            .isTrue();
        assertThat(second.exitValue()).isNotZero();
        String refusal = Files.readString(dir.resolve("child-second.log"));
        assertThat(refusal)
            .contains("store " + dir.resolve("sb.db") + " is in use")
            .contains("pid " + first.pid())
            .contains(dir.resolve("sb.db.lock").toString());
        assertThat(countByState())
            .as("the second serve left the first one's deliveries alone")
            .containsEntry("in_flight", (long) EVENTS);

        await("the first serve delivers all four (" + dir + ")")
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> countByState().equals(Map.of("delivered", (long) EVENTS)));
      } finally {
        if (second != null) {
          second.destroyForcibly();
        }
        first.destroy(); // SIGTERM: graceful stop
        first.waitFor();
      }
      assertThat(first.exitValue()).isZero();
      assertThat(fake.requests()).hasSize(EVENTS);
      assertThat(fake.countByHeader("Idempotency-Key"))
          .hasSize(EVENTS)
          .allSatisfy(
              (k, n) -> {
                assertThat(n).as(k).isEqualTo(1L);
              });
    }
  }

  @Test
  void aSecondGatewayInTheSameJvmIsRefusedAndTheStoreIsFreeOnceTheFirstCloses() throws Exception {
    Path shared = Files.createDirectories(dir.resolve("shared"));
    String yaml = "sources:\n  calls:\n    verify: { scheme: none }\n";
    Clock clock = Clock.systemUTC();

    try (GatewayFixture running = GatewayFixture.start(shared, "", "", yaml, Map.of(), clock)) {
      assertThatThrownBy(() -> GatewayFixture.start(shared, "", "", yaml, Map.of(), clock))
          .isInstanceOf(StoreInUseException.class)
          .hasMessageContaining("store " + shared.resolve("switchboard.db") + " is in use")
          .hasMessageContaining("pid " + ProcessHandle.current().pid());
      assertThat(running.post("calls", GatewayFixture.utf8("{}"), Map.of()).statusCode())
          .isEqualTo(202);
    }
    try (GatewayFixture next = GatewayFixture.start(shared, "", "", yaml, Map.of(), clock)) {
      assertThat(next.gateway().store().countEvents()).isEqualTo(1);
    }
  }

  private Connection readOnly() throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(5_000);
    return config.createConnection("jdbc:sqlite:" + dir.resolve("sb.db"));
  }

  private Map<String, Long> countByState() throws SQLException {
    Map<String, Long> counts = new TreeMap<>();
    try (Connection c = readOnly();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT state, COUNT(*) FROM deliveries GROUP BY state")) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getLong(2));
      }
    }
    return counts;
  }

  private Path writeConfig(URI destination) throws IOException {
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(
        config,
        """
        server: { host: 127.0.0.1, port: "${PORT}" }
        store: { path: "%s" }
        sources:
          dispositions:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: dispositions, to: crm }
        destinations:
          crm:
            type: http
            url: "%s"
            timeout: 60s
        """
            .formatted(dir.resolve("sb.db"), destination));
    return config;
  }
}
