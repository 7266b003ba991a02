package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A derived idempotency or partition key the store could not index (a control character, more than
 * 1,024 bytes) is refused with 400 on its own, and the good requests sent at the same moment,
 * written in the same group commit, are all accepted: on SQLite and on PostgreSQL, which refuses
 * such text and used to fail the whole batch with it.
 */
@Timeout(180)
class DerivedKeysIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String YAML =
      """
      sources:
        calls:
          verify: { scheme: none }
          idempotency: { key: id }
          partition_key: account
      routes:
        to-crm:
          from: calls
          to: crm
      destinations:
        crm:
          type: http
          url: http://127.0.0.1:9/unused
      """;

  /** A bad request of each kind: its body, the error code and a word of the rule it breaks. */
  record Bad(String body, String code, String rule) {}

  static EmbeddedPostgres pg;

  @TempDir Path dir;

  @BeforeAll
  static void startServer() {
    pg = EmbeddedPostgres.start();
    pg.createDatabase("keys");
  }

  @AfterAll
  static void stopServer() {
    if (pg != null) {
      pg.close();
    }
  }

  /** Text PostgreSQL cannot compress below its index entry limit: distinct random characters. */
  static String incompressible(int chars) {
    StringBuilder text = new StringBuilder();
    while (text.length() < chars) {
      text.append(UUID.randomUUID());
    }
    return text.substring(0, chars);
  }

  static List<Bad> badOnes() {
    String ok = "\"account\":\"a-1\"";
    return List.of(
        new Bad(
            "{\"id\":\"nul\\u0000" + UUID.randomUUID() + "\"," + ok + "}",
            "idempotency_key_invalid",
            "control character"),
        new Bad(
            "{\"id\":\"" + incompressible(3000) + "\"," + ok + "}",
            "idempotency_key_invalid",
            "1024 bytes"),
        new Bad(
            "{\"id\":\"" + UUID.randomUUID() + "\",\"account\":\"a\\u0000b\"}",
            "partition_key_invalid",
            "control character"),
        new Bad(
            "{\"id\":\"" + UUID.randomUUID() + "\",\"account\":\"" + incompressible(3000) + "\"}",
            "partition_key_invalid",
            "1024 bytes"),
        new Bad(
            "{\"id\":\"tab\\t" + UUID.randomUUID() + "\"," + ok + "}",
            "idempotency_key_invalid",
            "control character"));
  }

  @Test
  void onSqliteEveryGoodRequestSentWithABadKeyIsAcceptedAndOnlyTheBadOneRefused() throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir, YAML, Map.of(), new MutableClock(Instant.parse("2026-10-27T14:30:05Z")))) {
      roundsWithOneBadKeyEach(gw);
    }
  }

  @Test
  void onPostgresEveryGoodRequestSentWithABadKeyIsAcceptedAndOnlyTheBadOneRefused()
      throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.startOnPostgres(
            dir,
            pg.jdbcUrl("keys"),
            EmbeddedPostgres.USER,
            EmbeddedPostgres.PASSWORD,
            YAML,
            Map.of(),
            new MutableClock(Instant.parse("2026-10-27T14:30:05Z")))) {
      roundsWithOneBadKeyEach(gw);
    }
  }

  /** Five rounds of forty good requests released at the same moment as one bad one. */
  static void roundsWithOneBadKeyEach(GatewayFixture gw) throws Exception {
    int good = 40;
    int sentGood = 0;
    try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Bad bad : badOnes()) {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> goods = new ArrayList<>();
        Future<HttpResponse<String>> refused = null;
        for (int i = 0; i <= good; i++) {
          boolean theBadOne = i == good / 2;
          String body =
              theBadOne
                  ? bad.body()
                  : "{\"id\":\"" + UUID.randomUUID() + "\",\"account\":\"a-" + i + "\"}";
          Future<HttpResponse<String>> sent =
              senders.submit(
                  () -> {
                    go.await();
                    return gw.post("calls", utf8(body), Map.of());
                  });
          if (theBadOne) {
            refused = sent;
          } else {
            goods.add(sent);
          }
        }
        go.countDown();
        for (Future<HttpResponse<String>> sent : goods) {
          HttpResponse<String> r = sent.get(60, TimeUnit.SECONDS);
          assertThat(r.statusCode()).as(bad.code() + " round: " + r.body()).isEqualTo(202);
        }
        sentGood += goods.size();
        HttpResponse<String> r = refused.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body());
        assertThat(error.path("error").asText()).isEqualTo(bad.code());
        assertThat(error.path("message").asText()).contains(bad.rule());
      }
    }
    // the events of its source: the gateway's own (a rejections spike, the unused destination's
    // breaker) are in the store too
    assertThat(
            gw.gateway()
                .store()
                .countEvents(
                    new dev.switchboard.store.EventQuery(
                        "calls", null, null, null, null, null, null, null, 1)))
        .isEqualTo(sentGood);
  }
}
