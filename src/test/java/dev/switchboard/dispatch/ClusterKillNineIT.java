package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import java.net.http.HttpClient;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster mode: three nodes on one PostgreSQL under load, one of them (the packaged jar in a child
 * JVM) killed with SIGKILL while its requests are held at a slow destination. The two others take
 * over its deliveries once their leases expire: every acknowledged event is delivered, a repeat
 * carries the same {@code Idempotency-Key}, and nothing is left in flight once idle.
 */
@Timeout(180)
class ClusterKillNineIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "cluster-kill-secret";
  static final Duration ANSWER_DELAY = Duration.ofMillis(300);
  static final int TOTAL_ACKS = 300;
  static final Pattern INTERACTION = Pattern.compile("\"interactionId\":\"([^\"]+)\"");

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  static final String ROUTES =
      """
      sources:
        calls:
          verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
          idempotency: { key: interactionId }
      routes:
        to-crm: { from: calls, to: crm }
      destinations:
        crm:
          type: http
          url: "${CRM}"
          concurrency: 4
          timeout: 2s
          retry: { initial: 100ms, max_delay: 1s }
      """;

  @Test
  void aKilledNodesDeliveriesAreTakenOverWithTheirIdempotencyKeys() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.start();
        FakeDestination fake = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      pg.createDatabase("cluster");
      fake.answerByDefault(Answer.status(200).after(ANSWER_DELAY));
      List<GatewayFixture> nodes = new ArrayList<>();
      Process child = null;
      try {
        for (int i = 0; i < 2; i++) {
          Path nodeDir = Files.createDirectories(dir.resolve("n" + i));
          nodes.add(
              GatewayFixture.startOnPostgres(
                  nodeDir,
                  pg.jdbcUrl("cluster"),
                  EmbeddedPostgres.USER,
                  EmbeddedPostgres.PASSWORD,
                  ROUTES,
                  Map.of("SECRET", SECRET, "CRM", fake.uri("/n" + i).toString()),
                  Clock.systemUTC(),
                  GatewayFixture.FAST));
        }
        Path config = dir.resolve("child.yaml");
        Files.writeString(
            config,
            """
            server: { host: 127.0.0.1, port: "${PORT}" }
            store:
              type: postgres
              url: "%s"
              user: %s
              password: "%s"
              pool_size: 4
            """
                    .formatted(
                        pg.jdbcUrl("cluster"), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD)
                + ROUTES.replace("${CRM}", fake.uri("/n2").toString()));
        int port = ChildGateway.freePort();
        // a heartbeat of 500 ms: the child's leases run out some 5.5 s (2 x timeout + 3 beats)
        // after its last renewal
        child =
            ChildGateway.start(
                dir, config, port, SECRET, "node2", "-Dswitchboard.dispatch.heartbeat=500");
        ChildGateway.awaitReady(client, port);

        Map<String, String> acked = new ConcurrentHashMap<>(); // interactionId -> event id
        AtomicInteger next = new AtomicInteger();
        AtomicBoolean childAlive = new AtomicBoolean(true);
        Instant killedAt;
        try (ExecutorService senders = Executors.newFixedThreadPool(6)) {
          for (int s = 0; s < 6; s++) {
            senders.submit(
                () -> {
                  while (acked.size() < TOTAL_ACKS) {
                    int n = next.getAndIncrement();
                    String id = "ev-" + n;
                    byte[] body = GatewayFixture.utf8("{\"interactionId\":\"" + id + "\"}");
                    try {
                      HttpResponse<String> r;
                      if (n % 3 == 2) {
                        if (!childAlive.get()) {
                          continue;
                        }
                        r = ChildGateway.postSigned(client, port, "calls", SECRET, body);
                      } else {
                        r =
                            nodes
                                .get(n % 3)
                                .post(
                                    "calls",
                                    body,
                                    Map.of("X-Genesys-Signature", Hmac.sha256Hex(SECRET, body)));
                      }
                      if (r.statusCode() == 202) {
                        acked.put(id, JSON.readTree(r.body()).path("eventId").asText());
                      }
                    } catch (Exception e) {
                      // the child died under this request: not acknowledged, nothing promised
                    }
                  }
                  return null;
                });
          }
          await("the child delivering, with requests held at the destination")
              .atMost(Duration.ofSeconds(45))
              .pollInterval(Duration.ofMillis(20))
              .pollInSameThread()
              .until(
                  () -> {
                    if (acked.size() < 40) {
                      return false;
                    }
                    List<FakeDestination.Request> fromChild =
                        fake.requests().stream()
                            .filter(r -> r.pathAndQuery().startsWith("/n2"))
                            .toList();
                    return fromChild.size() >= 5
                        && fromChild.stream()
                            .anyMatch(
                                r ->
                                    r.arrivedAt()
                                        .isAfter(Instant.now().minus(ANSWER_DELAY.dividedBy(2))));
                  });
          child.destroyForcibly(); // SIGKILL: no shutdown hook, no graceful stop
          killedAt = Instant.now();
          child.waitFor();
          childAlive.set(false);
        } // the senders stop once enough events are acknowledged by the two survivors

        await("every acknowledged event at the destination")
            .atMost(Duration.ofSeconds(40))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> interactionIds(fake.requests()).containsAll(acked.keySet()));
        await("nothing unfinished in the store")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(100))
            .until(
                () ->
                    count(
                            pg,
                            "SELECT COUNT(*) FROM deliveries"
                                + " WHERE state IN ('pending', 'in_flight', 'retry_scheduled')")
                        == 0);

        List<FakeDestination.Request> requests = fake.requests();
        Map<String, List<String>> keysById = new TreeMap<>();
        for (FakeDestination.Request r : requests) {
          keysById
              .computeIfAbsent(interactionId(r), k -> new ArrayList<>())
              .add(r.header("Idempotency-Key"));
        }
        // held at the destination by the child when it died: sent again by a survivor
        Set<String> heldAtKill = new TreeSet<>();
        Set<String> resentBySurvivor = new TreeSet<>();
        for (FakeDestination.Request r : requests) {
          boolean fromChild = r.pathAndQuery().startsWith("/n2");
          if (fromChild && r.arrivedAt().plus(ANSWER_DELAY).isAfter(killedAt)) {
            heldAtKill.add(interactionId(r));
          } else if (!fromChild && r.arrivedAt().isAfter(killedAt)) {
            resentBySurvivor.add(interactionId(r));
          }
        }
        String summary =
            "%d acked, %d requests for %d events, %d held by the child at the kill"
                .formatted(acked.size(), requests.size(), keysById.size(), heldAtKill.size());
        System.out.println("ClusterKillNineIT: " + summary);

        assertThat(keysById.keySet()).as(summary).containsAll(acked.keySet());
        Map<String, List<String>> changedKey = new TreeMap<>();
        keysById.forEach(
            (id, keys) -> {
              if (keys.contains(null) || new TreeSet<>(keys).size() != 1) {
                changedKey.put(id, keys);
              }
            });
        assertThat(changedKey).as("repeats under another Idempotency-Key; " + summary).isEmpty();
        Map<String, String> idByKey = new HashMap<>();
        keysById.forEach((id, keys) -> idByKey.merge(keys.get(0), id, (a, b) -> a + "," + b));
        assertThat(idByKey.values())
            .as("a key shared by two events")
            .noneMatch(v -> v.contains(","));
        assertThat(heldAtKill).as("requests held by the child at the kill").isNotEmpty();
        assertThat(resentBySurvivor).as(summary).containsAll(heldAtKill);
        assertThat(count(pg, "SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'"))
            .isZero();
      } finally {
        if (child != null && child.isAlive()) {
          child.destroyForcibly().waitFor();
        }
        nodes.forEach(GatewayFixture::close);
      }
    }
  }

  static Set<String> interactionIds(List<FakeDestination.Request> requests) {
    Set<String> ids = new TreeSet<>();
    requests.forEach(r -> ids.add(interactionId(r)));
    return ids;
  }

  static String interactionId(FakeDestination.Request r) {
    Matcher m = INTERACTION.matcher(r.bodyText());
    return m.find() ? m.group(1) : null;
  }

  static long count(EmbeddedPostgres pg, String sql) throws Exception {
    try (Connection c = pg.connect("cluster");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
