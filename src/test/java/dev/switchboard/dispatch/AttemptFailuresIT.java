package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever throws during an attempt — the enrichment lookup, a filter or transform at evaluation,
 * the connector's send — the attempt ends as a recorded attempt with an error class, so the
 * destination's retry limits and the dead-letter queue apply; nothing is released without an
 * attempt and reclaimed after every lease. A real gateway on SQLite, the event posted over HTTP;
 * the enricher and the connectors are test doubles swapped in through the dispatcher's reload.
 */
class AttemptFailuresIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_ATTEMPTS = 3;

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  final AtomicInteger sends = new AtomicInteger();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
  }

  /** A connector with a bug: every send throws. */
  final class ThrowingDestination implements Destination {
    private final String name;

    ThrowingDestination(String name) {
      this.name = name;
    }

    @Override
    public DeliveryResult send(OutboundDelivery delivery) {
      sends.incrementAndGet();
      throw new IllegalStateException("connector bug");
    }

    @Override
    public String name() {
      return name;
    }
  }

  /** An enricher that finds {@code {"name": "x"}} for any path, except that one under /throw. */
  static final class TestEnricher implements Enricher {
    @Override
    public Lookup get(String path) {
      if (path.startsWith("/throw/")) {
        throw new IllegalArgumentException("Illegal character in path at index 7: " + path);
      }
      return new Lookup.Found(Map.of("name", "x"));
    }

    @Override
    public String name() {
      return "genesys";
    }
  }

  void start() throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId }
            partition_key: interactionId
        enrichers:
          genesys:
            type: genesys-cloud
            login_url: http://127.0.0.1:9/
            api_url: http://127.0.0.1:9/
            client_id: c
            client_secret: s
        routes:
          enrich-throws:
            from: calls
            to: d-enrich
            enrich: { using: genesys, get: "'/throw/' & interactionId", as: details }
          filter-throws:
            from: calls
            to: d-filter
            enrich: { using: genesys, get: "'/ok/' & interactionId", as: details }
            when: $details.name + 1 = 2
          transform-throws:
            from: calls
            to: d-transform
            transform: '{ "n": interactionId + 1 }'
          send-throws:
            from: calls
            to: d-send
        destinations:
          d-enrich: { type: http, url: "${CRM}", retry: &r { initial: 1s, max_delay: 1s, max_attempts: 3 } }
          d-filter: { type: http, url: "${CRM}", retry: *r }
          d-transform: { type: http, url: "${CRM}", retry: *r }
          d-send: { type: http, url: "${CRM}", retry: *r }
        """;
    gw = GatewayFixture.start(dir, yaml, Map.of("CRM", crm.uri("/in").toString()), clock);
    SwitchboardConfig config = gw.gateway().config();
    Map<String, Destination> connectors =
        Map.of(
            "d-enrich", new ThrowingDestination("d-enrich"),
            "d-filter", new ThrowingDestination("d-filter"),
            "d-transform", new ThrowingDestination("d-transform"),
            "d-send", new ThrowingDestination("d-send"));
    gw.gateway()
        .dispatcher()
        .reconfigure(
            config.routes(),
            config.destinations(),
            connectors,
            Map.of(),
            Map.of("genesys", new TestEnricher()));
  }

  DeliveryRecord of(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  List<AttemptRecord> attempts(String eventId, String route) {
    return gw.gateway().deliveries().attempts(of(eventId, route).id());
  }

  @Test
  void whateverThrowsInAnAttemptEndsAsARecordedAttemptAndDeadLettersWithinMaxAttempts()
      throws Exception {
    start();
    HttpResponse<String> r =
        gw.post(
            "calls", GatewayFixture.utf8("{\"interactionId\":\"i-1\",\"x\":\"a b'c\"}"), Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    String eventId = JSON.readTree(r.body()).path("eventId").asText();
    List<String> routes =
        List.of("enrich-throws", "filter-throws", "transform-throws", "send-throws");

    // retries are due on the gateway's clock: move it on while waiting for every dead letter
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              clock.advance(Duration.ofSeconds(2));
              return routes.stream().allMatch(rt -> of(eventId, rt).state() == DeliveryState.DEAD);
            });

    // an unexpected exception is retried like any failure, and dead-lettered at max_attempts
    for (String route : List.of("enrich-throws", "send-throws")) {
      List<AttemptRecord> tries = attempts(eventId, route);
      assertThat(tries).as(route).hasSize(MAX_ATTEMPTS);
      assertThat(tries)
          .as(route)
          .extracting(AttemptRecord::outcome)
          .containsExactly("retry", "retry", "dead");
      assertThat(of(eventId, route).attempts()).as(route).isEqualTo(MAX_ATTEMPTS);
    }
    assertThat(attempts(eventId, "enrich-throws"))
        .allSatisfy(
            a ->
                assertThat(a.error())
                    .isEqualTo("internal error in enrich: IllegalArgumentException"));
    assertThat(of(eventId, "enrich-throws").errorClass()).isEqualTo("internal");
    assertThat(attempts(eventId, "send-throws"))
        .allSatisfy(a -> assertThat(a.error()).isEqualTo("connector error: IllegalStateException"));
    assertThat(of(eventId, "send-throws").errorClass()).isEqualTo("error");
    assertThat(sends.get()).isEqualTo(MAX_ATTEMPTS);

    // an expression that fails at evaluation fails the same way every time: dead at once, recorded
    for (String route : List.of("filter-throws", "transform-throws")) {
      String step = route.substring(0, route.indexOf('-'));
      assertThat(attempts(eventId, route))
          .as(route)
          .singleElement()
          .satisfies(
              a -> {
                assertThat(a.outcome()).isEqualTo("dead");
                assertThat(a.error()).startsWith(step + " failed:");
              });
      assertThat(of(eventId, route).errorClass()).as(route).isEqualTo(step);
    }
    assertThat(crm.requests()).isEmpty();
  }
}
