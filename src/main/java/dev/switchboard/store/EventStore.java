package dev.switchboard.store;

import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The events side of the store: the only link between ingest and dispatch.
 *
 * <p>Lifecycle: built and migrated by the composition root before the HTTP listener opens; {@link
 * #ingest} is then called concurrently from request threads; {@link #close} drains what has been
 * handed to it (completing or failing every future) and is called after the listener stops
 * accepting.
 */
public interface EventStore extends AutoCloseable {

  /**
   * Stores an event, its idempotency mark and its deliveries in one transaction. The future
   * completes only after the transaction is committed and synced to disk; it completes
   * exceptionally with {@link StoreUnavailableException} when that cannot happen, in which case
   * nothing of the event was written. Concurrent calls share transactions (group commit).
   */
  CompletableFuture<IngestOutcome> ingest(NewEvent event);

  Optional<Event> findEvent(EventId id);

  /**
   * Until when a pulled source is known to hold every event (docs/sources.md, "Genesys Cloud
   * notifications"); empty before its first connection.
   */
  Optional<java.time.Instant> pullCoverage(String source);

  /**
   * Records that {@code source} holds every event up to {@code coveredUntil}, in order with the
   * events stored before it; an earlier time than the one stored changes nothing.
   */
  void savePullCoverage(String source, java.time.Instant coveredUntil);

  /** Newest first, up to {@code limit}; {@code source} may be null for every source. */
  List<Event> findEvents(String source, EventStatus status, int limit);

  /**
   * One page of an events search, newest first (receive time, then id). Read-only; uses indexes for
   * every filter but the payload text, which is bounded as {@link EventQuery} says.
   */
  EventPage searchEvents(EventQuery query);

  long countEvents();

  /**
   * How many events match {@code query}'s filters (its page position and limit are ignored; a text
   * filter reads every event matching the others).
   */
  long countEvents(EventQuery query);

  /**
   * Releases a quarantined event in one transaction, if it is still quarantined. When {@link
   * QuarantineRelease#passes} it becomes accepted, records who released it and when, and gets its
   * deliveries as at ingest (created at {@link QuarantineRelease#at}; the pending ones handed to
   * the dispatcher, or announced to the other nodes, once committed); otherwise it stays
   * quarantined with the new reason. The state check and the writes are one transaction, so of two
   * releases at once only one creates deliveries.
   *
   * @return false when the event is not quarantined (any more) or does not exist: nothing written
   */
  boolean release(QuarantineRelease release);

  /** Deliveries not yet in a final state: the backlog that ingest's high-water mark watches. */
  long countUnfinishedDeliveries();

  /**
   * The same backlog, of one destination's deliveries only: what ingest's high-water mark is
   * compared against for each destination an event would add to.
   */
  long countUnfinishedDeliveries(String destination);

  /**
   * Retention ({@code store.retention}): removes events, with their deliveries and attempts, whose
   * deliveries are all settled for longer than {@code delivered} (dead letters: {@code dead},
   * unless discarded), never one with a delivery that can still be attempted; then the idempotency
   * keys that expired by {@code now}. Works in small write batches; returns what it removed.
   */
  default Purged purgeHistory(Instant now, Duration delivered, Duration dead) {
    return purgeHistory(now, delivered, dead, batch -> {});
  }

  /**
   * {@link #purgeHistory(Instant, Duration, Duration)}, telling {@code eachBatch} what each write
   * batch removed as soon as it is committed (a pass through a large backlog takes a while, and its
   * progress should show in the metrics while it runs).
   */
  Purged purgeHistory(
      Instant now,
      Duration delivered,
      Duration dead,
      java.util.function.Consumer<Purged> eachBatch);

  /** True when the last write succeeded or a probe write succeeds now. */
  boolean isWritable();

  @Override
  void close();
}
