package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.PagePosition;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The delivery queue on SQL. It owns the hand-over of new work and the backlog tally; each
 * operation is done by the class that owns its part: an attempt's writes ({@link
 * SqlDeliveryOutcomes}), cluster mode's batch claim ({@link SqlClusterClaims}), what operators and
 * holds do ({@link SqlDeliveryActions}) and the reads ({@link SqlDeliveryReads}). Writes are {@link
 * SqlWriter} ops, so they share transactions and syncs with ingest; reads use the readers.
 */
public final class SqlDeliveryQueue implements DeliveryQueue {
  private final SqlWriter writer;
  private final BacklogTally unfinished;
  private final SqlDeliveryOutcomes outcomes;
  private final SqlClusterClaims clusterClaims;
  private final SqlDeliveryActions actions;
  private final SqlDeliveryReads reads;
  private volatile Consumer<List<QueuedDelivery>> listener = list -> {};

  /**
   * {@code claims} writes cluster claims and {@code outcomes} the outcomes, lease renewals and
   * hand-backs: {@code writer} itself on SQLite, a connection each on PostgreSQL.
   */
  SqlDeliveryQueue(
      SqlWriter writer,
      SqlWriter claims,
      SqlWriter outcomes,
      SqlReaders readers,
      BacklogTally unfinished,
      Clock clock) {
    this.writer = writer;
    this.unfinished = unfinished;
    this.outcomes = new SqlDeliveryOutcomes(writer, outcomes, unfinished, clock);
    this.clusterClaims = new SqlClusterClaims(claims);
    this.actions = new SqlDeliveryActions(writer, unfinished);
    this.reads = new SqlDeliveryReads(readers);
  }

  /** Called by the event store after a batch that created pending deliveries committed. */
  void committed(List<QueuedDelivery> queued) {
    if (queued.isEmpty()) {
      return;
    }
    for (QueuedDelivery d : queued) {
      unfinished.add(d.destination(), 1);
    }
    listener.accept(queued);
  }

  @Override
  public void onCommitted(Consumer<List<QueuedDelivery>> listener) {
    this.listener = listener;
  }

  @Override
  public CompletableFuture<Boolean> claim(
      DeliveryId id, String token, Instant now, Instant leaseUntil) {
    return outcomes.claim(id, token, now, leaseUntil);
  }

  @Override
  public CompletableFuture<Boolean> finish(Finish finish, Instant now) {
    return outcomes.finish(finish, now);
  }

  @Override
  public CompletableFuture<Integer> renew(Map<DeliveryId, String> leases, Instant leaseUntil) {
    return outcomes.renew(leases, leaseUntil);
  }

  @Override
  public int reapExpired(Instant now) {
    return outcomes.reapExpired(now);
  }

  /** Only where this process is the sole writer: on a shared database, other nodes hold leases. */
  @Override
  public int reapAll() {
    if (!singleNode()) {
      throw new IllegalStateException("reapAll on a shared database would take other nodes' work");
    }
    return outcomes.reapAll();
  }

  @Override
  public boolean singleNode() {
    return writer.dialect().soleWriter();
  }

  @Override
  public CompletableFuture<List<QueuedDelivery>> claimDue(
      String destination,
      Set<String> perKeyRoutes,
      Set<String> blockingRoutes,
      Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {
    if (singleNode()) {
      throw new IllegalStateException("claimDue is for a shared store");
    }
    return clusterClaims.claimDue(
        destination, perKeyRoutes, blockingRoutes, heldRoutes, limit, token, now, leaseUntil);
  }

  @Override
  public CompletableFuture<Integer> unclaim(Map<DeliveryId, String> leases, Instant now) {
    return outcomes.unclaim(leases, now);
  }

  @Override
  public AutoCloseable onWork(Consumer<String> wake) {
    return writer.dialect().listenForWork(wake);
  }

  @Override
  public List<QueuedDelivery> scan(
      String destination,
      DeliveryState state,
      Instant now,
      Instant afterTime,
      long afterSeq,
      int limit) {
    return reads.scan(destination, state, now, afterTime, afterSeq, limit);
  }

  @Override
  public Optional<QueuedDelivery> earlierUnfinished(QueuedDelivery d, boolean includeDead) {
    return reads.earlierUnfinished(d, includeDead);
  }

  @Override
  public Optional<Instant> watermark(String route, String partitionKey) {
    return reads.watermark(route, partitionKey);
  }

  @Override
  public CompletableFuture<List<DeliveryRecord>> replay(
      DeliveryFilter filter, String by, Instant now) {
    return actions.replay(filter, by, now);
  }

  @Override
  public CompletableFuture<Integer> discard(DeliveryFilter filter, String by, Instant now) {
    return actions.discard(filter, by, now);
  }

  @Override
  public long count(DeliveryFilter filter) {
    return reads.count(filter);
  }

  @Override
  public CompletableFuture<Void> setPaused(
      String destination, boolean paused, String by, Instant now) {
    return actions.setPaused(destination, paused, by, now);
  }

  @Override
  public CompletableFuture<Integer> endHold(String destination, Instant heldUntil, Instant now) {
    return actions.endHold(destination, heldUntil, now);
  }

  @Override
  public CompletableFuture<List<DeliveryRecord>> expireUnattempted(
      String destination, Instant waitingSince, Instant notBefore, String error, Instant now) {
    return actions.expireUnattempted(destination, waitingSince, notBefore, error, now);
  }

  @Override
  public List<String> pausedDestinations() {
    return reads.pausedDestinations();
  }

  @Override
  public Optional<DeliveryRecord> findDelivery(DeliveryId id) {
    return reads.findDelivery(id);
  }

  @Override
  public List<DeliveryRecord> deliveriesOf(EventId eventId) {
    return reads.deliveriesOf(eventId);
  }

  @Override
  public List<AttemptRecord> attemptsOf(DeliveryId id) {
    return reads.attemptsOf(id);
  }

  @Override
  public Map<DeliveryState, Long> countByState(String destination) {
    return reads.countByState(destination);
  }

  @Override
  public List<DeliveryRecord> findDeliveries(DeliveryFilter filter, PagePosition after, int limit) {
    return reads.findDeliveries(filter, after, limit);
  }

  @Override
  public Map<DeliveryState, Long> countOpen(String destination) {
    return reads.countOpen(destination);
  }
}
