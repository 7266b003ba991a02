package dev.switchboard.domain;

/**
 * Where a delivery is in its life. The allowed moves are enforced by the dispatcher; see
 * docs/delivery-states.md. Ingest only ever creates deliveries in {@link #PENDING}.
 */
public enum DeliveryState {
  PENDING,
  IN_FLIGHT,
  RETRY_SCHEDULED,
  DELIVERED,
  DEAD,
  SKIPPED;

  public String dbValue() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
