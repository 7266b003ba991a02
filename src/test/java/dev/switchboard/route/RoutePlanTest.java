package dev.switchboard.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.expr.Expression;
import dev.switchboard.expr.ExpressionException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoutePlanTest {
  static final Instant RECEIVED = Instant.parse("2026-03-01T10:15:30.123Z");
  static final Instant EVENT_TIME = Instant.parse("2026-03-01T10:00:00Z");
  static final RouteConfig.Enrich DETAILS =
      new RouteConfig.Enrich("genesys", EnrichPath.template("/calls/{id}"), "details");

  static RoutePlan plan(String when, String transform, RouteConfig.Enrich enrich) {
    return new RoutePlan(
        new RouteConfig(
            "to-crm",
            "calls",
            when == null ? null : Expression.compile(when),
            transform == null ? null : Expression.compile(transform),
            "crm",
            RouteConfig.Ordering.NONE,
            RouteConfig.Stale.DELIVER,
            RouteConfig.OnDead.CONTINUE,
            enrich));
  }

  static StoredEvent stored(String payload) {
    return new StoredEvent(
        payload, Map.of("x-trace", "t-1"), "calls", new EventId("evt_1"), EVENT_TIME, RECEIVED);
  }

  static Map<String, Object> atIngest() {
    return Bindings.atIngest(
        Bindings.ofRequest("calls", Map.of("x-queue", "vip"), RECEIVED), EVENT_TIME);
  }

  static String text(byte[] body) {
    return new String(body, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- the filter at ingest

  @Test
  void aRouteWithoutFilterIsPendingAtIngest() {
    RoutePlan p = plan(null, null, null);
    assertThat(p.filtersAtIngest()).isFalse();
    assertThat(p.admitAtIngest(Map.of(), null))
        .isEqualTo(new Admission(DeliveryState.PENDING, null));
  }

  @Test
  void aFilterAtIngestAdmitsOrSkipsOnTheBodyAndTheBindings() {
    RoutePlan p = plan("code = \"RESOLVED\" and $headers.`x-queue` = \"vip\"", null, null);
    assertThat(p.filtersAtIngest()).isTrue();
    assertThat(p.admitAtIngest(Map.of("code", "RESOLVED"), atIngest()))
        .isEqualTo(new Admission(DeliveryState.PENDING, null));
    assertThat(p.admitAtIngest(Map.of("code", "PENDING"), atIngest()))
        .isEqualTo(new Admission(DeliveryState.SKIPPED, "filtered: when is false"));
    assertThat(
            plan("$eventTime = \"2026-03-01T10:00:00Z\"", null, null)
                .admitAtIngest(Map.of(), atIngest())
                .state())
        .isEqualTo(DeliveryState.PENDING);
  }

  @Test
  void aFilterThatFailsAtIngestMakesTheDeliveryDeadWithTheExpressionsError() {
    Admission a = plan("note + 1 = 2", null, null).admitAtIngest(Map.of("note", "x"), atIngest());
    assertThat(a.state()).isEqualTo(DeliveryState.DEAD);
    assertThat(a.reason()).startsWith("filter failed: ");
  }

  @Test
  void aFilterThatReadsTheEnrichmentIsDecidedAtDeliveryNotAtIngest() {
    RoutePlan p = plan("$details.direction = \"outbound\"", null, DETAILS);
    assertThat(p.filtersAtIngest()).isFalse();
    assertThat(p.admitAtIngest(Map.of(), null).state()).isEqualTo(DeliveryState.PENDING);
    Map<String, Object> b = stored("{}").bindings();
    b.put("details", Map.of("direction", "outbound"));
    assertThat(p.admitsAfterEnrichment(Map.of(), b)).isTrue();
    b.put("details", Map.of("direction", "inbound"));
    assertThat(p.admitsAfterEnrichment(Map.of(), b)).isFalse();
    assertThatThrownBy(
            () ->
                plan("$details.n + 1 = 2", null, DETAILS)
                    .admitsAfterEnrichment(Map.of(), Map.of("details", Map.of("n", "x"))))
        .isInstanceOf(ExpressionException.class);
  }

  @Test
  void aFilterDecidedAtIngestIsNotDecidedAgainAfterTheEnrichment() {
    RoutePlan p = plan("code = \"RESOLVED\"", null, DETAILS);
    assertThat(p.filtersAtIngest()).isTrue();
    assertThat(p.admitsAfterEnrichment(Map.of("code", "PENDING"), new HashMap<>())).isTrue();
    assertThat(plan(null, null, DETAILS).admitsAfterEnrichment(Map.of(), Map.of())).isTrue();
  }

  // ---------------------------------------------------------------- the body

  @Test
  void withoutTransformTheStoredPayloadIsSentAsItIsEvenWhenItIsNotJson() {
    assertThat(text(plan(null, null, null).body(stored("{ \"a\" : 1 }"))))
        .isEqualTo("{ \"a\" : 1 }");
    assertThat(text(plan(null, null, null).body(stored("not json")))).isEqualTo("not json");
    assertThat(text(plan(null, null, DETAILS).transform("{ \"a\":1}", Map.of("a", 1), Map.of())))
        .isEqualTo("{ \"a\":1}");
  }

  @Test
  void aTransformMakesTheBodyFromThePayloadAndTheBindings() {
    RoutePlan p =
        plan(null, "{\"call\": id, \"event\": $eventId, \"trace\": $headers.`x-trace`}", null);
    assertThat(text(p.body(stored("{\"id\":\"i-1\"}"))))
        .isEqualTo("{\"call\":\"i-1\",\"event\":\"evt_1\",\"trace\":\"t-1\"}");
    RoutePlan enriched = plan(null, "{\"call\": id, \"dir\": $details.direction}", DETAILS);
    Map<String, Object> b = stored("{}").bindings();
    b.put("details", Map.of("direction", "outbound"));
    assertThat(text(enriched.transform("{\"id\":\"i-1\"}", Map.of("id", "i-1"), b)))
        .isEqualTo("{\"call\":\"i-1\",\"dir\":\"outbound\"}");
  }

  @Test
  void aPayloadThatIsNotJsonFailsTheTransformAsAnIllegalArgument() {
    assertThatThrownBy(() -> plan(null, "{\"a\": id}", null).body(stored("not json")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the stored payload is not JSON: ");
    assertThatThrownBy(() -> RoutePlan.parsePayload("{"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the stored payload is not JSON: ");
    assertThat(RoutePlan.parsePayload("{\"a\":[1]}")).isEqualTo(Map.of("a", java.util.List.of(1)));
  }

  @Test
  void aTransformThatYieldsNothingFailsAsAnIllegalArgument() {
    assertThatThrownBy(() -> plan(null, "missing", null).body(stored("{\"id\":1}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the transform produced nothing");
  }

  @Test
  void aTransformWhoseResultIsNotJsonFailsAsAnIllegalArgument() {
    // what JSONata makes is always JSON; a value bound beside the payload need not be
    Map<String, Object> bindings = Map.of("lookup", new Object());
    assertThatThrownBy(() -> plan(null, "$lookup", DETAILS).transform("{}", Map.of(), bindings))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the transform's result is not JSON: ");
  }

  @Test
  void aTransformThatFailsToEvaluateThrowsTheExpressionsError() {
    assertThatThrownBy(() -> plan(null, "{\"n\": note + 1}", null).body(stored("{\"note\":\"x\"}")))
        .isInstanceOf(ExpressionException.class);
  }

  // ---------------------------------------------------------------- the operator's preview

  static Event event(String payload) {
    return new Event(
        new EventId("evt_1"),
        "calls",
        null,
        EVENT_TIME,
        null,
        RECEIVED,
        payload,
        Map.of("x-trace", "t-1"),
        EventStatus.ACCEPTED,
        null,
        null,
        null);
  }

  @Test
  void thePreviewShowsTheBodyTheRouteMakesOfTheStoredEvent() {
    assertThat(plan(null, null, null).preview(StoredEvent.of(event("{\"id\":\"i-1\"}"))))
        .isEqualTo(new BodyPreview("{\"id\":\"i-1\"}", null));
    assertThat(
            plan(null, "{\"call\": id, \"at\": $eventTime}", null)
                .preview(StoredEvent.of(event("{\"id\":\"i-1\"}"))))
        .isEqualTo(new BodyPreview("{\"call\":\"i-1\",\"at\":\"2026-03-01T10:00:00Z\"}", null));
  }

  @Test
  void thePreviewSaysWhyThereIsNoBody() {
    assertThat(BodyPreview.routeGone())
        .isEqualTo(new BodyPreview(null, "the route is no longer configured"));
    assertThat(plan(null, "{\"a\": id}", DETAILS).preview(StoredEvent.of(event("{}"))))
        .isEqualTo(new BodyPreview(null, "made at delivery time from the genesys lookup"));
    assertThat(plan(null, "missing", null).preview(StoredEvent.of(event("{}"))))
        .isEqualTo(new BodyPreview(null, "transform failed: the transform produced nothing"));
    BodyPreview notJson = plan(null, "{\"a\": id}", null).preview(StoredEvent.of(event("nope")));
    assertThat(notJson.body()).isNull();
    assertThat(notJson.note()).startsWith("transform failed: the stored payload is not JSON: ");
    BodyPreview failed =
        plan(null, "{\"n\": note + 1}", null).preview(StoredEvent.of(event("{\"note\":\"x\"}")));
    assertThat(failed.note()).startsWith("transform failed: ");
  }
}
