package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.Destination;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.store.QueuedDelivery;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * One destination's share of the dispatcher: the deliveries it holds in memory, its concurrency,
 * rate limit, circuit breaker and pauses. Only the dispatcher's loop thread touches it.
 *
 * <p>Memory is a cache of the store, bounded by {@code capacity}: past it, new work is left in the
 * store ({@link #overflow}) and scanned in later, in arrival order. Deliveries of routes with
 * per-key ordering wait in one queue per (route, key), in event-time order, and a key runs one
 * delivery at a time; everything else waits in arrival order.
 */
final class DestinationLane {
  /** Event-time order, ties by arrival. */
  static final Comparator<QueuedDelivery> EVENT_ORDER =
      Comparator.comparing(QueuedDelivery::eventTime).thenComparingLong(QueuedDelivery::seq);

  record RouteKey(String route, String key) {}

  /** The deliveries of one (route, key) and who holds the key. */
  static final class KeyQueue {
    final PriorityQueue<QueuedDelivery> waiting = new PriorityQueue<>(EVENT_ORDER);

    /** The delivery the key waits for (running, or scheduled to retry), or null when free. */
    DeliveryId holder;

    boolean holderWaiting;

    QueuedDelivery next() {
      if (holder == null) {
        return waiting.peek();
      }
      if (!holderWaiting) {
        return null;
      }
      for (QueuedDelivery d : waiting) {
        if (d.id().equals(holder)) {
          return d;
        }
      }
      return null;
    }
  }

  final String name;

  // What a reload may replace (on the loop, see rewire); attempts on other threads read config and
  // retryPolicy, so those are volatile, and keep the connector they started with.
  volatile DestinationConfig config;
  volatile RetryPolicy retryPolicy;

  /** The connector, or null when its type is not available or it was removed from the file. */
  volatile Destination destination;

  String unavailableReason;
  CircuitBreaker breaker;
  Bucket rate;
  final int capacity;

  /** Every delivery held in memory (waiting or running), by id. */
  final Map<DeliveryId, QueuedDelivery> known = new HashMap<>();

  private final ArrayDeque<QueuedDelivery> ready = new ArrayDeque<>();
  final Map<RouteKey, KeyQueue> keys = new HashMap<>();
  private final ArrayDeque<RouteKey> runnableKeys = new ArrayDeque<>();
  private final Set<RouteKey> runnableSet = new java.util.HashSet<>();
  private volatile Set<String> perKeyRoutes;

  boolean paused;

  /** Until when the destination asked to be left alone (a server hold), cut to the cap. */
  Instant pausedUntil = Instant.MIN;

  /** Why it is held until {@link #pausedUntil}, for operators; null when it is not. */
  String holdReason;

  /** When the current hold began (a hold that follows an ended one begins anew). */
  Instant heldSince = Instant.MIN;

  /** Holds the destination until {@code until} (a later end only lengthens it), for {@code why}. */
  void hold(Instant until, String why, Instant now) {
    if (!pausedUntil.isAfter(now)) {
      heldSince = now;
    }
    pausedUntil = until;
    holdReason = why;
  }

  /**
   * A destination's own "wait" applies to the whole destination, not only one delivery; it is cut
   * to the destination's {@code retry.max_server_delay}, so that a {@code Retry-After} of years (or
   * a timestamp read in the wrong unit) holds it for that long at most. A shorter wait than the
   * hold already running changes nothing.
   */
  void holdFor(Duration wait, Instant now, String why) {
    Duration held = capServerWait(wait);
    if (held != null && held.isPositive()) {
      Instant until = now.plus(held);
      if (until.isAfter(pausedUntil)) {
        // e.g. "http 503 asked for 99999999s, cut to 15m" (the cap: retry.max_server_delay)
        hold(
            until,
            why
                + " asked for "
                + RetryPolicy.compact(wait)
                + (held.equals(wait) ? "" : ", cut to " + RetryPolicy.compact(held)),
            now);
      }
    }
  }

  /** A wait the destination asked for, no longer than its {@code retry.max_server_delay}. */
  Duration capServerWait(Duration asked) {
    Duration cap = config.retry().maxServerDelay();
    return asked != null && asked.compareTo(cap) > 0 ? cap : asked;
  }

  /** Deliveries held past their max_age are being dead-lettered (see Dispatcher#expireHeld). */
  boolean expiring;

  int running;
  boolean overflow;
  boolean scanning;
  boolean sweepWanted = true;
  Instant cursorTime;
  long cursorSeq = Long.MIN_VALUE;
  String lastError;
  Instant lastErrorAt;

  /**
   * Cluster mode (ADR 0008): what waits here was claimed from the store, which already keeps
   * per-key order (one delivery of a key claimed at a time, in order), so every delivery waits in
   * arrival order and none in a key queue.
   */
  boolean claimsFromStore;

  /** Cluster mode: a claim is out. */
  boolean claiming;

  /**
   * Cluster mode: the store may hold work this lane could claim (woken, or the last claim full).
   */
  boolean claimWanted = true;

  DestinationLane(
      DestinationConfig config,
      Destination destination,
      String unavailableReason,
      Bucket rate,
      RetryPolicy retryPolicy,
      int capacity,
      Set<String> perKeyRoutes) {
    this.name = config.name();
    this.capacity = capacity;
    this.perKeyRoutes = Set.copyOf(perKeyRoutes);
    rewire(config, destination, unavailableReason, rate, retryPolicy);
  }

  /**
   * A reload changed the destination: new settings, connector, rate limit and a fresh breaker.
   * Attempts already running keep the connector they started with.
   */
  void rewire(
      DestinationConfig config,
      Destination destination,
      String unavailableReason,
      Bucket rate,
      RetryPolicy retryPolicy) {
    this.config = config;
    this.destination = destination;
    this.unavailableReason = unavailableReason;
    this.breaker = new CircuitBreaker(config.breaker());
    this.rate = rate;
    this.retryPolicy = retryPolicy;
  }

  Set<String> perKeyRoutes() {
    return perKeyRoutes;
  }

  /**
   * Drops the deliveries waiting in memory (they stay pending in the store and the next sweep reads
   * them in again) and takes the routes with per-key order from now on. Running deliveries stay
   * known until they finish; the store's check for an earlier unfinished delivery of the key keeps
   * order meanwhile.
   */
  void forgetWaiting(Set<String> perKeyRoutes) {
    for (QueuedDelivery d : ready) {
      known.remove(d.id());
    }
    for (KeyQueue q : keys.values()) {
      for (QueuedDelivery d : q.waiting) {
        known.remove(d.id());
      }
    }
    ready.clear();
    keys.clear();
    runnableKeys.clear();
    runnableSet.clear();
    this.perKeyRoutes = Set.copyOf(perKeyRoutes);
    overflow = false;
    sweepWanted = true;
  }

  /**
   * Cluster mode: takes every delivery waiting here out of memory (claimed, not started), for the
   * dispatcher to hand back to the store.
   */
  java.util.List<QueuedDelivery> dropWaiting() {
    java.util.List<QueuedDelivery> dropped = new java.util.ArrayList<>(ready);
    for (KeyQueue q : keys.values()) {
      dropped.addAll(q.waiting);
    }
    dropped.forEach(d -> known.remove(d.id()));
    ready.clear();
    keys.clear();
    runnableKeys.clear();
    runnableSet.clear();
    return dropped;
  }

  /** Adds a delivery; false when memory is full (the store keeps it for a later scan). */
  boolean add(QueuedDelivery d) {
    if (known.containsKey(d.id())) {
      return true;
    }
    if (known.size() >= capacity) {
      overflow = true;
      return false;
    }
    known.put(d.id(), d);
    RouteKey key = claimsFromStore ? null : keyOf(d);
    if (key == null) {
      ready.add(d);
    } else {
      KeyQueue q = keys.computeIfAbsent(key, k -> new KeyQueue());
      q.waiting.add(d);
      if (d.id().equals(q.holder)) {
        q.holderWaiting = true;
      }
      markRunnable(key, q);
    }
    return true;
  }

  /** The (route, key) whose order a delivery keeps, or null when it has none. */
  RouteKey keyOf(QueuedDelivery d) {
    if (d.partitionKey() == null || !perKeyRoutes.contains(d.route())) {
      return null;
    }
    return new RouteKey(d.route(), d.partitionKey());
  }

  private void markRunnable(RouteKey key, KeyQueue q) {
    if (q.next() != null && runnableSet.add(key)) {
      runnableKeys.add(key);
    }
  }

  /** Takes the next delivery that may start now, or null. */
  QueuedDelivery take() {
    QueuedDelivery keyed = null;
    RouteKey key = null;
    while (!runnableKeys.isEmpty()) {
      RouteKey candidate = runnableKeys.peek();
      KeyQueue q = keys.get(candidate);
      QueuedDelivery next = q == null ? null : q.next();
      if (next != null) {
        keyed = next;
        key = candidate;
        break;
      }
      runnableKeys.poll();
      runnableSet.remove(candidate);
    }
    QueuedDelivery plain = ready.peek();
    if (keyed != null && (plain == null || keyed.seq() < plain.seq())) {
      runnableKeys.poll();
      runnableSet.remove(key);
      KeyQueue q = keys.get(key);
      q.waiting.remove(keyed);
      q.holder = keyed.id();
      q.holderWaiting = false;
      return keyed;
    }
    return ready.poll();
  }

  /**
   * A running delivery is done with its key: it finished for good ({@code keepsKey} false), or will
   * retry and keeps the key until then.
   */
  void release(QueuedDelivery d, boolean stillKnown, boolean keepsKey) {
    if (!stillKnown) {
      known.remove(d.id());
    }
    RouteKey key = keyOf(d);
    if (key == null) {
      return;
    }
    KeyQueue q = keys.get(key);
    if (q == null) {
      return;
    }
    if (!keepsKey && d.id().equals(q.holder)) {
      q.holder = null;
      q.holderWaiting = false;
    }
    if (q.holder == null && q.waiting.isEmpty()) {
      keys.remove(key);
    } else {
      markRunnable(key, q);
    }
  }

  /**
   * {@code d} may not go before {@code earlier}, which the store knows and memory did not: {@code
   * d} waits again, and the key waits for {@code earlier}.
   */
  void blockedBy(QueuedDelivery d, QueuedDelivery earlier, boolean earlierDue) {
    RouteKey key = keyOf(d);
    KeyQueue q = keys.computeIfAbsent(key, k -> new KeyQueue());
    q.waiting.add(d);
    q.holder = earlier.id();
    q.holderWaiting = false;
    for (QueuedDelivery w : q.waiting) {
      if (w.id().equals(earlier.id())) {
        q.holderWaiting = true;
      }
    }
    if (earlierDue && !known.containsKey(earlier.id())) {
      known.put(earlier.id(), earlier);
      q.waiting.add(earlier);
      q.holderWaiting = true;
    }
    markRunnable(key, q);
  }

  /**
   * Frees keys whose holder is no longer in memory, so that the next attempt of the key asks the
   * store again (the holder may have been discarded or replayed meanwhile).
   */
  void recheckHeldKeys() {
    for (Iterator<Map.Entry<RouteKey, KeyQueue>> it = keys.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<RouteKey, KeyQueue> e = it.next();
      KeyQueue q = e.getValue();
      if (q.holder != null && !known.containsKey(q.holder)) {
        q.holder = null;
        q.holderWaiting = false;
      }
      if (q.holder == null && q.waiting.isEmpty()) {
        it.remove();
      } else {
        markRunnable(e.getKey(), q);
      }
    }
  }

  private int scansInFlight;
  private final Set<DeliveryId> finishedDuringScans = new java.util.HashSet<>();

  /**
   * A scan read the store before it was handed back; a delivery that finished meanwhile may be in
   * its rows as still waiting, and must not be taken in again.
   */
  void scanStarted() {
    scansInFlight++;
  }

  void scanEnded() {
    if (--scansInFlight <= 0) {
      scansInFlight = 0;
      finishedDuringScans.clear();
    }
  }

  void noteFinished(DeliveryId id) {
    if (scansInFlight > 0) {
      finishedDuringScans.add(id);
    }
  }

  boolean finishedDuringScan(DeliveryId id) {
    return finishedDuringScans.contains(id);
  }

  /** Deliveries waiting in memory (not running). */
  int waiting() {
    return known.size() - running;
  }

  boolean available() {
    return destination != null;
  }
}
