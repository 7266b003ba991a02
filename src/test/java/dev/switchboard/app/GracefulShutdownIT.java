package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
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
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM on the packaged gateway in a child JVM while attempts are in flight at a slow destination
 * and a sender keeps posting: the process exits 0 within the grace; every acknowledged event is in
 * the store; requests after the stop get 503 {@code shutting_down} or a refused connection; the
 * attempts in flight finish within the grace and are recorded delivered; after a restart on the
 * same database every acknowledged event is delivered, a repeat only with the same idempotency key.
 */
class GracefulShutdownIT {
  static final String SECRET = "graceful-shutdown-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration GRACE = Duration.ofSeconds(6);
  static final Duration SLOW = Duration.ofMillis(1_500);
  static final int CONCURRENCY = 4;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  /**
   * What one request got: a status and its body, or -1 when the connection failed; {@code
   * afterStop} when the stop had begun by the time it ended.
   */
  record Outcome(String interactionId, int status, String body, boolean afterStop) {}

  @Test
  void sigtermFinishesAcksAndInFlightAttemptsExitsZeroAndTheRestResumes() throws Exception {
    try (FakeDestination fake = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      // the first attempts are slow, so some are in flight at the stop; later ones answer at once
      for (int i = 0; i < 3 * CONCURRENCY; i++) {
        fake.answer(Answer.status(200).after(SLOW));
      }
      Path config = writeConfig(fake.uri("/crm"));
      Path db = dir.resolve("sb.db");
      int port = ChildGateway.freePort();
      Process child = ChildGateway.start(dir, config, port, SECRET, "first");
      List<Outcome> outcomes = new CopyOnWriteArrayList<>();
      AtomicBoolean stopped = new AtomicBoolean();
      AtomicBoolean sending = new AtomicBoolean(true);
      Thread sender =
          Thread.ofPlatform()
              .name("sender")
              .unstarted(() -> send(client, port, outcomes, stopped, sending));
      Set<String> inFlightAtStop;
      Instant stopAt;
      long exitMillis;
      try {
        ChildGateway.awaitReady(client, port);
        sender.start();
        await("attempts in flight at the destination (" + dir + ")")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(20))
            .pollInSameThread()
            .until(
                () -> {
                  List<FakeDestination.Request> r = fake.requests();
                  long accepted = outcomes.stream().filter(o -> o.status() / 100 == 2).count();
                  return accepted >= 20
                      && r.size() >= CONCURRENCY
                      && r.getLast().arrivedAt().isAfter(Instant.now().minusMillis(300));
                });
        stopAt = Instant.now();
        // requests that arrived less than SLOW ago are still held by the destination
        inFlightAtStop =
            fake.requests().stream()
                .filter(r -> r.arrivedAt().isAfter(stopAt.minus(SLOW).plusMillis(100)))
                .map(GracefulShutdownIT::interactionId)
                .collect(Collectors.toSet());
        assertThat(inFlightAtStop).as("attempts in flight at the stop").isNotEmpty();
        stopped.set(true);
        child.destroy(); // SIGTERM
        assertThat(child.waitFor(GRACE.toSeconds() + 10, TimeUnit.SECONDS))
            .as("exits within the grace and a margin (" + dir + ")")
            .isTrue();
        exitMillis = Duration.between(stopAt, Instant.now()).toMillis();
      } finally {
        sending.set(false);
        if (sender.isAlive()) {
          sender.join(15_000);
        }
        child.destroyForcibly();
      }
      assertThat(child.exitValue()).as("exit code on SIGTERM").isZero();
      assertThat(exitMillis).isLessThan(GRACE.toMillis() + 5_000);
      String log = Files.readString(dir.resolve("child-first.log"));
      assertThat(log).contains("every attempt in flight finished within the shutdown grace");

      // before the stop everything was accepted; after it, 503 shutting_down or no connection
      Set<String> acked = new HashSet<>();
      boolean saw503 = false;
      for (Outcome o : outcomes) {
        if (o.status() / 100 == 2) {
          acked.add(o.interactionId());
        } else if (!o.afterStop()) {
          throw new AssertionError("refused before the stop: " + o);
        } else if (o.status() != -1) {
          assertThat(o.status()).as(o.toString()).isEqualTo(503);
          assertThat(o.body()).contains("shutting_down");
          saw503 = true;
        }
      }
      assertThat(acked).hasSizeGreaterThan(10);
      assertThat(saw503).as("the listener answered 503 while attempts finished").isTrue();

      // the store has every acknowledged event; those in flight at the stop are delivered
      Map<String, String> states = deliveryStates(db);
      assertThat(states.keySet()).containsAll(acked);
      for (String id : inFlightAtStop) {
        assertThat(states.get(id)).as("in flight at the stop: " + id).isEqualTo("delivered");
      }
      int sentBeforeRestart = fake.requests().size();

      // restart on the same database: the rest goes out
      Process again = ChildGateway.start(dir, config, port, SECRET, "second");
      try {
        ChildGateway.awaitReady(client, port);
        await("every acknowledged event delivered after the restart (" + dir + ")")
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(
                            fake.requests().stream()
                                .map(GracefulShutdownIT::interactionId)
                                .collect(Collectors.toSet()))
                        .containsAll(acked));
      } finally {
        again.destroy();
        assertThat(again.waitFor(GRACE.toSeconds() + 10, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(again.exitValue()).isZero();
      Map<String, Set<String>> keys = new HashMap<>();
      Map<String, Integer> sends = new HashMap<>();
      for (FakeDestination.Request r : fake.requests()) {
        keys.computeIfAbsent(interactionId(r), k -> new HashSet<>())
            .add(r.header("Idempotency-Key"));
        sends.merge(interactionId(r), 1, Integer::sum);
      }
      keys.forEach((id, k) -> assertThat(k).as("idempotency keys sent for " + id).hasSize(1));
      for (String id : inFlightAtStop) {
        assertThat(sends.get(id)).as("recorded delivered, not sent again: " + id).isEqualTo(1);
      }
      assertThat(fake.requests().size()).isGreaterThan(sentBeforeRestart);
      assertThat(deliveryStates(db).values()).containsOnly("delivered");
    }
  }

  /** Posts a stream of signed events until told to stop or the connection is refused. */
  private static void send(
      HttpClient client,
      int port,
      List<Outcome> outcomes,
      AtomicBoolean stopped,
      AtomicBoolean sending) {
    int n = 0;
    long nextAt = System.nanoTime();
    while (sending.get()) {
      String id = "gs-" + (++n);
      byte[] body =
          ("{\"interactionId\":\"" + id + "\",\"disposition\":{\"code\":\"RESOLVED\"}}")
              .getBytes(StandardCharsets.UTF_8);
      try {
        HttpResponse<String> r = ChildGateway.postSigned(client, port, "calls", SECRET, body);
        // read after the answer: false means the whole request was over before the SIGTERM
        outcomes.add(new Outcome(id, r.statusCode(), r.body(), stopped.get()));
      } catch (IOException e) {
        boolean afterStop = stopped.get();
        outcomes.add(new Outcome(id, -1, e.toString(), afterStop));
        if (afterStop) {
          return; // the listener is gone
        }
      } catch (InterruptedException e) {
        return;
      }
      // about 30 requests a second: a steady stream, not a flood
      nextAt += TimeUnit.MILLISECONDS.toNanos(33);
      java.util.concurrent.locks.LockSupport.parkNanos(nextAt - System.nanoTime());
    }
  }

  static String interactionId(FakeDestination.Request r) {
    try {
      return JSON.readTree(r.bodyText()).path("interactionId").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** interactionId → delivery state, read from the SQLite file after the process is gone. */
  static Map<String, String> deliveryStates(Path db) throws Exception {
    Map<String, String> states = new ConcurrentHashMap<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT json_extract(e.payload, '$.interactionId'), d.state"
                    + " FROM events e JOIN deliveries d ON d.event_id = e.id")) {
      while (rs.next()) {
        states.put(rs.getString(1), rs.getString(2));
      }
    }
    return states;
  }

  private Path writeConfig(URI destination) throws IOException {
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(
        config,
        """
        server: { host: 127.0.0.1, port: "${PORT}", shutdown_grace: %ds }
        store: { path: "%s" }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
        destinations:
          crm:
            type: http
            url: "%s"
            concurrency: %d
            timeout: 10s
            retry: { initial: 100ms, max_delay: 1s }
        """
            .formatted(GRACE.toSeconds(), dir.resolve("sb.db"), destination, CONCURRENCY));
    return config;
  }
}
