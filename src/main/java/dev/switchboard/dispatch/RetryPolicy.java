package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * When a failed delivery is tried again, or that it is not. Pure: the caller supplies the clock
 * readings and the random source, so every schedule can be replayed in a test.
 *
 * <p>Failure policy: exponential backoff with full jitter ({@code initial} doubling up to {@code
 * maxDelay}, the wait drawn uniformly from zero to that cap) so that a receiver coming back from an
 * outage is not hit by every queued delivery at the same instant. A destination's own {@code
 * Retry-After} is a floor: we may wait longer than it asked, never shorter. A delivery gives up
 * (and is dead-lettered) once it has used {@code maxAttempts} (when that is not 0) or when its next
 * try would fall after {@code maxAge} from its first attempt; it never waits past its deadline just
 * to fail once more.
 */
public final class RetryPolicy {

  /** What to do after a failed attempt. */
  public sealed interface Decision {}

  /** Try again, not before {@code at}. */
  public record RetryAt(Instant at) implements Decision {}

  /** Stop trying; {@code reason} goes into the dead-letter record. */
  public record GiveUp(String reason) implements Decision {}

  private final long initialMillis;
  private final long maxDelayMillis;
  private final int maxAttempts;
  private final Duration maxAge;
  private final RandomGenerator random;

  public RetryPolicy(DestinationConfig.Retry retry, RandomGenerator random) {
    Objects.requireNonNull(retry, "retry");
    this.initialMillis = Objects.requireNonNull(retry.initial(), "initial").toMillis();
    this.maxDelayMillis = Objects.requireNonNull(retry.maxDelay(), "maxDelay").toMillis();
    this.maxAttempts = retry.maxAttempts();
    this.maxAge = Objects.requireNonNull(retry.maxAge(), "maxAge");
    this.random = Objects.requireNonNull(random, "random");
    if (initialMillis < 0 || maxDelayMillis < 0 || maxAttempts < 0 || maxAge.isNegative()) {
      throw new IllegalArgumentException("retry durations and max attempts must not be negative");
    }
  }

  /**
   * The wait before the next try after {@code attemptsMade} failed attempts: uniformly random
   * between zero and {@code min(maxDelay, initial × 2^(attemptsMade−1))}, in whole milliseconds.
   */
  public Duration backoff(int attemptsMade) {
    long cap = capMillis(attemptsMade);
    return Duration.ofMillis(cap == 0 ? 0 : random.nextLong(cap + 1));
  }

  /** The ceiling {@link #backoff} draws under; maxDelay once doubling would pass it. */
  long capMillis(int attemptsMade) {
    if (attemptsMade < 1) {
      throw new IllegalArgumentException("attemptsMade must be at least 1, was " + attemptsMade);
    }
    int shift = attemptsMade - 1;
    if (shift >= Long.SIZE - 1 || initialMillis > (maxDelayMillis >> shift)) {
      return maxDelayMillis;
    }
    return Math.min(maxDelayMillis, initialMillis << shift);
  }

  /**
   * Whether, and when, to try again after {@code attemptsMade} failed attempts.
   *
   * @param retryAfter what the destination asked for (Retry-After, rate-limit reset), or null
   */
  public Decision next(int attemptsMade, Instant firstAttemptAt, Instant now, Duration retryAfter) {
    if (maxAttempts > 0 && attemptsMade >= maxAttempts) {
      return new GiveUp("max_attempts (" + maxAttempts + ") reached");
    }
    Duration delay = backoff(attemptsMade);
    if (retryAfter != null && retryAfter.compareTo(delay) > 0) {
      delay = retryAfter;
    }
    // compared as durations so that an absurd Retry-After gives up instead of overflowing Instant
    Duration left = Duration.between(now, firstAttemptAt.plus(maxAge));
    if (delay.compareTo(left) > 0) {
      return new GiveUp("max_age (" + compact(maxAge) + ") exceeded");
    }
    return new RetryAt(now.plus(delay));
  }

  /** In the config file's own units: 24h, 90m, 45s, 500ms. */
  static String compact(Duration d) {
    if (d.toDays() > 365L * 1000) {
      return d.toDays() + "d"; // a wait a server asked for may be any length; toMillis overflows
    }
    long ms = d.toMillis();
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    } else if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    } else if (ms % 1_000 == 0) {
      return ms / 1_000 + "s";
    }
    return ms + "ms";
  }
}
