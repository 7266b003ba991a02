package dev.switchboard.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.AlertsConfig;
import dev.switchboard.testing.MutableClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The paging policy of {@link Alerts} on a moved clock: dead letters one by one up to the
 * threshold, then one batch a minute; a quiet period that pages once and sums up at its end; a
 * resolution sent at once; a store that refuses keeps the events in order until it takes them.
 */
class AlertsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:05Z"));
  final List<JsonNode> stored = new CopyOnWriteArrayList<>();
  final AtomicInteger refuse = new AtomicInteger();
  Alerts alerts;

  @AfterEach
  void stop() {
    if (alerts != null) {
      alerts.close();
    }
  }

  Alerts start(Map<String, AlertsConfig.Kind> overrides) {
    Map<String, AlertsConfig.Kind> kinds = new java.util.HashMap<>(AlertsConfig.KINDS);
    kinds.putAll(overrides);
    alerts =
        new Alerts(
            new AlertsConfig(kinds),
            clock,
            json -> {
              if (refuse.getAndDecrement() > 0) {
                return 503;
              }
              try {
                stored.add(JSON.readTree(json));
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              return 202;
            });
    return alerts;
  }

  List<JsonNode> of(String type) {
    return stored.stream().filter(e -> e.path("type").asText().equals(type)).toList();
  }

  @Test
  void deadLettersPastTheThresholdAreBatchedOncePerMinute() {
    start(Map.of("delivery.dead", new AlertsConfig.Kind(true, Duration.ZERO, 2)));
    for (int i = 0; i < 7; i++) {
      alerts.deliveryDead(
          "crm", "to-crm", "calls", "dlv_" + i, "evt_" + i, 3, "http_5xx", "http 500");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> of("delivery.dead").size() == 2);
    clock.advance(Duration.ofMinutes(1));
    await().atMost(Duration.ofSeconds(5)).until(() -> of("delivery.dead").size() == 3);
    JsonNode batch = of("delivery.dead").get(2);
    assertThat(batch.path("data").path("batched").asBoolean()).isTrue();
    assertThat(batch.path("data").path("count").asInt()).isEqualTo(5);
    assertThat(batch.path("data").path("deliveryIds"))
        .extracting(JsonNode::asText)
        .containsExactly("dlv_2", "dlv_3", "dlv_4", "dlv_5", "dlv_6");
    assertThat(batch.path("data").path("errorClasses").path("http_5xx").asInt()).isEqualTo(5);
  }

  @Test
  void aDeadLetterOfAnOperationalEventIsNeverAnEvent() {
    start(Map.of());
    alerts.deliveryDead("pager", "ops", "switchboard", "dlv_1", "evt_1", 5, "http_5xx", "x");
    alerts.breakerOpened("pager", clock.instant().plusSeconds(30), "http 500");
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 1);
    assertThat(stored.get(0).path("type").asText()).isEqualTo("destination.breaker_opened");
    assertThat(alerts.suppressedLoops()).isEqualTo(1);
  }

  @Test
  void aFlappingBreakerPagesOnceThenSumsUpAtTheEndOfItsQuietPeriod() {
    start(
        Map.of(
            "destination.breaker_opened", new AlertsConfig.Kind(true, Duration.ofMinutes(10), 0)));
    alerts.breakerOpened("crm", clock.instant().plusSeconds(30), "http 500");
    alerts.breakerClosed("crm");
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 2);
    for (int i = 0; i < 3; i++) {
      clock.advance(Duration.ofMinutes(1));
      alerts.breakerOpened("crm", clock.instant().plusSeconds(30), "http 500");
      clock.advance(Duration.ofSeconds(40));
      alerts.breakerClosed("crm");
    }
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(3))
        .until(() -> stored.size() == 2);
    assertThat(of("destination.breaker_opened")).hasSize(1);
    assertThat(of("destination.breaker_closed")).hasSize(1);

    clock.advance(Duration.ofMinutes(10));
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 3);
    JsonNode summary = stored.get(2);
    assertThat(summary.path("type").asText()).isEqualTo("destination.breaker_closed");
    assertThat(summary.path("data").path("repeats").asInt()).isEqualTo(6);
    assertThat(summary.path("data").path("summary").asBoolean()).isTrue();
  }

  @Test
  void aFailedProbeBeforeRecoveryIsToldWithTheRecoveryNotAsALateAlarm() {
    start(
        Map.of(
            "destination.breaker_opened", new AlertsConfig.Kind(true, Duration.ofMinutes(10), 0)));
    alerts.breakerOpened("crm", clock.instant().plusSeconds(30), "http 500");
    clock.advance(Duration.ofSeconds(31));
    alerts.breakerOpened("crm", clock.instant().plusSeconds(30), "http 500"); // the probe failed
    clock.advance(Duration.ofSeconds(31));
    alerts.breakerClosed("crm");
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 2);
    assertThat(stored.get(1).path("type").asText()).isEqualTo("destination.breaker_closed");
    assertThat(stored.get(1).path("data").path("repeats").asInt()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(11)); // the quiet period ends: nothing is left to sum up
    await()
        .during(Duration.ofMillis(600))
        .atMost(Duration.ofSeconds(3))
        .until(() -> stored.size() == 2);
  }

  @Test
  void aFloodOfRefusalsIsOneSpikeEventNotAQueueOfReports() {
    start(
        Map.of("source.rejections_spike", new AlertsConfig.Kind(true, Duration.ofMinutes(15), 20)));
    for (int i = 0; i < 50_000; i++) {
      alerts.rejected("calls", "signature_rejected");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 1);
    assertThat(stored.get(0).path("type").asText()).isEqualTo("source.rejections_spike");
    assertThat(stored.get(0).path("data").path("count").asInt()).isEqualTo(20);
    assertThat(alerts.dropped()).isZero();
  }

  @Test
  void anExpressionsErrorTextNeverLeavesTheGateway() {
    start(Map.of());
    alerts.deliveryDead(
        "crm",
        "to-crm",
        "calls",
        "dlv_1",
        "evt_1",
        1,
        "transform",
        "transform failed: 'SECRET-42'");
    alerts.deliveryDead("crm", "to-crm", "calls", "dlv_2", "evt_2", 3, "http_5xx", "http 503");
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 2);
    assertThat(stored.get(0).toString()).doesNotContain("SECRET-42");
    assertThat(stored.get(0).path("data").path("error").asText()).startsWith("transform failed");
    assertThat(stored.get(1).path("data").path("error").asText()).isEqualTo("http 503");
  }

  @Test
  void eventsTheStoreRefusesWaitInOrderAndKeepTheirIds() {
    refuse.set(2);
    start(Map.of());
    alerts.held("crm", clock.instant().plusSeconds(60), "http 429 asked for 60s");
    alerts.sourceRefusing("calls", "store_unavailable");
    await().atMost(Duration.ofSeconds(5)).until(() -> refuse.get() == 1); // the first try
    clock.advance(Duration.ofSeconds(2)); // the second try is refused too
    await().atMost(Duration.ofSeconds(5)).until(() -> refuse.get() <= 0);
    assertThat(stored).isEmpty();
    clock.advance(Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 3);
    assertThat(stored)
        .extracting(e -> e.path("type").asText())
        .containsExactly("destination.held", "source.refusing", "store.unwritable");
    alerts.sourceAccepting("calls");
    await().atMost(Duration.ofSeconds(5)).until(() -> stored.size() == 5);
    assertThat(stored.subList(3, 5))
        .extracting(e -> e.path("type").asText())
        .containsExactly("source.refusing.resolved", "store.unwritable.resolved");
    assertThat(stored)
        .allSatisfy(e -> assertThat(e.path("id").asText()).matches("op_[0-9a-f]{24}"));
  }
}
