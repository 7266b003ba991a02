package dev.switchboard.admin;

import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.dispatch.Dispatcher.DestinationStatus;
import dev.switchboard.domain.DeliveryState;
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

  public QueueSampler(DeliveryService deliveries, StatsSeries stats) {
    this.deliveries = deliveries;
    this.stats = stats;
  }

  @Override
  public void run() {
    for (DestinationStatus s : deliveries.destinations()) {
      Map<DeliveryState, Long> open = deliveries.openCounts(s.name());
      stats.queue(s.name(), depth(open), open.get(DeliveryState.DEAD));
    }
  }

  /** Deliveries still to be attempted or in flight (dead letters are not queue depth). */
  static long depth(Map<DeliveryState, Long> open) {
    return open.get(DeliveryState.PENDING)
        + open.get(DeliveryState.IN_FLIGHT)
        + open.get(DeliveryState.RETRY_SCHEDULED);
  }
}
