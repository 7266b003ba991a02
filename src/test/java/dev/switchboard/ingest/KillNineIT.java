package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable before ack, proven the hard way: a child JVM serves, clients send signed events and
 * record every 2xx, the child is killed with SIGKILL mid-stream, then restarted on the same file.
 * Every acknowledged event must be there exactly once.
 */
class KillNineIT {
  static final String SECRET = "kill-nine-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final int SENDERS = 16;
  static final int KILL_AFTER_ACKS = 1_500;
  static final int MAX_EVENTS = 6_000;

  @TempDir Path dir;

  @Test
  void everyAcknowledgedEventSurvivesKillDashNineExactlyOnce() throws Exception {
    Path config = writeConfig();
    int port = ChildGateway.freePort();
    Process child = ChildGateway.start(dir, config, port, SECRET, "" + System.nanoTime());
    Map<String, String> acked = new ConcurrentHashMap<>(); // idempotency key -> event id
    AtomicInteger next = new AtomicInteger();
    try (HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      ChildGateway.awaitReady(client, port);
      try (ExecutorService senders = Executors.newFixedThreadPool(SENDERS)) {
        for (int s = 0; s < SENDERS; s++) {
          senders.submit(() -> sendUntilFailure(client, port, next, acked));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= KILL_AFTER_ACKS);
        child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no flush
        child.waitFor();
      }
      assertThat(acked).hasSizeGreaterThanOrEqualTo(KILL_AFTER_ACKS);

      Process restarted = ChildGateway.start(dir, config, port, SECRET, "" + System.nanoTime());
      try {
        ChildGateway.awaitReady(client, port);
        // a sender retrying an acknowledged event is told it is a duplicate of the same event
        List<String> sample = acked.keySet().stream().limit(20).toList();
        for (String key : sample) {
          HttpResponse<String> r =
              ChildGateway.postSigned(client, port, "dispositions", SECRET, bodyFor(key));
          assertThat(r.statusCode()).isEqualTo(200);
          assertThat(JSON.readTree(r.body()).path("eventId").asText()).isEqualTo(acked.get(key));
        }
      } finally {
        restarted.destroy();
        restarted.waitFor();
      }
    }

    Map<String, Integer> rowsPerKey = new HashMap<>();
    Map<String, String> idPerKey = new HashMap<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("sb.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT idempotency_key, id FROM events")) {
      while (rs.next()) {
        rowsPerKey.merge(rs.getString(1), 1, Integer::sum);
        idPerKey.put(rs.getString(1), rs.getString(2));
      }
    }
    for (Map.Entry<String, String> ack : acked.entrySet()) {
      assertThat(rowsPerKey.get(ack.getKey())).as("rows for " + ack.getKey()).isEqualTo(1);
      assertThat(idPerKey.get(ack.getKey())).isEqualTo(ack.getValue());
    }
    assertThat(rowsPerKey.values()).allMatch(n -> n == 1);
  }

  private void sendUntilFailure(
      HttpClient client, int port, AtomicInteger next, Map<String, String> acked) {
    while (true) {
      int n = next.getAndIncrement();
      if (n >= MAX_EVENTS) {
        return;
      }
      String key = "kill-" + n + "|2026-10-27T14:30:00Z";
      try {
        HttpResponse<String> r =
            ChildGateway.postSigned(client, port, "dispositions", SECRET, bodyFor(key));
        if (r.statusCode() == 202) {
          acked.put(key, JSON.readTree(r.body()).path("eventId").asText());
        }
      } catch (IOException e) {
        return; // the child is gone
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static byte[] bodyFor(String key) {
    String[] parts = key.split("\\|");
    String pad = "x".repeat(400);
    return ("{\"interactionId\":\""
            + parts[0]
            + "\",\"timestamp\":\""
            + parts[1]
            + "\",\"disposition\":{\"code\":\"RESOLVED\"},\"pad\":\""
            + pad
            + "\"}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private Path writeConfig() throws IOException {
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(
        config,
        """
        server: { host: 127.0.0.1, port: "${PORT}" }
        store: { path: "%s" }
        sources:
          dispositions:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: "interactionId & '|' & timestamp" }
            partition_key: interactionId
        routes:
          to-crm: { from: dispositions, to: crm }
        destinations:
          crm: { type: http, url: "http://127.0.0.1:9/unused" }
        """
            .formatted(dir.resolve("sb.db")));
    return config;
  }
}
