package dev.switchboard.dispatch;

import dev.switchboard.store.DeliveryQueue;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The newest event time delivered per (route, key), for routes that skip stale events: a cache of
 * the store's watermarks. Any thread.
 */
final class Watermarks {
  private static final int MOST = 200_000;

  private final DeliveryQueue queue;
  private final ConcurrentHashMap<RouteKey, Instant> cached = new ConcurrentHashMap<>();

  Watermarks(DeliveryQueue queue) {
    this.queue = queue;
  }

  /** The newest event time delivered for {@code key}, from memory when known, or null. */
  Instant newest(RouteKey key) {
    Instant known = cached.get(key);
    if (known != null) {
      return known;
    }
    return newestStored(key);
  }

  /** The store's watermark, which another node may have moved: read it, and remember it. */
  Instant newestStored(RouteKey key) {
    Instant stored = queue.watermark(key.route(), key.key()).orElse(null);
    if (stored != null) {
      remember(key, stored);
    }
    return stored;
  }

  void remember(RouteKey key, Instant eventTime) {
    if (cached.size() > MOST) {
      cached.clear(); // a cache: the store has every watermark
    }
    cached.merge(key, eventTime, (a, b) -> a.isAfter(b) ? a : b);
  }
}
