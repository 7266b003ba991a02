package dev.switchboard.alerts;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.AlertsConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * {@code delivery.dead}: one event per dead letter up to the kind's {@code threshold} a minute per
 * destination, the rest of the minute as one batched event when it ends. Worker thread only.
 */
final class DeadLetters {
  private static final int MAX_BATCH_IDS = 20;

  /** The classes whose error text the route's own expressions made: it may quote the payload. */
  private static final Set<String> OWN_STEPS =
      Set.of("transform", "filter", "enrich", "when_enriched", "prepare", "config");

  /** A destination's dead letters in the current minute. */
  private static final class Minute {
    final Instant start;
    int sent;
    int batched;
    final List<String> ids = new ArrayList<>();
    final Map<String, Integer> routes = new LinkedHashMap<>();
    final Map<String, Integer> errorClasses = new LinkedHashMap<>();

    Minute(Instant start) {
      this.start = start;
    }
  }

  private final Supplier<AlertsConfig> config;
  private final Outbox outbox;
  private final Map<String, Minute> minutes = new HashMap<>();

  /** Makes this process's batch ids its own: two nodes batching one minute make two events. */
  private final String nonce = UUID.randomUUID().toString();

  DeadLetters(Supplier<AlertsConfig> config, Outbox outbox) {
    this.config = config;
    this.outbox = outbox;
  }

  void dead(
      Instant now,
      String destination,
      String route,
      String source,
      String deliveryId,
      String eventId,
      int attempts,
      String errorClass,
      String error) {
    AlertsConfig.Kind kind = config.get().kind("delivery.dead");
    if (!kind.enabled()) {
      return;
    }
    Instant start = now.truncatedTo(ChronoUnit.MINUTES);
    Minute m = minutes.get(destination);
    if (m != null && !m.start.equals(start)) {
      flush(destination, m, now);
      m = null;
    }
    if (m == null) {
      m = new Minute(start);
      minutes.put(destination, m);
    }
    if (m.sent < Math.max(1, kind.threshold())) {
      m.sent++;
      ObjectNode subject = Outbox.destination(destination).put("route", route);
      if (source != null) {
        subject.put("source", source);
      }
      String text = shareable(errorClass, error);
      ObjectNode data =
          Outbox.data(
              "deliveryId", deliveryId,
              "eventId", eventId,
              "attempts", attempts,
              "errorClass", errorClass,
              "error", text);
      String summary =
          "Delivery "
              + deliveryId
              + " to "
              + destination
              + " is a dead letter after "
              + attempts
              + " attempt(s): "
              + (text == null ? errorClass : text);
      outbox.send(
          Outbox.event(
              "delivery.dead", "error", subject, now, data, summary, "/ui/#/events/" + eventId),
          "delivery.dead|" + deliveryId + "|" + attempts,
          now);
      return;
    }
    m.batched++;
    if (m.ids.size() < MAX_BATCH_IDS) {
      m.ids.add(deliveryId);
    }
    m.routes.merge(route, 1, Integer::sum);
    m.errorClasses.merge(errorClass == null ? "unknown" : errorClass, 1, Integer::sum);
  }

  /** The minutes that are over become their batched events. */
  void flush(Instant now) {
    Instant start = now.truncatedTo(ChronoUnit.MINUTES);
    for (Iterator<Map.Entry<String, Minute>> it = minutes.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Minute> entry = it.next();
      if (!entry.getValue().start.equals(start)) {
        flush(entry.getKey(), entry.getValue(), now);
        it.remove();
      }
    }
  }

  private void flush(String destination, Minute m, Instant now) {
    if (m.batched == 0) {
      return;
    }
    Instant end = m.start.plus(Duration.ofMinutes(1));
    ObjectNode data =
        Outbox.data("count", m.batched, "from", m.start, "to", end).put("batched", true);
    data.set("deliveryIds", Outbox.JSON.valueToTree(m.ids));
    data.set("routes", Outbox.JSON.valueToTree(m.routes));
    data.set("errorClasses", Outbox.JSON.valueToTree(m.errorClasses));
    String summary =
        m.batched
            + " more deliveries to "
            + destination
            + " became dead letters in the minute from "
            + m.start;
    outbox.send(
        Outbox.event(
            "delivery.dead",
            "error",
            Outbox.destination(destination),
            end,
            data,
            summary,
            "/ui/#/dead-letters"),
        "delivery.dead|" + destination + "|" + m.start.toEpochMilli() + "|" + nonce,
        now);
  }

  /**
   * An error text fit to leave the gateway (Slack, a pager): an answer's status and class, never
   * what an expression said about the payload (docs/operational-events.md).
   */
  static String shareable(String errorClass, String error) {
    if (error == null) {
      return null;
    }
    if (errorClass != null && OWN_STEPS.contains(errorClass)) {
      return errorClass + " failed (the error is on the delivery's page)";
    }
    return error.length() > 300 ? error.substring(0, 300) + "…" : error;
  }
}
