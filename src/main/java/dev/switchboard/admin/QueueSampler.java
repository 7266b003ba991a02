package dev.switchboard.admin;

import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.dispatch.DestinationStatus;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.observability.StatsSeries;
import java.util.Map;

/**
 * Puts every destination's queue depth and dead-letter count into the stats series' current step.
 * The composition root runs it every step; the stats endpoint runs it when the current step has no
 * sample yet. Each destination costs one indexed count of its unfinished rows and dead letters.
 */
public final class QueueSampler implements Runnable {
  private final DeliveryService deliveries;
  private final StatsSeries stats;
  private final GatewayMetrics metrics;

  public QueueSampler(DeliveryService deliveries, GatewayMetrics metrics) {
    this.deliveries = deliveries;
    this.stats = metrics.stats();
    this.metrics = metrics;
  }

  /** Also sets each destination's gauges (queue depth, dead letters, breaker, pause, hold). */
  @Override
  public void run() {
    for (DestinationStatus s : deliveries.destinations()) {
      Map<DeliveryState, Long> open = deliveries.openCounts(s.name());
      long depth = depth(open);
      long dead = open.get(DeliveryState.DEAD);
      stats.queue(s.name(), depth, dead);
      metrics.destination(s.name(), depth, dead, s.breaker(), s.paused(), s.pausedUntil() != null);
    }
  }

  /** Deliveries still to be attempted or in flight (dead letters are not queue depth). */
  static long depth(Map<DeliveryState, Long> open) {
    return open.get(DeliveryState.PENDING)
        + open.get(DeliveryState.IN_FLIGHT)
        + open.get(DeliveryState.RETRY_SCHEDULED);
  }
}
