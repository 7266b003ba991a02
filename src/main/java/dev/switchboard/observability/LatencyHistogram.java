package dev.switchboard.observability;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latencies in exponentially growing buckets (each 1.2 times wider than the one before, from 1 µs
 * to beyond an hour), so recording is one increment and a percentile is read back within about
 * ±10%: good enough to draw, cheap enough to sit on the ack path.
 */
final class LatencyHistogram {
  static final int BUCKETS = 128;
  private static final double FACTOR = 1.2;
  private static final double LOG_FACTOR = Math.log(FACTOR);

  private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

  void record(long micros) {
    counts.incrementAndGet(bucketOf(micros));
  }

  static int bucketOf(long micros) {
    if (micros <= 1) {
      return 0;
    }
    return (int) Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / LOG_FACTOR));
  }

  long count() {
    long total = 0;
    for (int i = 0; i < BUCKETS; i++) {
      total += counts.get(i);
    }
    return total;
  }

  /**
   * The latency below which a fraction {@code q} of the recorded ones fall, in milliseconds (the
   * geometric middle of its bucket), or NaN when nothing was recorded.
   */
  double percentileMillis(double q) {
    long[] snapshot = new long[BUCKETS];
    long total = 0;
    for (int i = 0; i < BUCKETS; i++) {
      snapshot[i] = counts.get(i);
      total += snapshot[i];
    }
    if (total == 0) {
      return Double.NaN;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += snapshot[i];
      if (seen >= rank) {
        return Math.pow(FACTOR, i + 0.5) / 1000.0;
      }
    }
    return Math.pow(FACTOR, BUCKETS - 0.5) / 1000.0;
  }

  void reset() {
    for (int i = 0; i < BUCKETS; i++) {
      counts.set(i, 0);
    }
  }
}
