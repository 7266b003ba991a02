package dev.switchboard.store;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The deliveries side of the store: the dispatcher's queue and the operator's dead-letter actions.
 *
 * <p>Lifecycle: the dispatcher registers its {@link #onCommitted listener} before ingest opens;
 * writes complete their futures only once committed and synced, and fail with {@link
 * StoreUnavailableException} when that cannot happen (nothing of them is then written).
 *
 * <p>Leases: {@link #claim} moves a pending or due delivery to in_flight under a fresh token and a
 * lease; every {@link #finish} and {@link #renew} is fenced by that token, so a dispatcher whose
 * lease expired (and whose delivery was reaped and claimed again) writes nothing.
 */
public interface DeliveryQueue {

  /**
   * Called on the writer's thread right after a batch that created deliveries in pending (at
   * ingest) commits. Must be quick and must not block: hand the work over and return.
   */
  void onCommitted(Consumer<List<QueuedDelivery>> listener);

  /**
   * Claims a pending or retry_scheduled delivery that is due at {@code now}. Completes with true
   * when this token now holds it, false when it was not claimable (someone else holds it, it is
   * final, or its next attempt is not due yet).
   */
  CompletableFuture<Boolean> claim(DeliveryId id, String token, Instant now, Instant leaseUntil);

  /** Ends a claim; completes with false when the token no longer holds the lease. */
  CompletableFuture<Boolean> finish(Finish finish, Instant now);

  /** Extends leases still held by their tokens; completes with how many were extended. */
  CompletableFuture<Integer> renew(Map<DeliveryId, String> leases, Instant leaseUntil);

  /** Returns in_flight deliveries whose lease expired before {@code now} to pending. */
  int reapExpired(Instant now);

  /**
   * Returns every in_flight delivery to pending. Only for a store one process owns (SQLite), at
   * startup, before anything is claimed: every lease in it belongs to a process that is gone.
   */
  int reapAll();

  /** Whether this store is owned by one process (see {@link #reapAll}). */
  boolean singleNode();

  /**
   * Cluster mode only (not {@link #singleNode}): claims, in one statement, up to {@code limit} due
   * deliveries of {@code destination} that no other node holds (rows another node is claiming are
   * skipped, not waited for), in (next attempt time, arrival) order, all under {@code token} until
   * {@code leaseUntil}. A delivery of a route in {@code perKeyRoutes} with a partition key is
   * claimed only when no delivery of its (route, key) is in flight and none before it in event-time
   * order (ties: arrival) is unfinished (pending or retry_scheduled, and dead for a route in {@code
   * blockingRoutes}): so one node at a time delivers a key, in order. Deliveries of {@code
   * heldRoutes} (this node cannot run them, e.g. their enricher is not built) are left alone.
   */
  default CompletableFuture<List<QueuedDelivery>> claimDue(
      String destination,
      java.util.Set<String> perKeyRoutes,
      java.util.Set<String> blockingRoutes,
      java.util.Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {
    throw new UnsupportedOperationException("claimDue is for a shared store");
  }

  /**
   * Hands claimed deliveries back untried (to pending, no attempt spent), each only while its token
   * still holds it; completes with how many went back.
   */
  default CompletableFuture<Integer> unclaim(Map<DeliveryId, String> leases, Instant now) {
    throw new UnsupportedOperationException("unclaim is for a shared store");
  }

  /**
   * Calls {@code wake} with a destination's name when any node created work for it (cluster mode),
   * or with null when every destination should look (notifications may have been missed). Nothing
   * on a store one process owns: {@link #onCommitted} hands its work over. Close the result to
   * stop.
   */
  default AutoCloseable onWork(Consumer<String> wake) {
    return () -> {};
  }

  /**
   * Deliveries of {@code destination} in {@code state} (pending or retry_scheduled) that are due at
   * {@code now}, in (next attempt time, arrival) order, after the cursor {@code (afterTime,
   * afterSeq)}, at most {@code limit}.
   */
  List<QueuedDelivery> scan(
      String destination,
      DeliveryState state,
      Instant now,
      Instant afterTime,
      long afterSeq,
      int limit);

  /**
   * The earliest unfinished delivery of the same (route, partition key) that comes before {@code d}
   * in event-time order (ties: arrival), if any; {@code includeDead} counts dead letters too
   * (ordering with {@code on_dead: block}).
   */
  Optional<QueuedDelivery> earlierUnfinished(QueuedDelivery d, boolean includeDead);

  /** The newest event time delivered for (route, partition key), if any. */
  Optional<Instant> watermark(String route, String partitionKey);

  /**
   * Moves matching deliveries back to pending, keeping their ids (idempotency keys).
   *
   * @return those it moved, as they were before (their attempts and error class), for the log
   */
  CompletableFuture<List<DeliveryRecord>> replay(DeliveryFilter filter, String by, Instant now);

  /** Moves matching dead letters to skipped, recording who discarded them. */
  CompletableFuture<Integer> discard(DeliveryFilter filter, String by, Instant now);

  /** How many deliveries match (dry run of a bulk action). */
  long count(DeliveryFilter filter);

  /** Records a destination's paused flag so that it survives a restart. */
  CompletableFuture<Void> setPaused(String destination, boolean paused, String by, Instant now);

  /**
   * An operator ended a hold the destination asked for (until {@code heldUntil}): its deliveries
   * scheduled to retry after now and no later than the hold's end (they waited for the hold, not
   * for their own backoff) are due now. Returns how many.
   */
  CompletableFuture<Integer> endHold(String destination, Instant heldUntil, Instant now);

  /**
   * Dead-letters the deliveries of {@code destination} that were never attempted and have waited
   * since {@code waitingSince} or before, but after {@code notBefore} (pending since then:
   * received, or replayed), with {@code error} and the error class {@code max_age}. For a
   * destination that holds its deliveries back for longer than their {@code max_age}; never while
   * an operator has paused it (on any node). Returns the deliveries it moved, as they were before.
   */
  CompletableFuture<List<DeliveryRecord>> expireUnattempted(
      String destination, Instant waitingSince, Instant notBefore, String error, Instant now);

  /** Destinations recorded as paused. */
  List<String> pausedDestinations();

  Optional<DeliveryRecord> findDelivery(DeliveryId id);

  List<DeliveryRecord> deliveriesOf(EventId eventId);

  /** Every attempt of a delivery, oldest first, across replays. */
  List<AttemptRecord> attemptsOf(DeliveryId id);

  /** Deliveries by state, for one destination or (null) all. */
  Map<DeliveryState, Long> countByState(String destination);

  /**
   * Deliveries matching {@code filter}, newest first (creation time, then id), after {@code after}
   * (null for the first page), at most {@code limit}. Cheap for dead letters (they have an index of
   * their own); other states are read by scanning.
   */
  List<DeliveryRecord> findDeliveries(DeliveryFilter filter, PagePosition after, int limit);

  /**
   * A destination's deliveries that are not done: pending, in_flight, retry_scheduled and dead
   * (every other state counts 0). Reads only those rows, never the delivered history.
   */
  Map<DeliveryState, Long> countOpen(String destination);
}
