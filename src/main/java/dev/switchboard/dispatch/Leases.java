package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.store.QueuedDelivery;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The claims this process holds: one token per delivery, taken when it was claimed. The heartbeat
 * renews the older ones; an outcome written (or given up) drops its lease; shutdown waits until
 * none is left. Any thread.
 */
final class Leases {
  private record Lease(String token, long claimedNanos) {}

  private final ConcurrentHashMap<DeliveryId, Lease> held = new ConcurrentHashMap<>();
  private final Duration heartbeat;

  /**
   * @param heartbeat how often leases are renewed and expired ones reaped
   */
  Leases(Duration heartbeat) {
    this.heartbeat = heartbeat;
  }

  /** Long enough for the slowest attempt, and for the heartbeat to renew it several times. */
  Duration termFor(DestinationConfig config) {
    return config.timeout().multipliedBy(2).plus(heartbeat.multipliedBy(3));
  }

  void hold(DeliveryId id, String token) {
    held.put(id, new Lease(token, System.nanoTime()));
  }

  void holdAll(Collection<QueuedDelivery> claimed, String token) {
    long nanos = System.nanoTime();
    claimed.forEach(d -> held.put(d.id(), new Lease(token, nanos)));
  }

  /** The token this process claimed {@code id} with, or null when it holds no lease on it. */
  String token(DeliveryId id) {
    Lease lease = held.get(id);
    return lease == null ? null : lease.token();
  }

  void drop(DeliveryId id) {
    held.remove(id);
  }

  /** The tokens of those of {@code deliveries} this process holds. */
  Map<DeliveryId, String> tokensOf(Collection<QueuedDelivery> deliveries) {
    Map<DeliveryId, String> tokens = new LinkedHashMap<>();
    for (QueuedDelivery d : deliveries) {
      Lease lease = held.get(d.id());
      if (lease != null) {
        tokens.put(d.id(), lease.token());
      }
    }
    return tokens;
  }

  /** The leases taken before {@code nanos} ({@link System#nanoTime}), due for renewal. */
  Map<DeliveryId, String> takenBefore(long nanos) {
    Map<DeliveryId, String> old = new LinkedHashMap<>();
    held.forEach(
        (id, lease) -> {
          if (lease.claimedNanos() - nanos < 0) {
            old.put(id, lease.token());
          }
        });
    return old;
  }

  boolean isEmpty() {
    return held.isEmpty();
  }

  int size() {
    return held.size();
  }
}
