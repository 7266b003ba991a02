package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.dispatch.DispatcherSettings;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three gateway nodes on one PostgreSQL (cluster mode, ADR 0008): a duplicate posted to every node
 * at once is stored once, per-key order holds across nodes, and an idle node wakes through {@code
 * LISTEN/NOTIFY} for work posted to another and takes its share. Each node reaches the fake
 * destination under its own path ({@code /n0}, {@code /n1}, {@code /n2}), so the fake knows which
 * node delivered.
 */
@Timeout(120)
class ClusterIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "cluster-secret";
  static final Pattern KEY = Pattern.compile("\"key\":\"([^\"]+)\"");
  static EmbeddedPostgres pg;
  static final AtomicInteger DATABASES = new AtomicInteger();

  @TempDir Path dir;
  final List<GatewayFixture> nodes = new ArrayList<>();
  String database;

  @BeforeAll
  static void startServer() {
    pg = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stopServer() {
    if (pg != null) {
      pg.close();
    }
  }

  @AfterEach
  void stopNodes() {
    nodes.forEach(GatewayFixture::close);
  }

  static String yaml(String routeLines, String destinationLines) {
    return """
        sources:
          calls:
            verify:
              scheme: hmac-sha256-hex
              header: X-Genesys-Signature
              secrets: ["${SECRET}"]
            idempotency: { key: interactionId }
            event_time: timestamp
            partition_key: key
        routes:
          to-crm:
            from: calls
            to: crm
        """
        + routeLines
        + """
        destinations:
          crm:
            type: http
            url: ${CRM}
            timeout: 10s
        """
        + destinationLines;
  }

  /** Three nodes on a fresh database, each sending to its own path on {@code fake}. */
  void startNodes(FakeDestination fake, String yaml, DispatcherSettings settings) throws Exception {
    startNodes(fake, yaml, settings, 3);
  }

  void startNodes(FakeDestination fake, String yaml, DispatcherSettings settings, int count)
      throws Exception {
    database = "cluster" + DATABASES.incrementAndGet();
    pg.createDatabase(database);
    for (int i = 0; i < count; i++) {
      Path nodeDir = Files.createDirectories(dir.resolve("n" + i));
      nodes.add(
          GatewayFixture.startOnPostgres(
              nodeDir,
              pg.jdbcUrl(database),
              EmbeddedPostgres.USER,
              EmbeddedPostgres.PASSWORD,
              yaml,
              Map.of("SECRET", SECRET, "CRM", fake.uri("/n" + i).toString()),
              Clock.systemUTC(),
              settings));
    }
  }

  static byte[] event(String interactionId, String key, Instant time) {
    return GatewayFixture.utf8(
        "{\"interactionId\":\"%s\",\"key\":\"%s\",\"timestamp\":\"%s\"}"
            .formatted(interactionId, key, time));
  }

  static HttpResponse<String> post(GatewayFixture node, byte[] body) throws Exception {
    return node.post("calls", body, Map.of("X-Genesys-Signature", Hmac.sha256Hex(SECRET, body)));
  }

  static String interactionId(FakeDestination.Request r) {
    Matcher m = Pattern.compile("\"interactionId\":\"([^\"]+)\"").matcher(r.bodyText());
    return m.find() ? m.group(1) : null;
  }

  static String node(FakeDestination.Request r) {
    return r.pathAndQuery().substring(1, 3);
  }

  long countSql(String sql) throws Exception {
    try (Connection c = pg.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void theSameEventPostedToEveryNodeAtOnceIsStoredOnceAndEveryAnswerNamesIt() throws Exception {
    try (FakeDestination fake = new FakeDestination();
        ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
      startNodes(fake, yaml("", ""), GatewayFixture.FAST);
      Instant t0 = Instant.parse("2026-11-23T10:00:00Z");
      for (int i = 0; i < 20; i++) {
        byte[] body = event("race-" + i, "k" + i, t0.plusSeconds(i));
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (GatewayFixture node : nodes) {
          answers.add(
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return post(node, body);
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  },
                  senders));
        }
        Set<String> eventIds = new HashSet<>();
        int duplicates = 0;
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
          HttpResponse<String> r = answer.join();
          assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
          JsonNode json = JSON.readTree(r.body());
          eventIds.add(json.path("eventId").asText());
          duplicates += json.path("duplicate").asBoolean() ? 1 : 0;
        }
        assertThat(eventIds).as("event ids answered for race-%d", i).hasSize(1);
        assertThat(duplicates).as("answers saying duplicate for race-%d", i).isEqualTo(2);
      }
      assertThat(countSql("SELECT COUNT(*) FROM events")).isEqualTo(20);
      assertThat(countSql("SELECT COUNT(*) FROM deliveries")).isEqualTo(20);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> countSql("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'") == 20);
      assertThat(fake.countByHeader("Idempotency-Key"))
          .hasSize(20)
          .allSatisfy((k, n) -> assertThat(n).isEqualTo(1L));
      assertThat(fake.requests()).hasSize(20);
    }
  }

  @Test
  void perKeyOrderHoldsAcrossNodes() throws Exception {
    int keys = 12;
    int perKey = 5;
    try (FakeDestination fake = new FakeDestination();
        ExecutorService senders = Executors.newFixedThreadPool(keys)) {
      fake.answerByDefault(Answer.DEFAULT.after(Duration.ofMillis(20)))
          .trackOverlap(
              r -> {
                Matcher m = KEY.matcher(r.bodyText());
                return m.find() ? m.group(1) : null;
              });
      startNodes(
          fake, yaml("    ordering: per-key\n", "    concurrency: 8\n"), GatewayFixture.FAST);
      Instant t0 = Instant.parse("2026-11-23T10:00:00Z");
      List<CompletableFuture<Void>> posted = new ArrayList<>();
      for (int k = 0; k < keys; k++) {
        int key = k;
        // a key's events go round-robin to the three nodes, each after the previous one's ack
        posted.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int j = 0; j < perKey; j++) {
                    byte[] body = event("k" + key + "-e" + j, "k" + key, t0.plusSeconds(j));
                    try {
                      HttpResponse<String> r = post(nodes.get((key + j) % 3), body);
                      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }
                },
                senders));
      }
      posted.forEach(CompletableFuture::join);
      await().atMost(Duration.ofSeconds(30)).until(() -> fake.requests().size() >= keys * perKey);
      Map<String, List<String>> received = new TreeMap<>();
      Set<String> deliveringNodes = new HashSet<>();
      for (FakeDestination.Request r : fake.requests()) {
        String id = interactionId(r);
        received.computeIfAbsent(id.substring(0, id.indexOf('-')), k -> new ArrayList<>()).add(id);
        deliveringNodes.add(node(r));
      }
      for (int k = 0; k < keys; k++) {
        List<String> expected = new ArrayList<>();
        for (int j = 0; j < perKey; j++) {
          expected.add("k" + k + "-e" + j);
        }
        assertThat(received.get("k" + k)).as("key k%d in arrival order", k).isEqualTo(expected);
      }
      assertThat(fake.overlappedKeys()).as("keys with two requests open at once").isEmpty();
      assertThat(fake.requests()).hasSize(keys * perKey);
      assertThat(deliveringNodes).as("nodes that delivered").hasSizeGreaterThan(1);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  countSql("SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'") == 0
                      && countSql("SELECT COUNT(*) FROM deliveries") == keys * perKey);
    }
  }

  @Test
  void idleNodesWakeAtOnceForWorkPostedToAnotherAndShareIt() throws Exception {
    // poll and sweep far longer than the test: other nodes can only learn of the work by NOTIFY
    DispatcherSettings slowSweep =
        new DispatcherSettings(
            Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofSeconds(30), 20_000, 2_000);
    int events = 6;
    try (FakeDestination fake = new FakeDestination()) {
      fake.answerByDefault(Answer.DEFAULT.after(Duration.ofSeconds(2)));
      startNodes(fake, yaml("", "    concurrency: 1\n"), slowSweep);
      Instant t0 = Instant.parse("2026-11-23T10:00:00Z");
      Map<String, String> acked = new LinkedHashMap<>();
      long postedAt = System.nanoTime();
      for (int i = 0; i < events; i++) {
        HttpResponse<String> r = post(nodes.get(0), event("wake-" + i, "w" + i, t0.plusSeconds(i)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        acked.put("wake-" + i, JSON.readTree(r.body()).path("eventId").asText());
      }
      // node 0 alone (one request at a time, 2 s each) would need 12 s; nodes 1 and 2 start theirs
      // within a second, woken by the notification of node 0's commit
      await()
          .atMost(Duration.ofMillis(1_500))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  fake.requests().stream().map(ClusterIT::node).distinct().count() == 3
                      && fake.requests().size() >= 3);
      assertThat(Duration.ofNanos(System.nanoTime() - postedAt)).isLessThan(Duration.ofSeconds(2));
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  countSql("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'") == events);
      Map<String, Long> byNode = new TreeMap<>();
      fake.requests().forEach(r -> byNode.merge(node(r), 1L, Long::sum));
      assertThat(byNode).as("requests by node").containsOnlyKeys("n0", "n1", "n2");
      assertThat(fake.requests()).hasSize(events);
      assertThat(fake.requests().stream().map(ClusterIT::interactionId).distinct())
          .containsExactlyInAnyOrderElementsOf(acked.keySet());
    }
  }

  @Test
  void aNodeStoppingHandsBackWhatItClaimedAndHadNotStarted() throws Exception {
    try (FakeDestination fake = new FakeDestination()) {
      // four claimed at once (four free slots), one sent, three held back by the rate limit
      startNodes(
          fake, yaml("", "    concurrency: 4\n    rate_limit: 1/hour\n"), GatewayFixture.FAST, 1);
      Instant t0 = Instant.parse("2026-11-23T10:00:00Z");
      // paused while the four arrive, so that one claim takes all four on resume
      nodes.get(0).gateway().deliveries().pause("crm", "test");
      for (int i = 0; i < 4; i++) {
        assertThat(post(nodes.get(0), event("held-" + i, "h" + i, t0)).statusCode()).isEqualTo(202);
      }
      assertThat(countSql("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")).isEqualTo(4);
      nodes.get(0).gateway().deliveries().resume("crm", "test");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  fake.requests().size() == 1
                      && countSql("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'") == 1
                      && countSql("SELECT COUNT(*) FROM deliveries WHERE state = 'in_flight'")
                          == 3);
      nodes.remove(0).close();
      // back in the store for any node at once, not after their leases (2 x 10 s + 1.5 s)
      assertThat(countSql("SELECT COUNT(*) FROM deliveries WHERE state = 'in_flight'")).isZero();
      assertThat(
              countSql(
                  "SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND attempts = 0"
                      + " AND lease_token IS NULL"))
          .isEqualTo(3);
      assertThat(fake.requests()).hasSize(1);
    }
  }

  @Test
  void aRateLimitedDestinationIsClaimedAtItsPace() throws Exception {
    int events = 30;
    try (FakeDestination fake = new FakeDestination()) {
      // the poll at its default second: only the wait for the next token can keep the pace
      DispatcherSettings poll =
          new DispatcherSettings(
              Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMillis(500), 20_000, 2_000);
      startNodes(fake, yaml("", "    concurrency: 4\n    rate_limit: 20/s\n"), poll, 1);
      nodes.get(0).gateway().deliveries().pause("crm", "test");
      Instant t0 = Instant.parse("2026-11-23T10:00:00Z");
      for (int i = 0; i < events; i++) {
        assertThat(post(nodes.get(0), event("paced-" + i, "p" + i, t0)).statusCode())
            .isEqualTo(202);
      }
      long resumed = System.nanoTime();
      nodes.get(0).gateway().deliveries().resume("crm", "test");
      await().atMost(Duration.ofSeconds(10)).until(() -> fake.requests().size() >= events);
      Duration took = Duration.ofNanos(System.nanoTime() - resumed);
      List<Instant> arrivals =
          fake.requests().stream().map(FakeDestination.Request::arrivedAt).sorted().toList();
      Duration span = Duration.between(arrivals.get(0), arrivals.get(events - 1));
      // 29 gaps of 50 ms: the limit holds, and the claims keep up with it
      assertThat(span).isGreaterThanOrEqualTo(Duration.ofMillis(29 * 50 - 100));
      assertThat(took).isLessThan(Duration.ofMillis(29 * 50 + 1_500));
    }
  }
}
