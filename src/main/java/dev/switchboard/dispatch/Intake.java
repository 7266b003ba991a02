package dev.switchboard.dispatch;

import dev.switchboard.store.QueuedDelivery;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * How deliveries come from the store into the lanes' memory, and how an attempt takes hold of them.
 * Two kinds, chosen at wiring: {@link LocalIntake} (one node owns the store: new deliveries are
 * handed over in memory as they commit, and each attempt claims its own optimistically) and {@link
 * StoreClaims} (a cluster: lanes claim from the shared store, woken by its notifications).
 *
 * <p>Every method but {@link #claim} runs on the dispatcher's loop thread.
 */
interface Intake extends AutoCloseable {
  /**
   * Subscribes to new work (commits here, notifications from other nodes); once, before the loop.
   */
  void start();

  /** Each poll interval: retries that came due, work another node handed back. */
  void poll(Collection<DestinationLane> lanes);

  /** Each sweep interval: a safety net that re-reads what memory may have missed. */
  void sweep(Collection<DestinationLane> lanes);

  /**
   * Brings work for {@code lane} into memory when it wants some; returns how long until it should
   * be asked again for a reason of time (nanoseconds), or Long.MAX_VALUE.
   */
  long fill(DestinationLane lane, Instant now, DestinationLane.ProbeGate probes);

  /** How long no attempt may start because the store refuses claims (nanoseconds), or 0. */
  long holdBack();

  /**
   * On a worker: takes hold of the batch's deliveries for one attempt. Those it cannot take
   * (another claim won, an earlier delivery of the key must go first) it hands back to the lane
   * itself and removes from {@code open}; the rest come back claimed, in order.
   */
  List<Claimed> claim(DestinationLane lane, List<QueuedDelivery> batch, List<QueuedDelivery> open)
      throws InterruptedException;

  /** The lane stops taking work (pause, reload, shutdown): what waits in memory is let go. */
  void returnWaiting(DestinationLane lane);

  /** An attempt's outcome is written: the lane has a free slot, and the key's next may follow. */
  void finished(DestinationLane lane);

  /** Claims sent to the store whose leases are not recorded yet (shutdown waits for them). */
  int claimsOut();

  @Override
  void close();
}
