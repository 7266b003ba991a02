package dev.switchboard.store;

import dev.switchboard.domain.EventId;
import java.time.Instant;
import java.util.List;

/**
 * What releasing one quarantined event writes, as decided against the running configuration (see
 * {@link EventStore#release}).
 *
 * @param reason null when the event now passes its source's schema; otherwise why it still fails
 * @param routes when it passes: one delivery to create per route from its source, each filter
 *     decided as at ingest; empty otherwise
 * @param by who releases it
 * @param at when: its deliveries are created then, as if the event had just arrived
 * @param payload when it passes: the payload as the source shapes it now (aliases, coercion,
 *     redaction added since it was stored), to store in place of the old one; null to keep it
 */
public record QuarantineRelease(
    EventId event,
    String reason,
    List<NewEvent.RouteTarget> routes,
    String by,
    Instant at,
    String payload) {
  public QuarantineRelease {
    routes = List.copyOf(routes);
  }

  /** A release that keeps the stored payload as it is. */
  public QuarantineRelease(
      EventId event, String reason, List<NewEvent.RouteTarget> routes, String by, Instant at) {
    this(event, reason, routes, by, at, null);
  }

  public boolean passes() {
    return reason == null;
  }
}
