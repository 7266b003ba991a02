package dev.switchboard.store;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import java.time.Instant;

/** A delivery as operators see it. */
public record DeliveryRecord(
    DeliveryId id,
    EventId eventId,
    String route,
    String destination,
    DeliveryState state,
    String partitionKey,
    Instant eventTime,
    int attempts,
    Instant nextAttemptAt,
    String lastError,
    String errorClass,
    int replays,
    String handledBy,
    Instant handledAt,
    Instant createdAt,
    Instant updatedAt) {}
