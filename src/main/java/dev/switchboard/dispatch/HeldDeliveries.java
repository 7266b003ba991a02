package dev.switchboard.dispatch;

import dev.switchboard.alerts.OperationalEvents;
import dev.switchboard.observability.DeliveryLog;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.DeliveryRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a server hold (a wait a destination asked for, see {@link DestinationLane#holdFor}) does to
 * the stored deliveries of its destination: those it keeps past their {@code max_age} are
 * dead-lettered, and when an operator ends it, the retries that waited for it are due at once.
 * Called on the dispatcher's loop; the store's answers come back to the loop through {@code post},
 * so the lanes are only ever touched there.
 */
final class HeldDeliveries {
  /** Told of the dead letters a hold's end makes; set once the gateway is wired. */
  volatile OperationalEvents ops = OperationalEvents.NONE;

  private static final Logger LOG = LoggerFactory.getLogger(HeldDeliveries.class);

  private final DeliveryQueue queue;
  private final GatewayMetrics metrics;
  private final boolean claims;
  private final Consumer<Runnable> post;

  /** Lanes whose expiry is being written (loop only). */
  private final java.util.Set<DestinationLane> expiring =
      java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

  HeldDeliveries(
      DeliveryQueue queue, GatewayMetrics metrics, boolean claims, Consumer<Runnable> post) {
    this.queue = queue;
    this.metrics = metrics;
    this.claims = claims;
    this.post = post;
  }

  /**
   * A destination that holds its deliveries back must not keep them past their {@code max_age} only
   * because they never got a first attempt, which is where max_age counts from otherwise: those
   * whose max_age ran out during the hold are dead-lettered as expired. Not while an operator
   * paused the destination: a pause keeps its deliveries until it is resumed.
   */
  void expire(Iterable<DestinationLane> lanes, Instant now) {
    for (DestinationLane lane : lanes) {
      if (lane.paused() || expiring.contains(lane) || !lane.held(now)) {
        continue;
      }
      expire(lane, now);
    }
  }

  private void expire(DestinationLane lane, Instant now) {
    Duration maxAge = lane.config().retry().maxAge();
    String error =
        "max_age ("
            + RetryPolicy.compact(maxAge)
            + ") exceeded before a first attempt: the destination held its deliveries ("
            + lane.holdReason()
            + ")";
    expiring.add(lane);
    // a scan that read these rows before the expiry commits must not take them back in: the
    // expiry counts as a scan, and what it moved is noted as finished for the scans in flight
    lane.memory().scanStarted();
    CompletableFuture<List<DeliveryRecord>> expired;
    try {
      // only those whose max_age ran out during this hold: one that ran out before it (waiting
      // behind an operator's pause or an open breaker) is not the hold's to end
      expired =
          queue.expireUnattempted(
              lane.name(),
              now.minus(maxAge),
              lane.heldSince().equals(Instant.MIN) ? Instant.EPOCH : lane.heldSince().minus(maxAge),
              error,
              now);
    } catch (RuntimeException e) {
      expiring.remove(lane);
      lane.memory().scanEnded();
      LOG.warn("could not expire the held deliveries of {}: {}", lane.name(), e.getMessage());
      return;
    }
    expired.whenComplete((moved, e) -> post.accept(() -> expired(lane, moved, e)));
  }

  /** On the loop: the expiry's answer. */
  private void expired(DestinationLane lane, List<DeliveryRecord> moved, Throwable error) {
    expiring.remove(lane);
    if (error != null) {
      LOG.warn("could not expire the held deliveries of {}: {}", lane.name(), error.toString());
    } else if (!moved.isEmpty()) {
      LOG.warn(
          "{} delivery(ies) to {} dead-lettered: max_age passed while the destination held them",
          moved.size(),
          lane.name());
      for (DeliveryRecord d : moved) {
        lane.memory().noteFinished(d.id());
        metrics.deliveryOutcome(lane.name(), "dead");
        DeliveryLog.deadLetter(
            d.eventId().value(), d.id().value(), d.route(), lane.name(), d.attempts(), "max_age");
        ops.deliveryDead(
            lane.name(),
            d.route(),
            null, // the record does not say; an operational event's own is then reported once
            d.id().value(),
            d.eventId().value(),
            d.attempts(),
            "max_age",
            "max_age passed while the destination held it");
      }
      if (!claims) {
        lane.forgetWaiting(lane.memory().perKeyRoutes()); // read in again from the store
      }
    }
    lane.memory().scanEnded();
  }

  /**
   * An operator ended a hold that would have lasted until {@code heldUntil}: its retries are due.
   */
  void endHold(DestinationLane lane, Instant heldUntil, Instant now) {
    try {
      queue
          .endHold(lane.name(), heldUntil, now)
          .whenComplete(
              (n, error) -> {
                if (error != null) {
                  LOG.warn(
                      "could not make the held retries of {} due: {}",
                      lane.name(),
                      error.toString());
                } else if (n > 0) {
                  LOG.info("{} held retry(ies) of {} due now", n, lane.name());
                  if (claims) {
                    post.accept(lane::wantWork); // a single node's poll reads due retries
                  }
                }
              });
    } catch (RuntimeException e) {
      LOG.warn("could not make the held retries of {} due: {}", lane.name(), e.getMessage());
    }
  }
}
