package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Time on a route (docs/routing.md, "Time on a route"): {@code delay} makes a route's deliveries
 * due that long after the event's receipt, durably (shown scheduled, kept across a SIGKILL); {@code
 * reorder_window} holds a key's deliveries that long so that events arriving a little out of order
 * go out in event-time order instead of being skipped as stale. Over real HTTP; the in-process
 * gateway's clock is a {@link MutableClock}, the child's is the real one.
 */
class RouteTimingIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "timing-t0ken";
  static final Instant START = Instant.parse("2026-11-02T09:00:00Z");

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  final MutableClock clock = new MutableClock(START);
  final FakeDestination now = new FakeDestination();
  final FakeDestination later = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    now.close();
    later.close();
  }

  @Test
  void aDelayedDeliveryIsShownScheduledAndGoesOutAtItsTimeNotBefore() throws Exception {
    gw =
        GatewayFixture.start(
            dir,
            """
            admin: { token: "${ADMIN_TOKEN}" }
            sources:
              calls:
                verify: { scheme: none }
                idempotency: { key: interactionId }
            routes:
              at-once: { from: calls, to: crm-now }
              two-minutes-on: { from: calls, to: crm-later, delay: 2m }
            destinations:
              crm-now: { type: http, url: "${NOW}" }
              crm-later: { type: http, url: "${LATER}" }
            """,
            Map.of(
                "ADMIN_TOKEN", TOKEN,
                "NOW", now.uri("/now").toString(),
                "LATER", later.uri("/later").toString()),
            clock);
    String eventId = post("c-1", null, null);
    await().atMost(Duration.ofSeconds(5)).until(() -> now.requests().size() == 1);

    JsonNode scheduled = delivery(eventId, "two-minutes-on");
    assertThat(scheduled.path("state").asText()).isEqualTo("pending");
    assertThat(Instant.parse(scheduled.path("scheduledFor").asText()))
        .isEqualTo(START.plus(Duration.ofMinutes(2)));
    assertThat(delivery(eventId, "at-once").path("state").asText()).isEqualTo("delivered");

    clock.advance(Duration.ofSeconds(119));
    post("c-2", null, null); // the dispatcher is running: the route without delay delivers it
    await().atMost(Duration.ofSeconds(5)).until(() -> now.requests().size() == 2);
    await("nothing before its time")
        .during(Duration.ofMillis(400))
        .atMost(Duration.ofSeconds(2))
        .until(() -> later.requests().isEmpty());

    clock.advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(5)).until(() -> later.requests().size() == 1);
    assertThat(later.requests().get(0).bodyText()).contains("\"c-1\"");
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> {
              JsonNode sent = delivery(eventId, "two-minutes-on");
              assertThat(sent.path("state").asText()).isEqualTo("delivered");
              assertThat(sent.path("scheduledFor").isNull()).isTrue();
            });
    // c-2 arrived 119 s later than c-1: its own two minutes are not over
    assertThat(later.requests()).hasSize(1);
  }

  @Test
  void eventsShuffledWithinTheReorderWindowAreSentInEventTimeOrder() throws Exception {
    shuffledUpdates(null);
  }

  /** The same on PostgreSQL, where claims are the store's (cluster mode). */
  @Test
  void eventsShuffledWithinTheReorderWindowAreSentInEventTimeOrderOnPostgres() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.start()) {
      pg.createDatabase("timing");
      shuffledUpdates(pg);
    }
  }

  private void shuffledUpdates(EmbeddedPostgres pg) throws Exception {
    String yaml =
        """
            admin: { token: "${ADMIN_TOKEN}" }
            sources:
              calls:
                verify: { scheme: none }
                idempotency: { key: interactionId }
                partition_key: conversationId
                event_time: at
            routes:
              ordered:
                from: calls
                to: crm-later
                ordering: per-key
                reorder_window: 5s
              no-window: { from: calls, to: crm-now, ordering: per-key }
            destinations:
              crm-later: { type: http, url: "${LATER}" }
              crm-now: { type: http, url: "${NOW}" }
            """;
    Map<String, String> env =
        Map.of(
            "ADMIN_TOKEN", TOKEN,
            "NOW", now.uri("/now").toString(),
            "LATER", later.uri("/later").toString());
    gw =
        pg == null
            ? GatewayFixture.start(dir, yaml, env, clock)
            : GatewayFixture.startOnPostgres(
                dir,
                pg.jdbcUrl("timing"),
                EmbeddedPostgres.USER,
                EmbeddedPostgres.PASSWORD,
                yaml,
                env,
                clock);
    // five updates of one conversation, received one second apart, in this order of event time
    int[] order = {3, 1, 5, 2, 4};
    List<String> ids = new ArrayList<>();
    for (int minute : order) {
      String id = post("u-" + minute, "conv-1", "2026-11-02T08:5" + minute + ":00Z");
      ids.add(id);
      // the route without a window decides each update as it comes
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> !delivery(id, "no-window").path("state").asText().equals("pending"));
      clock.advance(Duration.ofSeconds(1));
    }
    Map<String, String> withoutWindow = new java.util.TreeMap<>();
    for (int i = 0; i < order.length; i++) {
      withoutWindow.put("u-" + order[i], delivery(ids.get(i), "no-window").path("state").asText());
    }
    assertThat(withoutWindow)
        .as("without a window, what arrives after a newer update is skipped as stale")
        .containsEntry("u-3", "delivered")
        .containsEntry("u-5", "delivered")
        .containsEntry("u-1", "skipped")
        .containsEntry("u-2", "skipped")
        .containsEntry("u-4", "skipped");
    // received at +0 … +4 s: the first is due at +5 s; until then nothing goes
    await("nothing inside the window")
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> later.requests().isEmpty());
    for (int second = 5; second <= 10; second++) {
      clock.set(START.plusSeconds(second));
      int expected = Math.min(5, Math.max(0, delivered(second)));
      await("the deliveries due at +" + second + " s")
          .atMost(Duration.ofSeconds(5))
          .until(() -> later.requests().size() >= expected);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> later.requests().size() == 5);
    List<String> sent = new ArrayList<>();
    for (FakeDestination.Request r : later.requests()) {
      sent.add(JSON.readTree(r.bodyText()).path("interactionId").asText());
    }
    assertThat(sent).containsExactly("u-1", "u-2", "u-3", "u-4", "u-5");
    for (String id : ids) {
      assertThat(delivery(id, "ordered").path("state").asText()).isEqualTo("delivered");
    }
    gw.close();
    gw = null;
  }

  /**
   * How many of the shuffled updates can have gone by {@code +second}: each waits for its own
   * window and for every earlier update of the key (u-1 is due at +6 s, u-2 at +8 s, u-4 at +9 s).
   */
  private static int delivered(int second) {
    return second < 6 ? 0 : second < 8 ? 1 : second < 9 ? 3 : 5;
  }

  @Test
  void aDelayedDeliverySurvivesSigkillAndGoesOutAtItsTime() throws Exception {
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
          later: { from: dispositions, to: crm, delay: 4s }
        destinations:
          crm: { type: http, url: "%s" }
        """
            .formatted(dir.resolve("sb.db"), later.uri("/later")));
    String secret = "timing-secret";
    int port = ChildGateway.freePort();
    try (HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      Process first = ChildGateway.start(dir, config, port, secret, "first");
      Instant acked;
      try {
        ChildGateway.awaitReady(client, port);
        HttpResponse<String> r =
            ChildGateway.postSigned(
                client,
                port,
                "dispositions",
                secret,
                "{\"interactionId\":\"k-1\"}".getBytes(StandardCharsets.UTF_8));
        acked = Instant.now();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      } finally {
        first.destroyForcibly(); // SIGKILL before the delivery is due
        first.waitFor();
      }
      assertThat(later.requests()).as("sent before its time").isEmpty();
      Process second = ChildGateway.start(dir, config, port, secret, "second");
      try {
        ChildGateway.awaitReady(client, port);
        await("the delayed delivery after the restart (" + dir + ")")
            .atMost(Duration.ofSeconds(30))
            .until(() -> later.requests().size() == 1);
        FakeDestination.Request sent = later.requests().get(0);
        assertThat(sent.arrivedAt())
            .as("not before four seconds after the ack")
            .isAfterOrEqualTo(acked.plusSeconds(4).minusMillis(1_000));
        assertThat(sent.bodyText()).contains("k-1");
        await()
            .during(Duration.ofMillis(500))
            .atMost(Duration.ofSeconds(2))
            .until(() -> later.requests().size() == 1);
      } finally {
        second.destroy();
        second.waitFor();
      }
    }
  }

  private String post(String interactionId, String conversationId, String at) throws Exception {
    String body =
        conversationId == null
            ? "{\"interactionId\":\"%s\"}".formatted(interactionId)
            : "{\"interactionId\":\"%s\",\"conversationId\":\"%s\",\"at\":\"%s\"}"
                .formatted(interactionId, conversationId, at);
    HttpResponse<String> r =
        gw.post("calls", GatewayFixture.utf8(body), Map.of("Content-Type", "application/json"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  private JsonNode delivery(String eventId, String route) throws Exception {
    HttpResponse<String> r =
        gw.send(
            java.net.http.HttpRequest.newBuilder(gw.uri("/api/v1/events/" + eventId))
                .header("Authorization", "Bearer " + TOKEN)
                .build());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    for (JsonNode d : JSON.readTree(r.body()).path("deliveries")) {
      if (d.path("route").asText().equals(route)) {
        return d;
      }
    }
    throw new AssertionError("no delivery on route " + route + " in " + r.body());
  }
}
