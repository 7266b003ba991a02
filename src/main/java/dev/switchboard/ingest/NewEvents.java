package dev.switchboard.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.expr.ExpressionException;
import dev.switchboard.observability.Tracing;
import dev.switchboard.route.Admission;
import dev.switchboard.route.Bindings;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.NewEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the store is handed for an admitted request: the event (its time, its payload as received or
 * as shaped, the headers its source keeps) and one delivery per route in the state the route's
 * filter decides at ingest. {@link IngestService} decides whether a request is admitted; this
 * builds what it writes, and what a quarantine release writes.
 */
final class NewEvents {
  private NewEvents() {}

  /** A request that passed the checks up to JSON parsing, with what they produced. */
  record Received(
      SourceIntake source,
      String text,
      Object body,
      boolean reshaped,
      Map<String, Object> bindings,
      Map<String, String> headers,
      Instant now) {}

  /**
   * @param traceparent the ingest span's W3C traceparent, stored among the event's headers so that
   *     its attempts join its trace; null when tracing is off
   */
  static NewEvent toEvent(
      Received r, String key, String partitionKey, List<String> violations, String traceparent) {
    SourceConfig config = r.source().config;
    Instant eventTime = r.now();
    if (config.eventTime() != null) {
      Instant parsed = EventTimes.parse(evaluateValue(config.eventTime(), r.body(), r.bindings()));
      eventTime = parsed == null ? r.now() : parsed;
    }
    boolean redacted = r.source().shaper.redact(r.body());
    // an untouched body is stored as the text received (the bytes, less a byte-order mark),
    // sparing a re-serialisation
    String payload = r.reshaped() || redacted ? serialise(r.body()) : r.text();
    boolean quarantined = !violations.isEmpty();
    return new NewEvent(
        config.name(),
        key,
        key == null ? null : r.now().plus(config.idempotency().ttl()),
        eventTime,
        partitionKey,
        r.now(),
        payload,
        keptHeaders(r.source(), r.headers(), traceparent),
        quarantined ? EventStatus.QUARANTINED : EventStatus.ACCEPTED,
        quarantined ? String.join("; ", violations) : null,
        quarantined ? List.of() : targets(r, eventTime));
  }

  /**
   * One delivery per route from the source, each in the state its filter decides at ingest ({@link
   * RoutePlan#admitAtIngest}): skipped or dead ones are written in the event's own transaction.
   */
  private static List<NewEvent.RouteTarget> targets(Received r, Instant eventTime) {
    return targets(r.source().routes, r.body(), r.bindings(), eventTime);
  }

  /**
   * @param request the request's bindings ({@link Bindings#ofRequest}), to which the filters add
   *     the event time
   */
  static List<NewEvent.RouteTarget> targets(
      List<RoutePlan> routes, Object body, Map<String, Object> request, Instant eventTime) {
    List<NewEvent.RouteTarget> targets = new ArrayList<>(routes.size());
    Map<String, Object> bindings = null;
    for (RoutePlan route : routes) {
      if (bindings == null && route.filtersAtIngest()) {
        bindings = Bindings.atIngest(request, eventTime);
      }
      Admission admission = route.admitAtIngest(body, bindings);
      targets.add(
          new NewEvent.RouteTarget(
              route.name(),
              route.to(),
              admission.state(),
              admission.reason(),
              route.route().holdAfterReceipt()));
    }
    return targets;
  }

  private static Map<String, String> keptHeaders(
      SourceIntake source, Map<String, String> headers, String traceparent) {
    Map<String, String> kept = new HashMap<>();
    headers.forEach(
        (name, value) -> {
          if (source.keepsHeader(name)) {
            kept.put(name, value);
          }
        });
    if (traceparent != null) {
      kept.put(Tracing.TRACEPARENT, traceparent); // ours, a child of a sender's if it set one
    }
    return kept;
  }

  private static Object evaluateValue(
      dev.switchboard.expr.Expression expression, Object body, Map<String, Object> bindings) {
    try {
      return expression.evaluate(body, bindings);
    } catch (ExpressionException e) {
      return null;
    }
  }

  static String serialise(Object body) {
    try {
      return new String(
          JsonBody.MAPPER.writeValueAsBytes(body), java.nio.charset.StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed body must serialise", e);
    }
  }
}
