package dev.switchboard.store;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What ingest hands the store: a verified, redacted event and the routes it starts deliveries on.
 *
 * @param idempotencyKey null when the source does not de-duplicate
 * @param keyExpiresAt when the key may be reused; null when there is no key
 * @param routes one delivery to create per route from the source; empty for a quarantined event
 */
public record NewEvent(
    String source,
    String idempotencyKey,
    Instant keyExpiresAt,
    Instant eventTime,
    String partitionKey,
    Instant receivedAt,
    String payload,
    Map<String, String> headers,
    EventStatus status,
    String quarantineReason,
    List<RouteTarget> routes) {

  /** What this event holds on the heap while it waits to be written ({@link HeldBytes}). */
  public long heldBytes() {
    return HeldBytes.of(payload, headers);
  }

  /**
   * One delivery to create. Ingest evaluates a route's filter before storing, so a delivery that
   * does not match is created {@code skipped} in the same transaction, and one whose filter fails
   * is created {@code dead} with the expression error.
   *
   * @param reason why it was created final, or null for pending
   * @param hold how long after the event's receipt a pending delivery becomes due (the route's
   *     {@code delay} or {@code reorder_window}); zero for at once
   */
  public record RouteTarget(
      String route, String destination, DeliveryState state, String reason, Duration hold) {
    public RouteTarget {
      hold = hold == null ? Duration.ZERO : hold;
    }

    public RouteTarget(String route, String destination, DeliveryState state, String reason) {
      this(route, destination, state, reason, Duration.ZERO);
    }

    public RouteTarget(String route, String destination) {
      this(route, destination, DeliveryState.PENDING, null);
    }

    /** Whether it is created pending but not due yet. */
    public boolean scheduled() {
      return state == DeliveryState.PENDING && !hold.isZero();
    }
  }
}
