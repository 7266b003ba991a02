package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.store.ClusterState;
import dev.switchboard.store.ClusterState.DestinationLimits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A destination's limits across the nodes sharing one database (docs/adr/0009-cluster-limits.md).
 *
 * <ul>
 *   <li><b>Rate limit</b>: each node's bucket is the destination's rate divided by the live nodes,
 *       recounted on every heartbeat ({@link #HEARTBEAT}).
 *   <li><b>Circuit breaker</b>: a node whose breaker opens writes until when; the others read it on
 *       their next sync (every poll interval, 100 ms to 1 s) and open theirs until then. When the
 *       time is up, a node must win the probe (a compare-and-set on the row) before its half-open
 *       probe goes out; the losers stay open until the winner's probe window ends. A successful
 *       probe closes the row, and the others close on their next sync.
 *   <li><b>Pause</b>: a {@code Retry-After} one node got is written and kept by the others too; an
 *       operator's resume on any node ends it on all, at their next sync (see {@link #holdEnded}).
 * </ul>
 *
 * <p>The loop owns the state here; store calls run on the executor and report back through {@code
 * post}. When the store cannot be reached, each node keeps its last view (and probes on its own),
 * which is what a single node does.
 */
final class ClusterLimits implements DestinationLane.ProbeGate {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterLimits.class);

  /** How often a node says it is alive and counts the others. */
  static final Duration HEARTBEAT = Duration.ofSeconds(2);

  /** A node is live while its last heartbeat is younger than this (three heartbeats). */
  static final Duration LIVE = HEARTBEAT.multipliedBy(3);

  /** Rows of nodes silent for this long are removed. */
  static final Duration FORGET = Duration.ofMinutes(10);

  /** A probe's window when its attempt gives no answer (the prober died): then another may try. */
  private static Duration probeWindow(DestinationConfig config) {
    return config.timeout().plus(HEARTBEAT);
  }

  /** This node's part in one destination's shared breaker (loop only). */
  private static final class Share {
    /** Until when this node holds the probe, or null. */
    Instant probeUntil;

    /** A claim for the probe is being asked. */
    boolean asking;

    /** The open time this node took from another node, or null. */
    Instant forcedUntil;

    /** When this node's own breaker last opened, or null. */
    Instant openedAt;

    /** The window of this node's last successful probe, whose closing write may still be due. */
    Instant closedProbe;

    /**
     * The lane's hold when the shared row was known to carry it (this node's write of it was
     * stored, or a sync read it there), or null. Only an operator's resume shortens the row.
     */
    Instant sharedHold;

    /** The last sync started before that was known; a later one read the row after it. */
    long sharedSince;
  }

  private final ClusterState state;
  private final Clock clock;
  private final Executor executor;
  private final Consumer<Runnable> post;
  private final Supplier<Map<String, DestinationLane>> lanes;
  private final String node;
  private final Instant startedAt;
  private final long syncNanos;
  private final Map<String, Share> shares = new HashMap<>();

  private volatile int liveNodes = 1;
  private volatile int appliedNodes = 1;
  private long nextSync = System.nanoTime();
  private long nextBeat = System.nanoTime();
  private boolean syncing;

  /** Syncs started so far (loop only): numbers them, so that one read after a write is known. */
  private long syncs;

  ClusterLimits(
      ClusterState state,
      Clock clock,
      Executor executor,
      Consumer<Runnable> post,
      Supplier<Map<String, DestinationLane>> lanes,
      Duration pollInterval) {
    this.lanes = lanes;
    this.state = state;
    this.clock = clock;
    this.executor = executor;
    this.post = post;
    ThreadLocalRandom r = ThreadLocalRandom.current();
    this.node = Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
    this.startedAt = clock.instant();
    long poll = pollInterval.toNanos();
    this.syncNanos =
        Math.clamp(poll, Duration.ofMillis(100).toNanos(), Duration.ofSeconds(1).toNanos());
  }

  /** The live nodes the rate limits are divided by now (loop only). */
  int rateNodes() {
    return appliedNodes;
  }

  /** The live nodes at the last heartbeat, this one included. */
  int liveNodes() {
    return liveNodes;
  }

  /**
   * On the loop's tick: when due, beats (every {@link #HEARTBEAT}) and reads the shared state off
   * the loop, then hands it to {@code apply} on the loop.
   */
  void tick(long nowNanos, Runnable rescale) {
    if (syncing || nowNanos - nextSync < 0) {
      return;
    }
    syncing = true;
    long sync = ++syncs;
    nextSync = nowNanos + syncNanos;
    boolean beat = nowNanos - nextBeat >= 0;
    if (beat) {
      nextBeat = nowNanos + HEARTBEAT.toNanos();
    }
    executor.execute(
        () -> {
          try {
            if (beat) {
              Instant now = clock.instant();
              liveNodes =
                  Math.max(
                      1, state.heartbeat(node, startedAt, now, now.minus(LIVE), now.minus(FORGET)));
            }
            List<DestinationLimits> rows = state.destinations();
            post.accept(
                () -> {
                  syncing = false;
                  apply(rows, sync, rescale);
                });
          } catch (RuntimeException e) {
            LOG.warn("could not share destination limits with the cluster: {}", e.getMessage());
            post.accept(() -> syncing = false);
          }
        });
  }

  /** Applies what the other nodes wrote, as sync number {@code sync} read it, on the loop. */
  private void apply(List<DestinationLimits> rows, long sync, Runnable rescale) {
    int live = liveNodes;
    if (live != appliedNodes) {
      LOG.info("{} node(s) share the destinations' rate limits", live);
      appliedNodes = live;
      rescale.run();
    }
    Instant now = clock.instant();
    for (DestinationLimits row : rows) {
      applyRow(row, sync, now);
    }
  }

  private void applyRow(DestinationLimits row, long sync, Instant now) {
    DestinationLane lane = lanes.get().get(row.destination());
    if (lane == null) {
      return;
    }
    Share share = share(lane.name());
    if (lane.held(now)
        && lane.heldUntil().equals(share.sharedHold)
        && sync > share.sharedSince
        && row.pausedUntil().isBefore(share.sharedHold.truncatedTo(ChronoUnit.MILLIS))) {
      // the row carried this very hold when this sync began and now shows less: an operator
      // resumed the destination on another node (a pause only ever lengthens the row). A longer
      // hold of this node's own not yet stored is not this one, and stays.
      LOG.info("hold of {} ended: an operator resumed it on another node", lane.name());
      lane.endHold();
      share.sharedHold = null;
    }
    if (row.pausedUntil().isAfter(lane.heldUntil()) && row.pausedUntil().isAfter(now)) {
      lane.hold(row.pausedUntil(), "asked of another node of the cluster", now);
      share.sharedHold = lane.heldUntil();
      share.sharedSince = sync;
    }
    Instant until = row.breakerOpenUntil();
    if (until.equals(share.probeUntil) || until.equals(share.closedProbe)) {
      return; // our own probe
    }
    CircuitBreaker.State breaker = lane.breakerState();
    boolean takenFromOthers =
        share.forcedUntil != null
            && breaker == CircuitBreaker.State.OPEN
            && lane.breakerOpenUntil().equals(share.forcedUntil);
    if (until.isAfter(now)) {
      // open here too; a time taken from others follows the row (a failed probe's reopening
      // replaces its longer probe window)
      if (breaker == CircuitBreaker.State.CLOSED
          || until.isAfter(lane.breakerOpenUntil())
          || (takenFromOthers && !until.equals(share.forcedUntil))) {
        if (breaker == CircuitBreaker.State.CLOSED) {
          LOG.info("breaker of {} opened by another node until {}", lane.name(), until);
        }
        lane.openBreakerUntil(until);
        share.forcedUntil = until;
        share.probeUntil = null;
      }
    } else if (until.equals(Instant.EPOCH)
        && breaker != CircuitBreaker.State.CLOSED
        && (share.probeUntil == null || !now.isBefore(share.probeUntil))
        && !share.asking
        && (share.openedAt == null || row.changedAt().isAfter(share.openedAt))) {
      // another node's probe succeeded after this node's breaker opened (or took it from others)
      LOG.info("breaker of {} closed: another node's probe succeeded", lane.name());
      lane.closeBreaker();
      share.forcedUntil = null;
      share.openedAt = null;
    }
  }

  private Share share(String destination) {
    return shares.computeIfAbsent(destination, d -> new Share());
  }

  /**
   * Whether the half-open breaker's probe may go from this node now. The first call asks the store;
   * the answer comes back through {@code post}, waking the loop.
   */
  @Override
  public boolean mayProbe(DestinationLane lane, Instant now) {
    Share share = share(lane.name());
    if (share.probeUntil != null && now.isBefore(share.probeUntil)) {
      return true;
    }
    share.probeUntil = null;
    if (share.asking) {
      return false;
    }
    share.asking = true;
    int breaker = lane.breakerGeneration();
    // the store keeps milliseconds: this node must know its own window when it reads it back
    Instant probeUntil = now.plus(probeWindow(lane.config())).truncatedTo(ChronoUnit.MILLIS);
    executor.execute(
        () -> {
          Instant taken;
          try {
            taken = state.claimProbe(lane.name(), now, probeUntil);
          } catch (RuntimeException e) {
            LOG.warn(
                "could not claim the probe of {}, probing alone: {}", lane.name(), e.getMessage());
            taken = null;
          }
          Instant other = taken;
          post.accept(
              () -> {
                share.asking = false;
                if (lane.breakerGeneration() != breaker) {
                  return; // a reload replaced the breaker meanwhile
                }
                if (other == null) {
                  share.probeUntil = probeUntil;
                } else {
                  Instant until = other.isAfter(now) ? other : now.plusNanos(syncNanos);
                  lane.openBreakerUntil(until);
                  share.forcedUntil = until;
                }
              });
        });
    return false;
  }

  /**
   * After a request's answer changed the lane (on the loop): tells the others when the breaker
   * opened or a probe closed it, and when the destination asked for a pause.
   */
  void afterResult(DestinationLane lane, DestinationLane.Before before) {
    Share share = share(lane.name());
    CircuitBreaker.State stateBefore = before.breaker();
    Instant now = clock.instant();
    String name = lane.name();
    if (lane.breakerState() == CircuitBreaker.State.OPEN
        && (stateBefore != CircuitBreaker.State.OPEN
            || !lane.breakerOpenUntil().equals(before.breakerOpenUntil()))) {
      Instant until = lane.breakerOpenUntil();
      Instant failedProbe = share.probeUntil;
      share.probeUntil = null;
      share.forcedUntil = null;
      share.openedAt = now;
      write(() -> state.openBreaker(name, until, failedProbe, now));
    } else if (lane.breakerState() == CircuitBreaker.State.CLOSED
        && stateBefore != CircuitBreaker.State.CLOSED
        && share.probeUntil != null) {
      Instant probeUntil = share.probeUntil;
      share.closedProbe = probeUntil;
      share.probeUntil = null;
      share.forcedUntil = null;
      write(() -> state.closeBreaker(name, probeUntil, now));
    }
    if (lane.heldUntil().isAfter(before.heldUntil())) {
      Instant until = lane.heldUntil();
      write(
          () -> {
            state.pause(name, until, now);
            post.accept(
                () -> {
                  if (lane.heldUntil().equals(until)) { // still this hold: the row carries it
                    share.sharedHold = until;
                    share.sharedSince = syncs;
                  }
                });
          });
    }
  }

  /**
   * An operator resumed the lane: the shared hold ends too, so that this node does not take it back
   * at its next sync, and the other nodes end theirs at their next sync: a node that holds a hold
   * the row carried (it wrote it, or read it there) and then reads a shorter one knows that only a
   * resume shortened it. A hold a node got meanwhile and has not stored yet is newer than the
   * resume, and stays (and is shared as usual once stored).
   */
  void holdEnded(DestinationLane lane) {
    share(lane.name()).sharedHold = null;
    String name = lane.name();
    Instant now = clock.instant();
    write(() -> state.endHold(name, now));
  }

  private void write(Runnable change) {
    executor.execute(
        () -> {
          try {
            change.run();
          } catch (RuntimeException e) {
            LOG.warn("could not share a destination's limits with the cluster: {}", e.getMessage());
          }
        });
  }

  /** A clean stop: this node's row goes, so the others take its share at their next heartbeat. */
  void leave() {
    try {
      state.leave(node);
    } catch (RuntimeException e) {
      LOG.debug("could not remove this node from the cluster: {}", e.getMessage());
    }
  }
}
