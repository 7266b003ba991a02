package dev.switchboard.store.sql;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unfinished deliveries (pending, in flight, retry scheduled) per destination, kept in memory: read
 * from the store when it opens, moved by every commit that creates, finishes or replays a delivery,
 * and on a shared database taken again from the store now and then (other nodes move it too). What
 * ingest's high-water mark compares against, destination by destination.
 */
final class BacklogTally {
  private final ConcurrentHashMap<String, AtomicLong> byDestination = new ConcurrentHashMap<>();

  private AtomicLong counter(String destination) {
    return byDestination.computeIfAbsent(destination, d -> new AtomicLong());
  }

  void add(String destination, long n) {
    if (n != 0) {
      counter(destination).addAndGet(n);
    }
  }

  long of(String destination) {
    AtomicLong n = byDestination.get(destination);
    return n == null ? 0 : n.get();
  }

  /** Every destination's together (a handful of counters). */
  long total() {
    long sum = 0;
    for (AtomicLong n : byDestination.values()) {
      sum += n.get();
    }
    return sum;
  }

  Map<String, Long> snapshot() {
    Map<String, Long> copy = new HashMap<>();
    byDestination.forEach((d, n) -> copy.put(d, n.get()));
    return copy;
  }

  /** The store's count replaces the tally (a destination the count does not name has none). */
  void set(Map<String, Long> counted) {
    byDestination.forEach((d, n) -> n.set(counted.getOrDefault(d, 0L)));
    counted.forEach((d, n) -> counter(d).set(n));
  }

  /**
   * Moves each destination's tally by what the store's count found beyond {@code before}, the tally
   * when the count began: a tally that did not move meanwhile becomes the count, and one that moved
   * keeps those moves (some of which the count may hold too, an error no larger than the commits
   * during one count, which the next count corrects instead of adding to). Taking the count only
   * where nothing moved would, on a busy destination, almost never take it, and a node that ingests
   * while others deliver would drift further at every commit.
   */
  void recounted(Map<String, Long> before, Map<String, Long> counted) {
    Set<String> names = new HashSet<>(before.keySet());
    names.addAll(counted.keySet());
    for (String d : names) {
      long drift = counted.getOrDefault(d, 0L) - before.getOrDefault(d, 0L);
      if (drift != 0) {
        counter(d).addAndGet(drift);
      }
    }
  }
}
