package dev.switchboard.route;

import dev.switchboard.domain.DeliveryState;

/**
 * What a route's filter decided at ingest: the state its delivery is created in, and why when that
 * is final.
 *
 * @param state {@code PENDING} (to deliver, or to be decided at delivery), {@code SKIPPED} (the
 *     filter is false) or {@code DEAD} (the filter failed)
 * @param reason the delivery's error when {@code state} is final, else null
 */
public record Admission(DeliveryState state, String reason) {
  static final Admission PENDING = new Admission(DeliveryState.PENDING, null);
  static final Admission FILTERED = new Admission(DeliveryState.SKIPPED, RoutePlan.FILTERED);

  static Admission filterFailed(String message) {
    return new Admission(DeliveryState.DEAD, "filter failed: " + message);
  }
}
