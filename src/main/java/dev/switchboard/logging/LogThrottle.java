package dev.switchboard.logging;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * A failure that repeats many times a second (each write refused during a store outage, each
 * request answered 503) is logged once, then at most once per interval, each line saying how many
 * were not logged since the one before. So an outage shows in the log without flooding it.
 */
public final class LogThrottle {
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private final AtomicLong next;
  private final AtomicLong skipped = new AtomicLong();

  public LogThrottle(Duration interval) {
    this(interval, System::nanoTime);
  }

  LogThrottle(Duration interval, LongSupplier nanoTime) {
    this.intervalNanos = interval.toNanos();
    this.nanoTime = nanoTime;
    this.next = new AtomicLong(nanoTime.getAsLong());
  }

  /**
   * Runs {@code line} (which logs) with the number of occurrences not logged since the last line,
   * if a line is due; otherwise counts this occurrence.
   */
  public void log(LongConsumer line) {
    long now = nanoTime.getAsLong();
    long due = next.get();
    if (now - due >= 0 && next.compareAndSet(due, now + intervalNanos)) {
      line.accept(skipped.getAndSet(0));
    } else {
      skipped.incrementAndGet();
    }
  }

  /** " (N more not logged)" for a count above zero, else nothing: the end of a throttled line. */
  public static String more(long skipped) {
    return skipped > 0 ? " (" + skipped + " more since the last such line)" : "";
  }
}
