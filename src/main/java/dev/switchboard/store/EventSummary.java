package dev.switchboard.store;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import java.time.Instant;
import java.util.Map;

/**
 * One row of an events search: the event without its payload, and how many of its deliveries are in
 * each state.
 */
public record EventSummary(
    EventId id,
    String source,
    String idempotencyKey,
    Instant eventTime,
    String partitionKey,
    Instant receivedAt,
    EventStatus status,
    String quarantineReason,
    Map<DeliveryState, Integer> deliveries) {

  public EventSummary {
    deliveries = Map.copyOf(deliveries);
  }
}
