package dev.switchboard.dispatch;

import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode (ADR 0008): lanes are filled by claims from the shared store, in per-key order, when
 * they may have work (new work here or on another node wakes them; a poll wakes them all for
 * retries that came due) and nothing holds them back. Claimed deliveries wait in memory under a
 * lease the heartbeat renews; what a lane lets go of goes back to the store for any node to claim.
 */
final class StoreClaims implements Intake {
  private static final Logger LOG = LoggerFactory.getLogger(StoreClaims.class);

  private final DeliveryQueue queue;
  private final Clock clock;
  private final int scanBatch;
  private final Consumer<Runnable> post;
  private final Supplier<Map<String, DestinationLane>> lanes;
  private final Supplier<RouteTable> table;
  private final Leases leases;
  private final BooleanSupplier stopping;

  /** Lanes with a claim out (loop only). */
  private final Set<DestinationLane> claiming =
      java.util.Collections.newSetFromMap(new IdentityHashMap<>());

  private final AtomicInteger claimsOut = new AtomicInteger();
  private volatile AutoCloseable workListener = () -> {};

  StoreClaims(
      DeliveryQueue queue,
      Clock clock,
      int scanBatch,
      Consumer<Runnable> post,
      Supplier<Map<String, DestinationLane>> lanes,
      Supplier<RouteTable> table,
      Leases leases,
      BooleanSupplier stopping) {
    this.queue = queue;
    this.clock = clock;
    this.scanBatch = scanBatch;
    this.post = post;
    this.lanes = lanes;
    this.table = table;
    this.leases = leases;
    this.stopping = stopping;
  }

  @Override
  public void start() {
    // new work, here or on another node, only wakes the lane to claim it
    queue.onCommitted(list -> post.accept(() -> list.forEach(d -> wake(d.destination()))));
    workListener = queue.onWork(destination -> post.accept(() -> wake(destination)));
  }

  /** {@code destination} (every one when null) may have work to claim. */
  private void wake(String destination) {
    if (destination == null) {
      lanes.get().values().forEach(DestinationLane::wantWork);
      return;
    }
    DestinationLane lane = lanes.get().get(destination);
    if (lane != null) {
      lane.wantWork();
    }
  }

  @Override
  public void poll(Collection<DestinationLane> all) {
    all.forEach(DestinationLane::wantWork); // retries that came due, work another node handed back
  }

  @Override
  public void sweep(Collection<DestinationLane> all) {
    // every claim reads the store: there is nothing memory could have missed
  }

  /**
   * Claims what the lane can start now and next ({@link DestinationLane#room}), when it may have
   * work and nothing holds it back.
   */
  @Override
  public long fill(DestinationLane lane, Instant now, DestinationLane.ProbeGate probes) {
    if (!lane.workWanted() || claiming.contains(lane) || !lane.open(now)) {
      return Long.MAX_VALUE;
    }
    // an open breaker, or another node's probe: claim nothing to hold under a lease meanwhile; a
    // spent rate: claim when the next request may go, not before
    long wait = lane.untilAdmitted(now, probes);
    if (wait > 0) {
      return wait;
    }
    int limit = lane.room(lane.memory().rowsThatFit(scanBatch));
    if (limit <= 0) {
      return Long.MAX_VALUE;
    }
    claiming.add(lane);
    lane.workTaken();
    claimsOut.incrementAndGet();
    String token = Tokens.next();
    RouteTable routes = table.get();
    CompletableFuture<List<QueuedDelivery>> claim;
    try {
      claim =
          queue.claimDue(
              lane.name(),
              lane.memory().perKeyRoutes(),
              routes.blockingRoutes(lane.name()),
              routes.heldRoutes(lane.name()), // wait for a configuration that has their enricher
              limit,
              token,
              now,
              now.plus(leases.termFor(lane.config())));
    } catch (RuntimeException e) {
      claiming.remove(lane);
      claimsOut.decrementAndGet();
      LOG.warn("could not claim deliveries of {}: {}", lane.name(), e.getMessage());
      return Long.MAX_VALUE;
    }
    claim.whenComplete(
        (rows, error) -> {
          if (error != null) {
            claimsOut.decrementAndGet();
            LOG.warn("could not claim deliveries of {}: {}", lane.name(), error.toString());
            post.accept(() -> claiming.remove(lane)); // the next poll tries again
            return;
          }
          leases.holdAll(rows, token);
          claimsOut.decrementAndGet(); // after the leases: shutdown waits for them
          post.accept(() -> tookClaim(lane, rows, limit));
        });
    return Long.MAX_VALUE;
  }

  private void tookClaim(DestinationLane lane, List<QueuedDelivery> rows, int limit) {
    claiming.remove(lane);
    RouteTable routes = table.get();
    Instant now = clock.instant();
    List<QueuedDelivery> back = new ArrayList<>();
    for (QueuedDelivery d : rows) {
      if (stopping.getAsBoolean()
          || lane.paused()
          || !lane.available()
          || !routes.dispatchable(d)
          || !lane.memory().add(d)) {
        back.add(d);
      }
    }
    unclaim(back, now);
    if (rows.size() >= limit && back.isEmpty()) {
      lane.wantWork(); // there may be more
    }
  }

  @Override
  public long holdBack() {
    return 0; // a claim refused leaves the work in the store, where no request was made for it
  }

  /** Claimed before it came to memory ({@link #fill}), in per-key order: its lease is the claim. */
  @Override
  public List<Claimed> claim(
      DestinationLane lane, List<QueuedDelivery> batch, List<QueuedDelivery> open) {
    List<Claimed> claimed = new ArrayList<>(batch.size());
    for (QueuedDelivery d : batch) {
      String token = leases.token(d.id());
      if (token == null) {
        open.remove(d);
        post.accept(() -> lane.release(d, false));
        continue;
      }
      claimed.add(new Claimed(d, table.get().plan(d.route()), token, clock.instant(), null));
    }
    return claimed;
  }

  /** Hands what waits in the lane back to the store, for any node to claim. */
  @Override
  public void returnWaiting(DestinationLane lane) {
    unclaim(lane.memory().dropWaiting(), clock.instant());
  }

  private void unclaim(List<QueuedDelivery> deliveries, Instant now) {
    Map<dev.switchboard.domain.DeliveryId, String> back = leases.tokensOf(deliveries);
    if (back.isEmpty()) {
      return;
    }
    // the leases are dropped once written (or not: then they expire and are reaped)
    queue.unclaim(back, now).whenComplete((n, error) -> back.keySet().forEach(leases::drop));
  }

  @Override
  public void finished(DestinationLane lane) {
    lane.wantWork(); // a slot is free, and the next delivery of a key may be claimable
  }

  @Override
  public int claimsOut() {
    return claimsOut.get();
  }

  @Override
  public void close() {
    try {
      workListener.close();
    } catch (Exception e) {
      LOG.debug("close failed: {}", e.toString());
    }
  }
}
