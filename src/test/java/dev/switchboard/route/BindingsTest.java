package dev.switchboard.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.EventId;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BindingsTest {
  static final Instant RECEIVED = Instant.parse("2026-03-01T10:15:30.123456Z");
  static final Instant EVENT_TIME = Instant.parse("2026-03-01T10:00:00Z");
  static final Map<String, String> HEADERS = Map.of("x-trace", "t-1");

  @Test
  void aSourcesExpressionsSeeTheRequestsHeadersSourceAndReceiveTime() {
    Map<String, Object> b = Bindings.ofRequest("calls", HEADERS, RECEIVED);
    assertThat(b)
        .containsOnly(
            Map.entry("headers", HEADERS),
            Map.entry("source", "calls"),
            Map.entry("receivedAt", "2026-03-01T10:15:30.123456Z"));
  }

  @Test
  void aFilterAtIngestSeesTheEventTimeTooButNoEventIdAndLeavesTheRequestsBindingsAlone() {
    Map<String, Object> request = Bindings.ofRequest("calls", HEADERS, RECEIVED);
    Map<String, Object> b = Bindings.atIngest(request, EVENT_TIME);
    assertThat(b)
        .containsOnly(
            Map.entry("headers", HEADERS),
            Map.entry("source", "calls"),
            Map.entry("receivedAt", "2026-03-01T10:15:30.123456Z"),
            Map.entry("eventTime", "2026-03-01T10:00:00Z"));
    assertThat(request).doesNotContainKey("eventTime");
  }

  @Test
  void atDeliveryExpressionsSeeAllFiveAndTheMapTakesTheEnrichmentsResult() {
    StoredEvent event =
        new StoredEvent(
            "{}",
            HEADERS,
            "calls",
            new EventId("evt_1"),
            EVENT_TIME,
            Instant.parse("2026-03-01T10:15:30.123Z"));
    Map<String, Object> b = event.bindings();
    assertThat(b)
        .containsOnly(
            Map.entry("headers", HEADERS),
            Map.entry("source", "calls"),
            Map.entry("eventId", "evt_1"),
            Map.entry("eventTime", "2026-03-01T10:00:00Z"),
            Map.entry("receivedAt", "2026-03-01T10:15:30.123Z"));
    b.put("details", Map.of());
    assertThat(event.bindings()).doesNotContainKey("details");
  }
}
