package dev.switchboard.emulator;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters and ack latencies of one emulator run; thread-safe. */
public final class Stats {
  final LongAdder sent = new LongAdder();
  final LongAdder accepted = new LongAdder();
  final LongAdder duplicate = new LongAdder();
  final LongAdder rejected = new LongAdder();
  final LongAdder retried = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder otherSuccess = new LongAdder();
  private long[] latencies = new long[1024];
  private int latencyCount;

  synchronized void latencyMicros(long micros) {
    if (latencyCount == latencies.length) {
      latencies = Arrays.copyOf(latencies, latencies.length * 2);
    }
    latencies[latencyCount++] = micros;
  }

  /** A consistent copy of the counters and the latency percentiles (milliseconds). */
  public synchronized Snapshot snapshot() {
    long[] sorted = Arrays.copyOf(latencies, latencyCount);
    Arrays.sort(sorted);
    return new Snapshot(
        sent.sum(),
        accepted.sum(),
        duplicate.sum(),
        rejected.sum(),
        retried.sum(),
        failed.sum(),
        otherSuccess.sum(),
        percentile(sorted, 0.50),
        percentile(sorted, 0.90),
        percentile(sorted, 0.99),
        sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1000.0);
  }

  private static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(i, sorted.length - 1))] / 1000.0;
  }

  /**
   * @param sent distinct requests sent (first attempts)
   * @param accepted answered with the source's accepted status (default 202)
   * @param duplicate answered with the source's duplicate status (default 200)
   * @param rejected answered with a 4xx that is not retried (a permanent failure)
   * @param retried retry attempts made
   * @param failed requests that still failed after the last retry
   * @param otherSuccess other 2xx answers
   */
  public record Snapshot(
      long sent,
      long accepted,
      long duplicate,
      long rejected,
      long retried,
      long failed,
      long otherSuccess,
      double p50Millis,
      double p90Millis,
      double p99Millis,
      double maxMillis) {

    /** Requests that have reached a final outcome. */
    public long finished() {
      return accepted + duplicate + rejected + failed + otherSuccess;
    }

    public Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("sent", sent);
      m.put("accepted", accepted);
      m.put("duplicate", duplicate);
      m.put("rejected", rejected);
      m.put("retried", retried);
      m.put("failed", failed);
      m.put("other_2xx", otherSuccess);
      Map<String, Object> latency = new LinkedHashMap<>();
      latency.put("p50", p50Millis);
      latency.put("p90", p90Millis);
      latency.put("p99", p99Millis);
      latency.put("max", maxMillis);
      m.put("ack_latency_ms", latency);
      return m;
    }

    public String line() {
      return String.format(
          "sent %d  accepted %d  duplicate %d  rejected %d  retried %d  failed %d  ack p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms",
          sent, accepted, duplicate, rejected, retried, failed, p50Millis, p90Millis, p99Millis,
          maxMillis);
    }
  }
}
