package dev.switchboard.destination;

import dev.switchboard.config.RateLimit;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;

/**
 * An enricher's {@code rate_limit}, kept by waiting for a free slot: lookups are part of a delivery
 * attempt, so a short wait is cheaper than a retry. Shared by every lookup of one enricher,
 * concurrently.
 */
public final class LookupRate {
  private final Bucket bucket;

  private LookupRate(Bucket bucket) {
    this.bucket = bucket;
  }

  /** The enricher's limit; none when {@code limit} is null. */
  public static LookupRate of(RateLimit limit) {
    if (limit == null) {
      return new LookupRate(null);
    }
    return new LookupRate(
        Bucket.builder()
            .addLimit(
                Bandwidth.builder()
                    .capacity(limit.count())
                    .refillGreedy(limit.count(), limit.per())
                    .build())
            .build());
  }

  /** What a lookup that got no slot in time comes to: it is tried again later. */
  public static final Enricher.Lookup.RetryLater NO_SLOT =
      new Enricher.Lookup.RetryLater("enricher rate limit: no free slot in time", 0, null);

  /**
   * Takes a slot, waiting up to {@code within} for one.
   *
   * @return false when none came in time (or the wait was interrupted): the lookup is tried later
   */
  public boolean acquire(Duration within) {
    if (bucket == null) {
      return true;
    }
    try {
      return bucket.asBlocking().tryConsume(1, within);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
