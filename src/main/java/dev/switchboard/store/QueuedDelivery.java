package dev.switchboard.store;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import java.time.Instant;
import java.util.Map;

/**
 * A delivery waiting to be attempted, with what an attempt needs of its event, as the store hands
 * it to the dispatcher (right after ingest commits it, or from a scan of the queue).
 *
 * @param seq arrival order, assigned by the store; breaks ties in event time
 * @param attempts attempts spent in the current round (since creation or the last replay)
 * @param firstAttemptAt start of the current round, or null before its first claim
 */
public record QueuedDelivery(
    DeliveryId id,
    EventId eventId,
    String source,
    String route,
    String destination,
    String partitionKey,
    Instant eventTime,
    Instant receivedAt,
    long seq,
    DeliveryState state,
    int attempts,
    Instant firstAttemptAt,
    Instant nextAttemptAt,
    String payload,
    Map<String, String> headers) {

  /** What this delivery holds on the heap while it waits in memory ({@link HeldBytes}). */
  public long heldBytes() {
    return HeldBytes.of(payload, headers);
  }
}
