package dev.switchboard.dispatch;

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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * At-least-once delivery across a crash, proven the hard way: a child JVM ingests signed events
 * under load and delivers each to a slow {@link FakeDestination} in this JVM; it is killed with
 * SIGKILL while deliveries are in flight and a backlog is waiting, then restarted on the same file.
 * Every acknowledged event must reach the destination; a repeat must carry the same {@code
 * Idempotency-Key} as the first send; and once the gateway is idle nothing is left in flight, due
 * or unfinished.
 *
 * <p>On failure the temporary folder (database, config, child logs) is kept; its path is in the
 * assertion messages.
 */
class DeliveryKillNineIT {
  static final String SECRET = "delivery-kill-nine-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final int SENDERS = 16;

  /** The kill waits for at least this many acknowledged events ... */
  static final int KILL_AFTER_ACKS = 1_000;

  /** ... this many requests at the destination ... */
  static final int KILL_AFTER_RECEIVED = 200;

  /** ... this many acknowledged events the destination has not seen yet ... */
  static final int KILL_WITH_BACKLOG = 100;

  /** ... and a request that arrived at the destination this recently, so it is held there. */
  static final Duration KILL_WITHIN = Duration.ofMillis(40);

  /** A bound on what the senders send, should the kill never come. */
  static final int MAX_EVENTS = 20_000;

  /**
   * The destination holds every request this long before it answers 200, so that deliveries are in
   * flight at the kill.
   */
  static final Duration ANSWER_DELAY = Duration.ofMillis(100);

  static final Set<String> UNFINISHED = Set.of("pending", "in_flight", "retry_scheduled");

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void everyAcceptedEventIsDeliveredAfterKillDashNineAndRepeatsKeepTheirIdempotencyKey()
      throws Exception {
    try (FakeDestination fake = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      // one delayed answer per request: more than both runs together will use
      for (int i = 0; i < 2 * MAX_EVENTS; i++) {
        fake.answer(Answer.status(200).after(ANSWER_DELAY));
      }
      Path config = writeConfig(fake.uri("/crm/dispositions"));
      int port = ChildGateway.freePort();
      Map<String, String> acked = new ConcurrentHashMap<>(); // interactionId -> event id
      AtomicInteger next = new AtomicInteger();

      Process child = ChildGateway.start(dir, config, port, SECRET, "first");
      Map<String, Long> atKill;
      Set<String> receivedBeforeKill;
      int requestsBeforeKill;
      Instant killedAt = null;
      try (ExecutorService senders = Executors.newFixedThreadPool(SENDERS)) {
        try {
          ChildGateway.awaitReady(client, port);
          for (int s = 0; s < SENDERS; s++) {
            senders.submit(() -> sendUntilFailure(client, port, next, acked));
          }
          await("enough acks, deliveries and backlog before the kill (" + dir + ")")
              .atMost(Duration.ofSeconds(45))
              .pollInterval(Duration.ofMillis(50))
              .pollInSameThread() // the kill follows the last check without a thread hand-off
              .until(
                  () -> {
                    if (acked.size() < KILL_AFTER_ACKS) {
                      return false;
                    }
                    List<FakeDestination.Request> requests = fake.requests();
                    if (requests.size() < KILL_AFTER_RECEIVED) {
                      return false;
                    }
                    Set<String> seen = interactionIds(requests);
                    if (acked.keySet().stream().filter(id -> !seen.contains(id)).count()
                        < KILL_WITH_BACKLOG) {
                      return false;
                    }
                    Instant newest =
                        requests.stream()
                            .map(FakeDestination.Request::arrivedAt)
                            .max(Instant::compareTo)
                            .orElseThrow();
                    return newest.isAfter(Instant.now().minus(KILL_WITHIN));
                  });
        } finally {
          child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no graceful stop
          killedAt = Instant.now();
          child.waitFor();
        }
        List<FakeDestination.Request> before = fake.requests();
        requestsBeforeKill = before.size();
        receivedBeforeKill = interactionIds(before);
      } // the senders end on their first failed request

      // the crash left work behind: deliveries claimed under a lease and deliveries still to go
      atKill = countByState();
      Map<String, String> stateAtKill = stateByDelivery();
      assertThat(atKill.getOrDefault("in_flight", 0L) + atKill.getOrDefault("pending", 0L))
          .as("deliveries claimed or waiting in the store at the kill: %s (%s)", atKill, dir)
          .isPositive();
      assertThat(acked.keySet())
          .as("acknowledged events the destination had not seen at the kill")
          .isNotEmpty()
          .anyMatch(id -> !receivedBeforeKill.contains(id));

      Instant restartedAt = Instant.now();
      Process restarted = ChildGateway.start(dir, config, port, SECRET, "restarted");
      Map<String, Long> idle;
      try {
        ChildGateway.awaitReady(client, port);
        await("every acknowledged event at the destination (" + dir + ")")
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> interactionIds(fake.requests()).containsAll(acked.keySet()));
        // unacknowledged events that were stored are delivered too: wait until nothing is left
        await("the restarted gateway idle (" + dir + ")")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    countByState().entrySet().stream()
                        .noneMatch(e -> UNFINISHED.contains(e.getKey()) && e.getValue() > 0));
      } finally {
        restarted.destroy(); // SIGTERM: graceful stop
        restarted.waitFor();
      }
      idle = countByState();

      List<FakeDestination.Request> requests = fake.requests();
      Map<String, List<String>> keysById = new TreeMap<>(); // interactionId -> keys, in order
      for (FakeDestination.Request r : requests) {
        keysById
            .computeIfAbsent(interactionId(r), id -> new ArrayList<>())
            .add(r.header("Idempotency-Key"));
      }
      Map<String, List<String>> repeated =
          keysById.entrySet().stream()
              .filter(e -> e.getValue().size() > 1)
              .collect(
                  Collectors.toMap(
                      Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
      long repeats = requests.size() - keysById.size();
      // held at the kill: the destination had not answered yet when the child died, so the
      // delivery's outcome cannot have been written and it must be sent again after the restart
      Instant killed = killedAt;
      Set<String> heldAtKill = new TreeSet<>();
      Map<String, String> heldStates = new TreeMap<>(); // Idempotency-Key (delivery id) -> state
      Set<String> sentAfterRestart = new HashSet<>();
      for (FakeDestination.Request r : requests) {
        if (r.arrivedAt().isAfter(restartedAt)) {
          sentAfterRestart.add(interactionId(r));
        } else if (r.arrivedAt().plus(ANSWER_DELAY).isAfter(killed)) {
          heldAtKill.add(interactionId(r));
          String key = r.header("Idempotency-Key");
          heldStates.put(key, stateAtKill.getOrDefault(key, "missing"));
        }
      }
      String summary =
          String.format(
              "%d acked, %d requests before the kill (%d events, %d held at the destination),"
                  + " store at kill %s, %d requests in all for %d events, %d repeat(s) over %d"
                  + " event(s), store when idle %s (%s)",
              acked.size(),
              requestsBeforeKill,
              receivedBeforeKill.size(),
              heldAtKill.size(),
              atKill,
              requests.size(),
              keysById.size(),
              repeats,
              repeated.size(),
              idle,
              dir);
      System.out.println("DeliveryKillNineIT: " + summary);

      // (1) every acknowledged event reached the destination
      assertThat(keysById.keySet()).as(summary).containsAll(acked.keySet());
      // (2) a repeat carries the same Idempotency-Key as the first send; keys are not shared
      assertThat(requests)
          .as("every request has an Idempotency-Key; " + summary)
          .allMatch(
              r -> r.header("Idempotency-Key") != null && !r.header("Idempotency-Key").isBlank());
      Map<String, List<String>> changedKey = new TreeMap<>();
      keysById.forEach(
          (id, keys) -> {
            if (new TreeSet<>(keys).size() != 1) {
              changedKey.put(id, keys);
            }
          });
      assertThat(changedKey)
          .as("events whose repeats carried another Idempotency-Key; " + summary)
          .isEmpty();
      Map<String, String> idByKey = new HashMap<>();
      keysById.forEach((id, keys) -> idByKey.merge(keys.get(0), id, (a, b) -> a + "," + b));
      assertThat(idByKey.values())
          .as("an Idempotency-Key used for two events; " + summary)
          .noneMatch(ids -> ids.contains(","));
      // what was held at the destination at the kill was in flight, and was sent again
      assertThat(heldAtKill).as("requests held at the destination at the kill").isNotEmpty();
      // Its outcome was never written: in_flight, or still pending when the claim had not been
      // committed yet (with one process on SQLite the claim is written behind the send, and a
      // restart returns every in_flight row to pending anyway).
      assertThat(heldStates)
          .as("store state at the kill of the requests held at the destination; " + summary)
          .allSatisfy((key, state) -> assertThat(state).isIn("in_flight", "pending"));
      assertThat(sentAfterRestart)
          .as("requests held at the kill and sent again after the restart; " + summary)
          .containsAll(heldAtKill);

      // (3) and (4): the store after the restarted gateway went idle and stopped
      Map<String, StoredEvent> stored = storedEvents();
      assertThat(idle)
          .as("deliveries left unfinished; " + summary)
          .doesNotContainKeys("in_flight", "pending", "retry_scheduled");
      for (Map.Entry<String, String> ack : acked.entrySet()) {
        StoredEvent event = stored.get(ack.getKey());
        assertThat(event).as("stored event for acked %s; %s", ack.getKey(), summary).isNotNull();
        assertThat(event.eventId()).as("event id of %s", ack.getKey()).isEqualTo(ack.getValue());
        assertThat(event.deliveries())
            .as("deliveries of acked %s; %s", ack.getKey(), summary)
            .hasSize(1);
      }
      for (StoredEvent event : stored.values()) {
        for (StoredDelivery d : event.deliveries()) {
          String what = "delivery " + d.id() + " of " + event.interactionId() + "; " + summary;
          assertThat(d.state()).as(what).isEqualTo("delivered");
          assertThat(d.deliveredAttempts()).as("'delivered' attempt rows of " + what).isEqualTo(1);
          // what the destination saw is this delivery, under this delivery's id
          assertThat(keysById.get(event.interactionId()))
              .as(what)
              .isNotEmpty()
              .containsOnly(d.id());
        }
      }
      // nothing reached the destination that the store does not hold
      assertThat(stored.keySet()).as(summary).containsAll(keysById.keySet());
    }
  }

  record StoredDelivery(String id, String state, int deliveredAttempts) {}

  record StoredEvent(String interactionId, String eventId, List<StoredDelivery> deliveries) {}

  /** Opens the store read-only; the child may be running (WAL lets a reader in) or dead. */
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

  private Map<String, String> stateByDelivery() throws SQLException {
    Map<String, String> states = new HashMap<>();
    try (Connection c = readOnly();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id, state FROM deliveries")) {
      while (rs.next()) {
        states.put(rs.getString(1), rs.getString(2));
      }
    }
    return states;
  }

  private Map<String, StoredEvent> storedEvents() throws SQLException {
    Map<String, StoredEvent> events = new LinkedHashMap<>();
    try (Connection c = readOnly();
        Statement st = c.createStatement()) {
      Map<String, String> keyByEvent = new HashMap<>();
      try (ResultSet rs = st.executeQuery("SELECT id, idempotency_key FROM events")) {
        while (rs.next()) {
          String key = rs.getString(2);
          assertThat(events).as("events stored for %s", key).doesNotContainKey(key);
          keyByEvent.put(rs.getString(1), key);
          events.put(key, new StoredEvent(key, rs.getString(1), new ArrayList<>()));
        }
      }
      try (ResultSet rs =
          st.executeQuery(
              "SELECT d.id, d.event_id, d.state, (SELECT COUNT(*) FROM attempts a"
                  + " WHERE a.delivery_id = d.id AND a.outcome = 'delivered')"
                  + " FROM deliveries d")) {
        while (rs.next()) {
          String key = keyByEvent.get(rs.getString(2));
          assertThat(key).as("event of delivery %s", rs.getString(1)).isNotNull();
          events
              .get(key)
              .deliveries()
              .add(new StoredDelivery(rs.getString(1), rs.getString(3), rs.getInt(4)));
        }
      }
    }
    return events;
  }

  private static Set<String> interactionIds(List<FakeDestination.Request> requests) {
    Set<String> ids = new HashSet<>();
    for (FakeDestination.Request r : requests) {
      ids.add(interactionId(r));
    }
    return ids;
  }

  private static String interactionId(FakeDestination.Request request) {
    try {
      return JSON.readTree(request.body()).path("interactionId").asText();
    } catch (IOException e) {
      throw new UncheckedIOException("not the JSON payload: " + request.bodyText(), e);
    }
  }

  private static void sendUntilFailure(
      HttpClient client, int port, AtomicInteger next, Map<String, String> acked) {
    while (true) {
      int n = next.getAndIncrement();
      if (n >= MAX_EVENTS) {
        return;
      }
      String id = "dkn-" + n;
      try {
        HttpResponse<String> r =
            ChildGateway.postSigned(client, port, "dispositions", SECRET, bodyFor(id));
        if (r.statusCode() == 202) {
          acked.put(id, JSON.readTree(r.body()).path("eventId").asText());
        }
      } catch (IOException e) {
        return; // the child is gone
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static byte[] bodyFor(String interactionId) {
    return ("{\"interactionId\":\""
            + interactionId
            + "\",\"timestamp\":\"2026-10-27T14:30:00Z\",\"disposition\":{\"code\":\"RESOLVED\"},"
            + "\"pad\":\""
            + "x".repeat(200)
            + "\"}")
        .getBytes(StandardCharsets.UTF_8);
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
            concurrency: 16
            timeout: 5s
            retry: { initial: 100ms, max_delay: 1s }
        """
            .formatted(dir.resolve("sb.db"), destination));
    return config;
  }
}
