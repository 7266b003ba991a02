package dev.switchboard.route;

import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import java.time.Instant;
import java.util.Map;

/**
 * An event as a route sees it at delivery: the stored (redacted) payload and what its expressions
 * are bound to. The dispatcher makes one from a claimed delivery, the operator's preview from the
 * stored event.
 *
 * @param payload the stored JSON text
 * @param headers the headers the source kept, lower-case names
 */
public record StoredEvent(
    String payload,
    Map<String, String> headers,
    String source,
    EventId eventId,
    Instant eventTime,
    Instant receivedAt) {

  public static StoredEvent of(Event event) {
    return new StoredEvent(
        event.payload(),
        event.headers(),
        event.source(),
        event.id(),
        event.eventTime(),
        event.receivedAt());
  }

  /** A fresh mutable map each call: see {@link Bindings#atDelivery}. */
  public Map<String, Object> bindings() {
    return Bindings.atDelivery(headers, source, eventId, eventTime, receivedAt);
  }
}
