package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.store.ClusterState;
import dev.switchboard.store.ClusterState.DestinationLimits;
import dev.switchboard.store.sql.PostgresDialect;
import dev.switchboard.store.sql.SqlEventStore;
import dev.switchboard.store.sql.SqliteDialect;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import java.net.http.HttpRequest;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits across the cluster (docs/adr/0009-cluster-limits.md): three gateway nodes on one
 * PostgreSQL share one destination's rate limit, circuit breaker and server hold (which an
 * operator's resume on one node ends on all); and the node registry under them.
 */
@Timeout(120)
class ClusterLimitsIT {
  static final int NODES = 3;
  static final AtomicInteger DATABASES = new AtomicInteger();
  static final AtomicInteger SEQ = new AtomicInteger();
  static EmbeddedPostgres pg;

  @TempDir Path dir;
  final FakeDestination crm = new FakeDestination();
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
  void stop() {
    nodes.forEach(GatewayFixture::close);
    crm.close();
  }

  /** Three nodes on a new database; returns once each divides its rate limits by three. */
  void startNodes(String destinationExtras) throws Exception {
    database = pg.createDatabase("limits_" + DATABASES.incrementAndGet());
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId }
        routes:
          to-crm:
            from: calls
            to: crm
        destinations:
          crm:
            type: http
            url: ${CRM}
        """
            + destinationExtras;
    for (int i = 0; i < NODES; i++) {
      Path home = Files.createDirectories(dir.resolve("node-" + i));
      nodes.add(
          GatewayFixture.startOnPostgres(
              home,
              pg.jdbcUrl(database),
              EmbeddedPostgres.USER,
              EmbeddedPostgres.PASSWORD,
              yaml,
              Map.of("CRM", crm.uri("/in").toString()),
              Clock.systemUTC()));
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> nodes.stream().allMatch(n -> n.gateway().dispatcher().clusterNodes() == 3));
  }

  void post(GatewayFixture node) throws Exception {
    HttpResponse<String> r =
        node.post(
            "calls",
            GatewayFixture.utf8("{\"interactionId\":\"i-%d\"}".formatted(SEQ.incrementAndGet())),
            Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
  }

  long delivered() throws Exception {
    try (Connection c = pg.connect(database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  String breaker(GatewayFixture node) {
    return node.gateway().deliveries().destinations().stream()
        .filter(d -> d.name().equals("crm"))
        .map(dev.switchboard.dispatch.DestinationStatus::breaker)
        .findFirst()
        .orElseThrow();
  }

  boolean allBreakersOpen() {
    return nodes.stream().noneMatch(n -> breaker(n).equals("closed"));
  }

  @Test
  void theRateLimitHoldsAcrossThreeNodesWithinOneTokenPerNode() throws Exception {
    int rate = 20;
    int events = 150;
    startNodes("    rate_limit: 20/second\n    concurrency: 4\n");
    for (int i = 0; i < events; i++) {
      post(nodes.get(i % NODES));
    }
    await().atMost(Duration.ofSeconds(40)).until(() -> delivered() == events);

    List<Instant> arrivals =
        crm.requests().stream().map(FakeDestination.Request::arrivedAt).toList();
    assertThat(arrivals).hasSize(events); // a claim lost to another node sends nothing
    List<Instant> sorted = arrivals.stream().sorted().toList();
    // the bound (ADR 0009): in any window of T, at most rate × T + one token per node; one more
    // for the few milliseconds between a request's start and its arrival at the receiver
    int burst = NODES + 1;
    for (int i = 0; i < sorted.size(); i++) {
      Instant end = sorted.get(i).plusSeconds(1);
      long inSecond = sorted.stream().skip(i).takeWhile(t -> t.isBefore(end)).count();
      assertThat(inSecond)
          .as("requests in the second from %s", sorted.get(i))
          .isLessThanOrEqualTo(rate + burst);
    }
    double span = Duration.between(sorted.getFirst(), sorted.getLast()).toNanos() / 1e9;
    assertThat((double) events).isLessThanOrEqualTo(rate * span + burst);
    // not starved: the three shares add up to the whole rate
    assertThat(events / span).isGreaterThanOrEqualTo(0.8 * rate);
  }

  @Test
  void aBreakerOpenedOnOneNodeHoldsOnAllAndOneNodeProbes() throws Exception {
    Answer failing = Answer.status(500).after(Duration.ofMillis(100));
    for (int i = 0; i < 2_000; i++) {
      crm.answer(failing);
    }
    startNodes(
        """
            concurrency: 1
            timeout: 5s
            retry: { initial: 100ms, max_delay: 500ms }
            circuit_breaker: { failures: 3, open_for: 2s }
        """);
    int events = 9;
    for (int i = 0; i < events; i++) {
      post(nodes.get(i % NODES));
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> nodes.stream().anyMatch(n -> !breaker(n).equals("closed")));
    Instant firstOpen = Instant.now();
    await().atMost(Duration.ofSeconds(2)).until(this::allBreakersOpen);
    // the others read the open breaker within one sync (100 ms here): each may start what fits
    // in it (answers take 100 ms, concurrency 1), well before the first probe at 2 s
    long afterOpen = arrivalsBetween(firstOpen, firstOpen.plusSeconds(1));
    assertThat(afterOpen).isLessThanOrEqualTo(2L * (NODES - 1));

    // still failing: for three open periods the cluster sends one probe per period, not one per
    // node (which would be nine)
    Instant from = Instant.now();
    await()
        .during(Duration.ofSeconds(6))
        .atMost(Duration.ofSeconds(8))
        .until(this::allBreakersOpen);
    long probes = arrivalsBetween(from, Instant.now());
    assertThat(probes).isBetween(1L, 4L);

    crm.heal();
    await().atMost(Duration.ofSeconds(20)).until(() -> delivered() == events);
    // A breaker closes on a successful request, its own or another node's probe. An answer that
    // failed just before the heal may reopen one node's breaker after the last probe, and with
    // no work left nothing probes again; so give every node work once more.
    for (GatewayFixture node : nodes) {
      post(node);
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> delivered() == events + NODES);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> nodes.stream().allMatch(n -> breaker(n).equals("closed")));
  }

  @Test
  void aRetryAfterGivenToOneNodeHoldsTheOthersToo() throws Exception {
    crm.answer(Answer.status(429).header("Retry-After", "3"));
    startNodes("    concurrency: 1\n    rate_limit: 30/second\n");
    int events = 30;
    for (int i = 0; i < events; i++) {
      post(nodes.get(i % NODES));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> !crm.requests().isEmpty());
    Instant told = crm.requests().getFirst().arrivedAt();
    await().atMost(Duration.ofSeconds(20)).until(() -> delivered() == events);
    // the others learn of the wait within one sync (100 ms here); then nobody sends until it ends
    assertThat(arrivalsBetween(told.plusMillis(500), told.plusMillis(2_900))).isZero();
  }

  @Test
  void anOperatorsResumeOnOneNodeEndsTheServerHoldOnEveryNode() throws Exception {
    crm.answer(Answer.status(503).header("Retry-After", "3600"));
    // each answer takes a while, so that the resuming node alone could not send them all at once
    crm.answerByDefault(Answer.DEFAULT.after(Duration.ofMillis(300)));
    database = pg.createDatabase("limits_" + DATABASES.incrementAndGet());
    String yaml =
        """
        admin: { token: "${ADMIN_TOKEN}" }
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
            concurrency: 1
            retry: { initial: 1s, max_delay: 1m, max_server_delay: 1h }
        """;
    // node 0 alone gets the 503: its hold is its own, written to the shared row
    startNode(0, yaml);
    post(nodes.get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> hold(nodes.get(0)) != null);
    // nodes 1 and 2 take the hold from the row
    startNode(1, yaml);
    startNode(2, yaml);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> nodes.stream().allMatch(n -> hold(n) != null));
    int events = 8;
    for (int i = 0; i < events; i++) {
      post(nodes.get(i % 2)); // through nodes 0 and 1 only
    }
    assertThat(crm.requests()).hasSize(1); // held everywhere

    HttpResponse<String> resumed =
        nodes
            .get(2)
            .send(
                HttpRequest.newBuilder(nodes.get(2).uri("/api/v1/destinations/crm/resume"))
                    .timeout(Duration.ofSeconds(20))
                    .header("Authorization", "Bearer " + ADMIN_TOKEN)
                    .header("X-Switchboard-Actor", "ops")
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
    assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(204);
    // the other nodes end the hold at their next sync and take their share at once (node 2 alone,
    // one answer of 300 ms at a time, would need nearly three seconds)
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              for (int i = 0; i < NODES; i++) {
                assertThat(hold(nodes.get(i))).as("hold shown by node %d", i).isNull();
              }
              assertThat(delivered()).isEqualTo(events + 1);
              assertThat(crm.requests().stream().map(r -> r.pathAndQuery().substring(1, 3)))
                  .as("nodes that sent")
                  .contains("n0", "n1", "n2");
            });
  }

  static final String ADMIN_TOKEN = "limits-t0ken";

  /** Starts node {@code i} on {@link #database}; it sends to {@code /n<i>} on the fake. */
  void startNode(int i, String yaml) throws Exception {
    Path home = Files.createDirectories(dir.resolve("node-" + i));
    nodes.add(
        GatewayFixture.startOnPostgres(
            home,
            pg.jdbcUrl(database),
            EmbeddedPostgres.USER,
            EmbeddedPostgres.PASSWORD,
            yaml,
            Map.of("CRM", crm.uri("/n" + i).toString(), "ADMIN_TOKEN", ADMIN_TOKEN),
            Clock.systemUTC()));
  }

  /** The server hold {@code node}'s admin API shows for crm, or null. */
  static JsonNode hold(GatewayFixture node) {
    try {
      HttpResponse<String> r =
          node.send(
              HttpRequest.newBuilder(node.uri("/api/v1/destinations/crm"))
                  .timeout(Duration.ofSeconds(10))
                  .header("Authorization", "Bearer " + ADMIN_TOKEN)
                  .build());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode hold = new ObjectMapper().readTree(r.body()).path("hold");
      return hold.isMissingNode() || hold.isNull() ? null : hold;
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  long arrivalsBetween(Instant from, Instant to) {
    return crm.requests().stream()
        .filter(r -> r.arrivedAt().isAfter(from) && !r.arrivedAt().isAfter(to))
        .count();
  }

  @Test
  void nodesCountWhileTheirHeartbeatIsRecentAndOneNodeWinsTheProbe() throws Exception {
    database = pg.createDatabase("limits_" + DATABASES.incrementAndGet());
    try (SqlEventStore store =
        SqlEventStore.open(
            new PostgresDialect(
                pg.jdbcUrl(database), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD, 4),
            Clock.systemUTC(),
            n -> {})) {
      ClusterState cluster = store.cluster();
      Instant t = Instant.parse("2026-11-23T10:00:00Z");
      Duration live = Duration.ofSeconds(6);
      Instant longAgo = t.minus(Duration.ofHours(1));
      assertThat(cluster.heartbeat("a", t, t, t.minus(live), longAgo)).isEqualTo(1);
      Instant t1 = t.plusSeconds(1);
      assertThat(cluster.heartbeat("b", t1, t1, t1.minus(live), longAgo)).isEqualTo(2);
      Instant t8 = t.plusSeconds(8); // a silent for 8 s: no longer counted, but still known
      assertThat(cluster.heartbeat("b", t1, t8, t8.minus(live), longAgo)).isEqualTo(1);
      assertThat(nodeRows()).isEqualTo(2);
      assertThat(cluster.heartbeat("b", t1, t8, t8.minus(live), t.plusSeconds(1))).isEqualTo(1);
      assertThat(nodeRows()).isEqualTo(1); // a forgotten
      cluster.leave("b");
      assertThat(nodeRows()).isZero();

      Instant open = t.plusSeconds(10);
      cluster.openBreaker("crm", open, null, t);
      cluster.openBreaker("crm", t.plusSeconds(5), null, t); // an earlier time does not shorten it
      assertThat(cluster.claimProbe("crm", t.plusSeconds(5), t.plusSeconds(30))).isEqualTo(open);
      Instant probe = t.plusSeconds(40);
      assertThat(cluster.claimProbe("crm", t.plusSeconds(11), probe)).isNull();
      // the winner holds it; the next one to ask learns until when
      assertThat(cluster.claimProbe("crm", t.plusSeconds(12), t.plusSeconds(50))).isEqualTo(probe);
      // the probe failed: its reopening replaces the probe window, though earlier
      cluster.openBreaker("crm", t.plusSeconds(15), probe, t.plusSeconds(13));
      assertThat(limitsOf(cluster, "crm").breakerOpenUntil()).isEqualTo(t.plusSeconds(15));
      Instant second = t.plusSeconds(45);
      assertThat(cluster.claimProbe("crm", t.plusSeconds(16), second)).isNull();
      cluster.closeBreaker("crm", t.plusSeconds(44), t.plusSeconds(17)); // not its window
      assertThat(limitsOf(cluster, "crm").breakerOpenUntil()).isEqualTo(second);
      cluster.closeBreaker("crm", second, t.plusSeconds(17));
      assertThat(limitsOf(cluster, "crm").breakerOpenUntil()).isEqualTo(Instant.EPOCH);

      cluster.pause("crm", t.plusSeconds(60), t);
      cluster.pause("crm", t.plusSeconds(30), t);
      assertThat(limitsOf(cluster, "crm").pausedUntil()).isEqualTo(t.plusSeconds(60));
    }
    // a store of its own shares nothing
    try (SqlEventStore sqlite =
        SqlEventStore.open(
            new SqliteDialect(dir.resolve("alone.db")), Clock.systemUTC(), n -> {})) {
      assertThat(sqlite.cluster()).isNull();
    }
  }

  @Test
  void whileOneNodePurgesTheOthersLeaveTheRoundToItInsteadOfWaiting() throws Exception {
    database = pg.createDatabase("limits_" + DATABASES.incrementAndGet());
    try (SqlEventStore store =
            SqlEventStore.open(
                new PostgresDialect(
                    pg.jdbcUrl(database), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD, 4),
                Clock.systemUTC(),
                n -> {});
        Connection other = pg.connect(database);
        Statement s = other.createStatement()) {
      s.executeUpdate(
          "INSERT INTO idempotency_keys (source, idempotency_key, event_id, expires_at)"
              + " SELECT 'calls', 'k-' || g, 'e-' || g, 1000 FROM generate_series(1, 700) g");
      // another node's purge op holds the retention lock in its open transaction
      other.setAutoCommit(false);
      try (ResultSet rs = s.executeQuery("SELECT pg_try_advisory_xact_lock(6005341489294824007)")) {
        rs.next();
        assertThat(rs.getBoolean(1)).isTrue();
      }
      long started = System.nanoTime();
      assertThat(store.purgeHistory(Instant.now(), Duration.ofDays(1), Duration.ofDays(1)).keys())
          .isZero();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
      other.rollback();
      // its round over, this node purges: in batches of 500, all expired keys
      assertThat(store.purgeHistory(Instant.now(), Duration.ofDays(1), Duration.ofDays(1)).keys())
          .isEqualTo(700);
    }
  }

  static DestinationLimits limitsOf(ClusterState cluster, String destination) {
    return cluster.destinations().stream()
        .filter(d -> d.destination().equals(destination))
        .findFirst()
        .orElseThrow();
  }

  long nodeRows() throws Exception {
    try (Connection c = pg.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM nodes")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
