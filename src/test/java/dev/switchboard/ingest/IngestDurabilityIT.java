package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exactly-once storage under races, and a clean 503 when the store cannot write. */
class IngestDurabilityIT {
  static final String SECRET = "durability-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final String YAML =
      """
      sources:
        dispositions:
          verify:
            scheme: hmac-sha256-hex
            header: X-Genesys-Signature
            secrets: ["${SECRET}"]
          idempotency:
            key: interactionId & '|' & timestamp
          partition_key: interactionId
      routes:
        to-crm: { from: dispositions, to: crm }
        to-slack: { from: dispositions, to: slack }
      destinations:
        crm: { type: http, url: "http://127.0.0.1:9/unused" }
        slack: { type: slack, url: "http://127.0.0.1:9/unused" }
      """;

  @TempDir Path dir;

  static byte[] body(String interactionId, String pad) {
    return utf8(
        "{\"interactionId\":\"%s\",\"timestamp\":\"2026-10-27T14:30:00Z\",\"pad\":\"%s\"}"
            .formatted(interactionId, pad));
  }

  static HttpResponse<String> post(GatewayFixture gw, byte[] body) throws Exception {
    return gw.post(
        "dispositions", body, Map.of("X-Genesys-Signature", Hmac.sha256Hex(SECRET, body)));
  }

  @Test
  void sixtyFourIdenticalRequestsInParallelCreateExactlyOneEvent() throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir, YAML, Map.of("SECRET", SECRET), new MutableClock(Instant.now()))) {
      byte[] body = body("race-1", "x");
      CountDownLatch go = new CountDownLatch(1);
      List<Future<HttpResponse<String>>> answers = new ArrayList<>();
      try (ExecutorService pool = Executors.newFixedThreadPool(64)) {
        for (int i = 0; i < 64; i++) {
          Callable<HttpResponse<String>> call =
              () -> {
                go.await();
                return post(gw, body);
              };
          answers.add(pool.submit(call));
        }
        go.countDown();
        int accepted = 0;
        int duplicates = 0;
        List<String> ids = new ArrayList<>();
        for (Future<HttpResponse<String>> f : answers) {
          HttpResponse<String> r = f.get();
          if (r.statusCode() == 202) {
            accepted++;
          } else if (r.statusCode() == 200) {
            duplicates++;
          }
          ids.add(JSON.readTree(r.body()).path("eventId").asText());
        }
        assertThat(accepted).isEqualTo(1);
        assertThat(duplicates).isEqualTo(63);
        assertThat(ids).containsOnly(ids.get(0));
      }
      assertThat(gw.gateway().store().countEvents()).isEqualTo(1);
      assertThat(gw.gateway().store().countUnfinishedDeliveries()).isEqualTo(2);
    }
  }

  @Test
  void fullStoreAnswers503FastLeavesNothingBehindAndTheRetryIsAcceptedAfterRecovery()
      throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir, YAML, Map.of("SECRET", SECRET), new MutableClock(Instant.now()))) {
      assertThat(post(gw, body("warm-up", "x")).statusCode()).isEqualTo(202);
      gw.gateway().store().limitSize(1); // no more pages than the file has now: the disk is "full"

      String pad = "p".repeat(1500);
      HttpResponse<String> refused = null;
      String refusedId = null;
      long refusedMillis = -1;
      for (int i = 0; i < 2_000 && refused == null; i++) {
        String id = "fill-" + i;
        long start = System.nanoTime();
        HttpResponse<String> r = post(gw, body(id, pad));
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (r.statusCode() == 503) {
          refused = r;
          refusedId = id;
          refusedMillis = millis;
        } else {
          assertThat(r.statusCode()).isEqualTo(202);
        }
      }
      assertThat(refused).as("the store must fill up within 2,000 events").isNotNull();
      assertThat(refusedMillis).isLessThan(100);
      assertThat(JSON.readTree(refused.body()).path("error").asText())
          .isEqualTo("store_unavailable");
      assertThat(refused.headers().firstValue("retry-after")).isPresent();
      assertThat(refused.body()).doesNotContain(pad);

      String key = refusedId + "|2026-10-27T14:30:00Z";
      assertThat(countRows(dir, "SELECT COUNT(*) FROM events WHERE idempotency_key = ?", key))
          .isZero();
      assertThat(
              countRows(
                  dir, "SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = ?", key))
          .isZero();
      assertThat(
              countRows(
                  dir,
                  "SELECT COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.idempotency_key = ?",
                  key))
          .isZero();
      assertThat(gw.gateway().store().isWritable()).as("direct probe").isFalse();
      assertThat(gw.get("/readyz").statusCode()).isEqualTo(503);

      gw.gateway().store().limitSize(0); // space is back
      HttpResponse<String> retry = post(gw, body(refusedId, pad));
      assertThat(retry.statusCode()).isEqualTo(202);
      assertThat(JSON.readTree(retry.body()).path("status").asText()).isEqualTo("accepted");
      assertThat(countRows(dir, "SELECT COUNT(*) FROM events WHERE idempotency_key = ?", key))
          .isEqualTo(1);
      assertThat(gw.get("/readyz").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void backlogOverTheHighWaterMarkAnswers503WithRetryAfter() throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir,
            "  backlog_high_water: 3\n",
            YAML,
            Map.of("SECRET", SECRET),
            new MutableClock(Instant.now()))) {
      // the mark is per destination: each event adds one delivery to crm and one to slack
      for (int i = 1; i <= 4; i++) {
        assertThat(post(gw, body("b-" + i, "x")).statusCode()).isEqualTo(202);
      }
      HttpResponse<String> refused = post(gw, body("b-5", "x")); // 4 > 3 for both now
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(refused.body()).path("error").asText()).isEqualTo("backlog_full");
      assertThat(refused.headers().firstValue("retry-after")).isPresent();
      assertThat(gw.gateway().store().countEvents()).isEqualTo(4);
    }
  }

  @Test
  void shuttingDownAnswers503AndReadinessFails() throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir, YAML, Map.of("SECRET", SECRET), new MutableClock(Instant.now()))) {
      gw.gateway().stopAccepting();
      HttpResponse<String> refused = post(gw, body("late", "x"));
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(refused.body()).path("error").asText()).isEqualTo("shutting_down");
      assertThat(refused.headers().firstValue("retry-after")).isPresent();
      assertThat(gw.get("/readyz").statusCode()).isEqualTo(503);
      assertThat(gw.gateway().store().countEvents()).isZero();
    }
  }

  static long countRows(Path dir, String sql, String arg) throws Exception {
    try (Connection c =
            DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("switchboard.db"));
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
