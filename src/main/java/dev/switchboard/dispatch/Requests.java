package dev.switchboard.dispatch;

import dev.switchboard.alerts.OperationalEvents;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's life on its worker: the intake takes hold of the batch, the {@link Attempt} runs,
 * the answer's one signal goes back to the lane on the loop, and each outcome is handed to {@link
 * Outcomes}. Whatever fails on the way leaves the deliveries in the store for later, and gives the
 * lane its slot back.
 */
final class Requests {
  /** Told of a breaker's moves, holds and refused credentials; set once the gateway is wired. */
  volatile OperationalEvents ops = OperationalEvents.NONE;

  private static final Logger LOG = LoggerFactory.getLogger(Requests.class);

  private final Intake intake;
  private final Leases leases;
  private final Outcomes outcomes;
  private final Consumer<Runnable> post;
  private final Clock clock;
  private final Supplier<ClusterLimits> cluster;

  /**
   * @param cluster the limits shared with other nodes, or null on a store of its own
   */
  Requests(
      Intake intake,
      Leases leases,
      Outcomes outcomes,
      Consumer<Runnable> post,
      Clock clock,
      Supplier<ClusterLimits> cluster) {
    this.intake = intake;
    this.leases = leases;
    this.outcomes = outcomes;
    this.post = post;
    this.clock = clock;
    this.cluster = cluster;
  }

  /**
   * Runs on a virtual thread: claims the batch's deliveries, makes at most one request for them
   * all, and reports back to the loop through the mailbox. The batch holds one concurrency slot.
   */
  void run(DestinationLane lane, Attempt attempt, List<QueuedDelivery> batch) {
    List<QueuedDelivery> open = new ArrayList<>(batch); // not yet handed back to the loop
    boolean slotReturned = false;
    try {
      List<Claimed> claimed = intake.claim(lane, batch, open);
      List<Attempted> attempted;
      try {
        attempted = attempt.run(claimed);
      } catch (RuntimeException e) {
        claimed.forEach(c -> leases.drop(c.d().id()));
        throw e;
      }
      slotReturned = true;
      DeliveryResult signal = Verdicts.signal(attempted);
      DeliveryResult refused = refusedCredentials(attempted);
      post.accept(() -> answered(lane, signal, refused));
      for (int i = 0; i < claimed.size(); i++) {
        Claimed c = claimed.get(i);
        open.remove(c.d());
        // the worker does not wait: the outcome's commit (or failure) reports to the loop itself
        outcomes.write(lane, c, attempted.get(i).finish());
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn(
          "{} delivery(ies) to {} not completed, left in the store for later: {}",
          open.size(),
          lane.name(),
          e.toString());
      open.forEach(d -> leases.drop(d.id())); // no heartbeat for what this worker gave up
      boolean returnSlot = !slotReturned;
      post.accept(
          () -> {
            if (returnSlot) {
              lane.noAttempt(cluster.get() != null);
            }
            open.forEach(d -> lane.release(d, false));
            lane.wantWork();
          });
    }
  }

  /** On the loop: what the request's answer means for the lane, shared with a cluster. */
  private void answered(DestinationLane lane, DeliveryResult result, DeliveryResult refused) {
    if (result == null) {
      // no request went out (another node claimed it first): a shared rate keeps its token
      lane.noAttempt(cluster.get() != null);
      return;
    }
    Instant now = clock.instant();
    DestinationLane.Before before = lane.answered(result, now);
    ClusterLimits shared = cluster.get();
    if (shared != null) {
      shared.afterResult(lane, before);
    }
    report(lane, before, now, refused);
  }

  /**
   * The answer that refused the gateway's credentials (401, 403, or a token endpoint refusing the
   * client), or null: read from each delivery's own result, since the request's one signal says
   * only whether the destination is up.
   */
  private static DeliveryResult refusedCredentials(List<Attempted> attempted) {
    for (Attempted a : attempted) {
      DeliveryResult r = a.result();
      int status =
          switch (r) {
            case null -> 0;
            case DeliveryResult.Rejected no -> no.status();
            case DeliveryResult.RetryLater later -> later.status();
            case DeliveryResult.Delivered ok -> 0;
          };
      boolean auth =
          r instanceof DeliveryResult.RetryLater later && later.errorClass() == ErrorClass.AUTH;
      if (status == 401 || status == 403 || auth) {
        return r;
      }
    }
    return null;
  }

  /** What the answer changed that an operator should hear of (docs/operational-events.md). */
  private void report(
      DestinationLane lane, DestinationLane.Before before, Instant now, DeliveryResult refused) {
    CircuitBreaker.State after = lane.breakerState();
    if (after == CircuitBreaker.State.OPEN && before.breaker() != CircuitBreaker.State.OPEN) {
      ops.breakerOpened(lane.name(), lane.breakerOpenUntil(), lane.lastError());
    } else if (after == CircuitBreaker.State.CLOSED
        && before.breaker() != CircuitBreaker.State.CLOSED) {
      ops.breakerClosed(lane.name());
    }
    if (lane.held(now) && !before.heldUntil().isAfter(now)) {
      ops.held(lane.name(), lane.heldUntil(), lane.holdReason());
    }
    switch (refused) {
      case null -> {}
      case DeliveryResult.Rejected no ->
          ops.credentialsRefused(lane.name(), no.status(), no.error());
      case DeliveryResult.RetryLater later ->
          ops.credentialsRefused(lane.name(), later.status(), later.error());
      case DeliveryResult.Delivered ok -> {}
    }
  }
}
