package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole gateway on the real clock sending to an {@code http} destination with a preset: the
 * preset's documented rate applies when the configuration writes none, and a written {@code
 * rate_limit} replaces it. Counted at the receiving end, over real HTTP.
 */
class HttpPresetLimitsIT {
  static final int EVENTS = 150;

  @TempDir Path dir;
  final FakeDestination zap = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    zap.close();
  }

  void start(String destinationExtras) throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
        routes:
          to-zap:
            from: calls
            to: zap
        destinations:
          zap:
            type: http
            url: ${ZAP}
            preset: zapier
        """
            + destinationExtras;
    gw =
        GatewayFixture.start(
            dir,
            "",
            "",
            yaml,
            Map.of("ZAP", zap.uri("/hooks/catch/1/abc/").toString()),
            Clock.systemUTC());
  }

  /**
   * One event first, so that the first of the 150 do not wait on cold code and a new connection and
   * then arrive together; then all of them stored while the destination is paused, and resumed: the
   * dispatcher has the whole backlog at once, and ingest does not compete with the sends.
   */
  void postEvents() throws Exception {
    assertThat(gw.post("calls", GatewayFixture.utf8("{\"warm\":true}"), Map.of()).statusCode())
        .isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> zap.requests().size() == 1);
    gw.gateway().deliveries().pause("zap", "test");
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        byte[] body = GatewayFixture.utf8("{\"n\":" + i + "}");
        answers.add(pool.submit(() -> gw.post("calls", body, Map.of())));
      }
      for (Future<HttpResponse<String>> answer : answers) {
        assertThat(answer.get().statusCode()).isEqualTo(202);
      }
    }
    gw.gateway().deliveries().resume("zap", "test");
    await().atMost(Duration.ofSeconds(30)).until(() -> zap.requests().size() >= 1 + EVENTS);
  }

  /** The most requests that arrived within any {@code window} (half-open: [t, t + window)). */
  int busiest(Duration window) {
    List<Instant> arrivals =
        zap.requests().stream().map(FakeDestination.Request::arrivedAt).sorted().toList();
    int most = 0;
    int start = 0;
    for (int end = 0; end < arrivals.size(); end++) {
      while (!arrivals.get(start).plus(window).isAfter(arrivals.get(end))) {
        start++;
      }
      most = Math.max(most, end - start + 1);
    }
    return most;
  }

  @Test
  void theZapierPresetKeepsToThirtyRequestsASecondWithoutARateLimit() throws Exception {
    start("");

    postEvents();

    assertThat(zap.requests()).hasSize(1 + EVENTS);
    // The dispatcher spaces the sends 1/30 s apart; on a loaded test machine one request can reach
    // the receiver up to ~100 ms late and the next on time, so the count is taken over 900 ms
    // windows (27 sends when spaced exactly) to leave the receiver's scheduling out of it. Without
    // the preset's rate all 150 arrive within one such window.
    assertThat(busiest(Duration.ofMillis(900))).isLessThanOrEqualTo(30);
    Duration spread =
        Duration.between(zap.requests().get(1).arrivedAt(), zap.requests().get(EVENTS).arrivedAt());
    assertThat(spread).isGreaterThan(Duration.ofMillis(4_500)); // 149 gaps of 1/30 s: 4.97 s
  }

  @Test
  void aWrittenRateLimitReplacesTheZapierPresetsRate() throws Exception {
    start("    rate_limit: 100/second\n");

    postEvents();

    assertThat(zap.requests()).hasSize(1 + EVENTS);
    assertThat(busiest(Duration.ofSeconds(1))).isGreaterThan(30);
  }
}
