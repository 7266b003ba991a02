package dev.switchboard.store;

import dev.switchboard.domain.EventId;

/** The result of storing one event: committed and synced, or absorbed as a duplicate. */
public sealed interface IngestOutcome {
  EventId eventId();

  /** Committed and synced with its deliveries. */
  record Accepted(EventId eventId) implements IngestOutcome {}

  /** The key was seen within its TTL; {@code eventId} is the first event's id. */
  record Duplicate(EventId eventId) implements IngestOutcome {}
}
