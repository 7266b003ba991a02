package dev.switchboard.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.EventSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How records look in the admin API's JSON: camelCase keys in a fixed order, instants as ISO-8601
 * UTC text, nulls kept (a field is always there). Payloads are the stored, redacted ones; headers
 * are the ones ingest kept.
 */
final class Views {
  static final ObjectMapper JSON = new ObjectMapper();

  private Views() {}

  /** An ordered JSON object that keeps nulls. */
  static final class Obj extends LinkedHashMap<String, Object> {
    Obj with(String key, Object value) {
      put(key, value instanceof Instant i ? i.toString() : value);
      return this;
    }
  }

  static Obj obj() {
    return new Obj();
  }

  static String write(Object body) {
    try {
      return JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unwritable admin answer", e);
    }
  }

  static Obj problem(Problem problem, String detail) {
    return obj()
        .with("type", problem.type())
        .with("title", problem.title())
        .with("status", problem.status())
        .with("detail", detail);
  }

  static Obj summary(EventSummary e) {
    return obj()
        .with("id", e.id().value())
        .with("source", e.source())
        .with("status", e.status().dbValue())
        .with("receivedAt", e.receivedAt())
        .with("eventTime", e.eventTime())
        .with("partitionKey", e.partitionKey())
        .with("idempotencyKey", e.idempotencyKey())
        .with("quarantineReason", e.quarantineReason())
        .with("deliveries", stateCounts(e.deliveries()));
  }

  static Obj event(Event e, List<Obj> deliveries) {
    return obj()
        .with("id", e.id().value())
        .with("source", e.source())
        .with("status", e.status().dbValue())
        .with("receivedAt", e.receivedAt())
        .with("eventTime", e.eventTime())
        .with("partitionKey", e.partitionKey())
        .with("idempotencyKey", e.idempotencyKey())
        .with("quarantineReason", e.quarantineReason())
        .with("releasedBy", e.releasedBy())
        .with("releasedAt", e.releasedAt())
        .with("headers", new TreeMap<>(e.headers()))
        .with("payload", payload(e.payload()))
        .with("deliveries", deliveries);
  }

  /** The stored payload as JSON; as text if it somehow is not JSON. */
  static Object payload(String stored) {
    try {
      JsonNode node = JSON.readTree(stored);
      return node == null ? stored : node;
    } catch (JsonProcessingException e) {
      return stored;
    }
  }

  static Obj delivery(DeliveryRecord d) {
    return obj()
        .with("id", d.id().value())
        .with("eventId", d.eventId().value())
        .with("route", d.route())
        .with("destination", d.destination())
        .with("state", d.state().dbValue())
        .with("partitionKey", d.partitionKey())
        .with("eventTime", d.eventTime())
        .with("attemptsInRound", d.attempts())
        .with("nextAttemptAt", d.state().isFinal() ? null : d.nextAttemptAt())
        .with("scheduledFor", scheduledFor(d))
        .with("lastError", d.lastError())
        .with("errorClass", d.errorClass())
        .with("replays", d.replays())
        .with("handledBy", d.handledBy())
        .with("handledAt", d.handledAt())
        .with("createdAt", d.createdAt())
        .with("updatedAt", d.updatedAt());
  }

  /**
   * When a pending delivery that a route's {@code delay} or {@code reorder_window} created for
   * later becomes due (its due time is past its last change; also a pending delivery a held
   * destination put off); null for any other.
   */
  private static Instant scheduledFor(DeliveryRecord d) {
    boolean later =
        d.state() == DeliveryState.PENDING
            && d.nextAttemptAt() != null
            && d.updatedAt() != null
            && d.nextAttemptAt().isAfter(d.updatedAt());
    return later ? d.nextAttemptAt() : null;
  }

  static Obj delivery(DeliveryRecord d, List<AttemptRecord> attempts) {
    List<Obj> history = new ArrayList<>();
    for (AttemptRecord a : attempts) {
      history.add(attempt(a));
    }
    return delivery(d).with("attempts", history);
  }

  static Obj attempt(AttemptRecord a) {
    return obj()
        .with("number", a.number())
        .with("startedAt", a.startedAt())
        .with("durationMs", a.duration().toMillis())
        .with("status", a.status())
        .with("outcome", a.outcome())
        .with("error", a.error())
        .with("excerpt", a.excerpt());
  }

  /** Non-zero counts by state name, in the states' order. */
  static Map<String, Number> stateCounts(Map<DeliveryState, ? extends Number> counts) {
    Map<String, Number> out = new LinkedHashMap<>();
    for (DeliveryState s : DeliveryState.values()) {
      Number n = counts.get(s);
      if (n != null && n.longValue() != 0) {
        out.put(s.dbValue(), n);
      }
    }
    return out;
  }
}
