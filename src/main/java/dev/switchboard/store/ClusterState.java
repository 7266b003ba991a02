package dev.switchboard.store;

import java.time.Instant;
import java.util.List;

/**
 * What the nodes sharing one database tell each other so that a destination's limits hold across
 * the cluster (docs/adr/0009-cluster-limits.md): who is alive, whose breaker is open, who was told
 * to wait. Only a shared database has one; the calls block on the store (call them off the
 * dispatcher's loop) and throw {@link StoreUnavailableException} when it cannot be reached.
 */
public interface ClusterState {
  /**
   * A destination as the cluster sees it.
   *
   * @param breakerOpenUntil until when its breaker is open (or a probe runs); {@link Instant#EPOCH}
   *     when a probe closed it
   * @param pausedUntil until when it asked to be left alone ({@code Retry-After})
   * @param changedAt when a node last changed it (by that node's clock)
   */
  record DestinationLimits(
      String destination, Instant breakerOpenUntil, Instant pausedUntil, Instant changedAt) {}

  /**
   * Records that {@code node} is alive at {@code now}, forgets nodes silent since before {@code
   * forgetBefore}, and returns how many nodes have a heartbeat since {@code liveSince} (this one
   * included).
   */
  int heartbeat(
      String node, Instant startedAt, Instant now, Instant liveSince, Instant forgetBefore);

  /** Removes this node's row (a clean stop), so the others take its share at once. */
  void leave(String node);

  /** Every destination some node wrote about. */
  List<DestinationLimits> destinations();

  /**
   * The breaker of {@code destination} is open until {@code until}, or later if already so; but
   * when it follows this node's failed probe, whose window was {@code failedProbe} (else null), it
   * replaces that window.
   */
  void openBreaker(String destination, Instant until, Instant failedProbe, Instant now);

  /**
   * Takes the right to probe {@code destination}: succeeds (returns null) when its breaker is not
   * open at {@code now}, and marks it open until {@code probeUntil} for the others; otherwise
   * returns until when it is open.
   */
  Instant claimProbe(String destination, Instant now, Instant probeUntil);

  /** A probe succeeded: closes the breaker, unless another node opened it again meanwhile. */
  void closeBreaker(String destination, Instant probeUntil, Instant now);

  /** {@code destination} asked to be left alone until {@code until} (or later, if already so). */
  void pause(String destination, Instant until, Instant now);

  /** An operator resumed {@code destination}: the hold it asked for ends now. */
  void endHold(String destination, Instant now);
}
