package dev.switchboard.observability;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The last hour in 10-second steps, in memory, for the dashboard's charts: ingest by outcome, ack
 * latency, deliveries by destination and outcome, end-to-end latency, and queue depth and dead
 * letters per destination (sampled). A ring of {@link #SLOTS} slots; a slot is cleared when its
 * step comes round again, so nothing grows.
 *
 * <p>Failure policy: these are figures to draw, not records. A count racing with its slot being
 * recycled an hour later may be lost, and a figure for a step that has already left the ring is
 * dropped. Prometheus ({@code /metrics}) keeps the exact counters.
 */
public final class StatsSeries {
  public static final Duration STEP = Duration.ofSeconds(10);
  public static final int SLOTS = 360;
  private static final long STEP_MS = STEP.toMillis();

  /** One step's figures. Latencies are null when nothing was measured in the step. */
  public record Point(
      Instant start,
      Map<String, Long> ingest,
      Latency ack,
      Map<String, Map<String, Long>> deliveries,
      Latency endToEnd,
      Map<String, Queue> queues) {}

  /** How many were measured and their approximate median and 99th percentile. */
  public record Latency(long count, double p50Millis, double p99Millis) {}

  /** A destination's unfinished deliveries and dead letters when the step was sampled. */
  public record Queue(long depth, long deadLetters) {}

  private static final class Slot {
    volatile long step = Long.MIN_VALUE;
    final ConcurrentHashMap<String, LongAdder> ingest = new ConcurrentHashMap<>();
    final LatencyHistogram ack = new LatencyHistogram();
    final ConcurrentHashMap<String, ConcurrentHashMap<String, LongAdder>> deliveries =
        new ConcurrentHashMap<>();
    final LatencyHistogram endToEnd = new LatencyHistogram();
    final ConcurrentHashMap<String, Queue> queues = new ConcurrentHashMap<>();

    void reset(long newStep) {
      ingest.clear();
      ack.reset();
      deliveries.clear();
      endToEnd.reset();
      queues.clear();
      step = newStep;
    }
  }

  private final Clock clock;
  private final Slot[] ring = new Slot[SLOTS];

  public StatsSeries(Clock clock) {
    this.clock = clock;
    for (int i = 0; i < SLOTS; i++) {
      ring[i] = new Slot();
    }
  }

  /** One ingest request's outcome (accepted, duplicate, quarantined or a rejection code). */
  public void ingest(String outcome) {
    Slot s = current();
    if (s != null) {
      s.ingest.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }
  }

  public void ackLatency(long nanos) {
    Slot s = current();
    if (s != null) {
      s.ack.record(nanos / 1_000);
    }
  }

  /** One finished claim (delivered, retry, dead, skipped). */
  public void delivery(String destination, String outcome) {
    Slot s = current();
    if (s != null) {
      s.deliveries
          .computeIfAbsent(destination, k -> new ConcurrentHashMap<>())
          .computeIfAbsent(outcome, k -> new LongAdder())
          .increment();
    }
  }

  public void endToEnd(Duration latency) {
    Slot s = current();
    if (s != null) {
      s.endToEnd.record(Math.max(0, latency.toNanos() / 1_000));
    }
  }

  /** Records a destination's queue for the current step (the last sample in a step wins). */
  public void queue(String destination, long depth, long deadLetters) {
    Slot s = current();
    if (s != null) {
      s.queues.put(destination, new Queue(depth, deadLetters));
    }
  }

  /** Whether the current step already has a queue sample. */
  public boolean queueSampled() {
    Slot s = current();
    return s != null && !s.queues.isEmpty();
  }

  /**
   * Attempts per second a destination made (delivered, retried or dead) over the last {@code over},
   * the current step included.
   */
  public double attemptsPerSecond(String destination, Duration over) {
    long nowMs = clock.millis();
    long last = Math.floorDiv(nowMs, STEP_MS);
    long steps = Math.max(1, Math.min(SLOTS, over.toMillis() / STEP_MS));
    long first = last - steps + 1;
    long attempts = 0;
    for (long step = first; step <= last; step++) {
      Slot s = ring[slotIndex(step)];
      Map<String, LongAdder> outcomes = s.step == step ? s.deliveries.get(destination) : null;
      if (outcomes != null) {
        for (String outcome : List.of("delivered", "retry", "dead")) {
          LongAdder n = outcomes.get(outcome);
          attempts += n == null ? 0 : n.sum();
        }
      }
    }
    double seconds = Math.max(1, nowMs - first * STEP_MS) / 1000.0;
    return attempts / seconds;
  }

  /** The steps covering the last {@code window} (at most an hour), oldest first. */
  public List<Point> points(Duration window) {
    long last = Math.floorDiv(clock.millis(), STEP_MS);
    long steps = Math.max(1, Math.min(SLOTS, ceilDiv(window.toMillis(), STEP_MS)));
    List<Point> points = new ArrayList<>();
    for (long step = last - steps + 1; step <= last; step++) {
      points.add(pointOf(step, ring[slotIndex(step)]));
    }
    return points;
  }

  private static Point pointOf(long step, Slot s) {
    Instant start = Instant.ofEpochMilli(step * STEP_MS);
    if (s.step != step) {
      return new Point(start, Map.of(), null, Map.of(), null, Map.of());
    }
    Map<String, Long> ingest = new TreeMap<>();
    s.ingest.forEach((k, v) -> ingest.put(k, v.sum()));
    Map<String, Map<String, Long>> deliveries = new TreeMap<>();
    s.deliveries.forEach(
        (destination, outcomes) -> {
          Map<String, Long> counts = new TreeMap<>();
          outcomes.forEach((k, v) -> counts.put(k, v.sum()));
          deliveries.put(destination, counts);
        });
    return new Point(
        start, ingest, latency(s.ack), deliveries, latency(s.endToEnd), new TreeMap<>(s.queues));
  }

  private static Latency latency(LatencyHistogram h) {
    long count = h.count();
    return count == 0
        ? null
        : new Latency(count, h.percentileMillis(0.50), h.percentileMillis(0.99));
  }

  /** The slot of the step the clock is in, or null if the clock went back past a recycled one. */
  private Slot current() {
    long step = Math.floorDiv(clock.millis(), STEP_MS);
    Slot s = ring[slotIndex(step)];
    if (s.step != step) {
      synchronized (s) {
        if (s.step > step) {
          return null;
        }
        if (s.step != step) {
          s.reset(step);
        }
      }
    }
    return s;
  }

  private static int slotIndex(long step) {
    return (int) Math.floorMod(step, (long) SLOTS);
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
