package dev.switchboard.dispatch;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.store.QueuedDelivery;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The deliveries one destination holds in memory, waiting or running, and the per-key order among
 * them. A cache of the store, bounded by its capacity and by its share of the bytes the lanes may
 * hold ({@link LaneBytes}): past either, new work is left in the store ({@link #overflow}) and read
 * in later, in arrival order. Deliveries of routes with per-key ordering wait in one queue per
 * (route, key), in event-time order, and a key runs one delivery at a time; everything else waits
 * in arrival order. Only the dispatcher's loop thread touches it, through its {@link
 * DestinationLane}.
 */
final class LaneMemory {
  /** Event-time order, ties by arrival. */
  static final Comparator<QueuedDelivery> EVENT_ORDER =
      Comparator.comparing(QueuedDelivery::eventTime).thenComparingLong(QueuedDelivery::seq);

  /** The deliveries of one (route, key) and who holds the key. */
  private static final class KeyQueue {
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

  private final int capacity;
  private final LaneBytes bytes;

  /** What the deliveries held here weigh ({@link QueuedDelivery#heldBytes}). */
  private long heldBytes;

  /** What every delivery ever taken in weighed, and how many: the average a scan is sized by. */
  private long seenBytes;

  private long seenCount;

  /** Before any delivery was seen, what one is guessed to weigh when sizing a scan. */
  static final long FIRST_GUESS_BYTES = 64 * 1024;

  /** Counts the times memory was found behind the store, so a scan under way can tell. */
  private long behindMarks;

  /**
   * Cluster mode (ADR 0008): what waits here was claimed from the store, which already keeps
   * per-key order (one delivery of a key claimed at a time, in order), so every delivery waits in
   * arrival order and none in a key queue.
   */
  private final boolean orderedByStore;

  /** Every delivery held in memory (waiting or running), by id. */
  private final Map<DeliveryId, QueuedDelivery> known = new HashMap<>();

  private final ArrayDeque<QueuedDelivery> ready = new ArrayDeque<>();
  private final Map<RouteKey, KeyQueue> keys = new HashMap<>();
  private final ArrayDeque<RouteKey> runnableKeys = new ArrayDeque<>();
  private final Set<RouteKey> runnableSet = new HashSet<>();
  private volatile Set<String> perKeyRoutes;

  /** Memory was full: the store holds work that is not here. */
  private boolean overflow;

  private int scansInFlight;
  private final Set<DeliveryId> finishedDuringScans = new HashSet<>();

  LaneMemory(int capacity, boolean orderedByStore, Set<String> perKeyRoutes) {
    this(capacity, LaneBytes.unbounded(), orderedByStore, perKeyRoutes);
  }

  LaneMemory(int capacity, LaneBytes bytes, boolean orderedByStore, Set<String> perKeyRoutes) {
    this.capacity = capacity;
    this.bytes = bytes;
    this.orderedByStore = orderedByStore;
    this.perKeyRoutes = Set.copyOf(perKeyRoutes);
  }

  int capacity() {
    return capacity;
  }

  /** Deliveries held, waiting or running. */
  int size() {
    return known.size();
  }

  boolean holds(DeliveryId id) {
    return known.containsKey(id);
  }

  boolean overflow() {
    return overflow;
  }

  /**
   * Marks taken when a scan starts: {@link #caughtUp} then knows whether memory fell behind since.
   */
  long behindMarks() {
    return behindMarks;
  }

  /**
   * A scan that started at {@code marks} read the store to its end: memory holds everything that
   * was waiting, unless work was left in the store after the scan started (then it stays behind).
   */
  void caughtUp(long marks) {
    if (marks == behindMarks) {
      overflow = false;
    }
  }

  /** A scan stopped before the end of what waits in the store, or work was left there. */
  void behind() {
    overflow = true;
    behindMarks++;
  }

  /**
   * Work was left in the store for lack of room, and memory has emptied enough (to below half its
   * count and half its bytes) that reading it in is worth a scan.
   */
  boolean wantsRefill(int waiting) {
    return overflow && waiting < capacity / 2 && heldBytes < bytes.share() / 2;
  }

  /**
   * How many rows a scan should read, at most {@code max}: what fits in the count and in the bytes
   * left, reckoned at the average weight seen so far (a guess before any). 0 when full.
   */
  int rowsThatFit(int max) {
    int room = capacity - known.size();
    if (room <= 0) {
      return 0;
    }
    long average = seenCount == 0 ? FIRST_GUESS_BYTES : Math.max(1, seenBytes / seenCount);
    long free = bytes.share() - heldBytes;
    long byBytes = known.isEmpty() ? Math.max(1, free / average) : Math.max(0, free / average);
    return (int) Math.min(Math.min(max, room), byBytes);
  }

  /** What the deliveries held here weigh. */
  long heldBytes() {
    return heldBytes;
  }

  private void hold(QueuedDelivery d) {
    if (known.put(d.id(), d) == null) {
      long weight = d.heldBytes();
      heldBytes += weight;
      bytes.take(weight);
      seenBytes += weight;
      seenCount++;
    }
  }

  private void forget(DeliveryId id) {
    QueuedDelivery d = known.remove(id);
    if (d != null) {
      long weight = d.heldBytes();
      heldBytes -= weight;
      bytes.give(weight);
    }
  }

  Set<String> perKeyRoutes() {
    return perKeyRoutes;
  }

  /** Adds a delivery; false when memory is full (the store keeps it for a later scan). */
  boolean add(QueuedDelivery d) {
    if (known.containsKey(d.id())) {
      return true;
    }
    // an empty lane always takes one, however large
    if (known.size() >= capacity
        || (!known.isEmpty() && heldBytes + d.heldBytes() > bytes.share())) {
      behind();
      return false;
    }
    hold(d);
    RouteKey key = orderedByStore ? null : keyOf(d);
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
  void release(QueuedDelivery d, boolean keepsKey) {
    forget(d.id());
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
      hold(earlier);
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

  /**
   * Drops the deliveries waiting in memory (they stay pending in the store and the next sweep reads
   * them in again) and takes the routes with per-key order from now on. Running deliveries stay
   * known until they finish; the store's check for an earlier unfinished delivery of the key keeps
   * order meanwhile.
   */
  void forgetWaiting(Set<String> perKeyRoutes) {
    dropWaiting();
    this.perKeyRoutes = Set.copyOf(perKeyRoutes);
    overflow = false;
    behindMarks++;
  }

  /** Takes every delivery waiting here (not running) out of memory, and returns them. */
  List<QueuedDelivery> dropWaiting() {
    List<QueuedDelivery> dropped = new ArrayList<>(ready);
    for (KeyQueue q : keys.values()) {
      dropped.addAll(q.waiting);
    }
    dropped.forEach(d -> forget(d.id()));
    ready.clear();
    keys.clear();
    runnableKeys.clear();
    runnableSet.clear();
    return dropped;
  }

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
}
