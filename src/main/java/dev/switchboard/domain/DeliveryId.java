package dev.switchboard.domain;

import java.time.Instant;
import java.util.Objects;

/** The gateway's id for one delivery: one event on one route. */
public record DeliveryId(String value) {
  public DeliveryId {
    Objects.requireNonNull(value, "value");
  }

  public static DeliveryId generate(Instant now) {
    return new DeliveryId("dlv_" + EventId.timeOrdered(now));
  }

  @Override
  public String toString() {
    return value;
  }
}
