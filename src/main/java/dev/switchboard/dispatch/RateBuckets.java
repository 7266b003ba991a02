package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** A destination's rate limit as a token bucket, on the dispatcher's clock. */
final class RateBuckets {
  private RateBuckets() {}

  /**
   * This node's share of the destination's rate limit (a cluster divides it by its {@code nodes}),
   * or null when it has none: at most {@code count} sends in any window of {@code per}, a bucket of
   * one token refilled smoothly, so sends are paced evenly and a burst never exceeds the rate.
   */
  static Bucket of(DestinationConfig config, int nodes, Clock clock, int initialTokens) {
    if (config.rateLimit() == null) {
      return null;
    }
    TimeMeter meter =
        new TimeMeter() {
          @Override
          public long currentTimeNanos() {
            Instant now = clock.instant();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
          }

          @Override
          public boolean isWallClockBased() {
            return true;
          }
        };
    Duration interval =
        config.rateLimit().per().multipliedBy(nodes).dividedBy(config.rateLimit().count());
    if (interval.isZero()) {
      interval = Duration.ofNanos(1);
    }
    Duration every = interval;
    return Bucket.builder()
        .withCustomTimePrecision(meter)
        .addLimit(limit -> limit.capacity(1).refillGreedy(1, every).initialTokens(initialTokens))
        .build();
  }
}
