package dev.switchboard.dispatch;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.observability.DeliveryLog;
import dev.switchboard.route.BodyPreview;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.route.StoredEvent;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.PagePosition;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What an operator can do with deliveries, as a Java API: the admin REST API, the dashboard and the
 * CLI sit on top of it. Every action records who did it; replays keep the delivery's id, which is
 * its idempotency key, so a receiver that saw it before can tell.
 */
public final class DeliveryService {
  private final DeliveryQueue queue;
  private final Dispatcher dispatcher;
  private final Clock clock;

  public DeliveryService(DeliveryQueue queue, Dispatcher dispatcher, Clock clock) {
    this.queue = queue;
    this.dispatcher = dispatcher;
    this.clock = clock;
  }

  /** How many deliveries a bulk action with {@code filter} would touch (dry run). */
  public long count(DeliveryFilter filter) {
    return queue.count(filter);
  }

  /**
   * Sends matching deliveries again (dead letters by default; {@code delivered} too when the filter
   * names that state). Returns how many went back to pending.
   */
  public int replay(DeliveryFilter filter, String by) {
    List<DeliveryRecord> replayed = await(queue.replay(filter, requireWho(by), clock.instant()));
    for (DeliveryRecord d : replayed) {
      DeliveryLog.replayed(
          d.eventId().value(),
          d.id().value(),
          d.route(),
          d.destination(),
          d.attempts(),
          d.errorClass(),
          by);
    }
    if (!replayed.isEmpty()) {
      dispatcher.rescan(filter.destination());
    }
    return replayed.size();
  }

  /** Replays one delivery, dead or delivered; false when it is in neither state. */
  public boolean replayOne(DeliveryId id, String by) {
    return replay(DeliveryFilter.of(id, Set.of(DeliveryState.DEAD, DeliveryState.DELIVERED)), by)
        == 1;
  }

  /** Discards one dead letter; false when it is not dead. */
  public boolean discardOne(DeliveryId id, String by) {
    return discard(DeliveryFilter.of(id, Set.of(DeliveryState.DEAD)), by) == 1;
  }

  /** Gives up on matching dead letters for good (they become skipped, with who and when). */
  public int discard(DeliveryFilter filter, String by) {
    int discarded = await(queue.discard(filter, requireWho(by), clock.instant()));
    if (discarded > 0) {
      // a key held by a dead letter under on_dead: block may go on now
      dispatcher.rescan(filter.destination());
    }
    return discarded;
  }

  /** Holds a destination's deliveries (in the store, across restarts) until {@link #resume}. */
  public void pause(String destination, String by) {
    setPaused(destination, true, by);
  }

  /** Sends a paused destination's deliveries again, in order. */
  public void resume(String destination, String by) {
    setPaused(destination, false, by);
  }

  private void setPaused(String destination, boolean paused, String by) {
    if (!dispatcher.hasDestination(destination)) {
      throw new IllegalArgumentException("no destination named " + destination);
    }
    await(queue.setPaused(destination, paused, requireWho(by), clock.instant()));
    dispatcher.setPaused(destination, paused);
  }

  public List<DestinationStatus> destinations() {
    return dispatcher.statuses();
  }

  /** Whether a destination of this name is configured (available or held). */
  public boolean hasDestination(String name) {
    return dispatcher.hasDestination(name);
  }

  /** One page of matching deliveries, newest first (dead letters by default). */
  public List<DeliveryRecord> find(DeliveryFilter filter, PagePosition after, int limit) {
    return queue.findDeliveries(filter, after, limit);
  }

  /** A destination's unfinished deliveries and dead letters, by state. */
  public Map<DeliveryState, Long> openCounts(String destination) {
    return queue.countOpen(destination);
  }

  public Optional<DeliveryRecord> delivery(DeliveryId id) {
    return queue.findDelivery(id);
  }

  public List<DeliveryRecord> deliveriesOf(EventId eventId) {
    return queue.deliveriesOf(eventId);
  }

  public List<AttemptRecord> attempts(DeliveryId id) {
    return queue.attemptsOf(id);
  }

  private static String requireWho(String by) {
    if (by == null || by.isBlank()) {
      throw new IllegalArgumentException("say who is acting (by)");
    }
    return by;
  }

  private static <T> T await(CompletableFuture<T> future) {
    return future.orTimeout(30, TimeUnit.SECONDS).join();
  }

  /**
   * What a route sends for an event, for the operator: the route's current transform over the
   * stored (redacted) payload, or the payload itself when it has none.
   */
  public BodyPreview preview(Event event, String route) {
    RoutePlan plan = dispatcher.plan(route);
    return plan == null ? BodyPreview.routeGone() : plan.preview(StoredEvent.of(event));
  }
}
