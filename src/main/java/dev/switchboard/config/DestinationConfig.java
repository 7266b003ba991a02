package dev.switchboard.config;

import java.time.Duration;
import java.util.Map;

/**
 * A delivery target. The keys common to every connector are typed here; the connector's own keys
 * (url, object, topic, …) stay in {@code settings}, already checked against the connector's list of
 * known keys, and are read into a typed record by the connector.
 *
 * @param concurrency most attempts in flight at once (default 16)
 * @param timeout request timeout (default 30s)
 */
public record DestinationConfig(
    String name,
    String type,
    Map<String, Object> settings,
    Retry retry,
    RateLimit rateLimit,
    int concurrency,
    Duration timeout) {

  /**
   * Exponential backoff with full jitter, from {@code initial} doubling to {@code maxDelay}, until
   * {@code maxAttempts} (0 = no cap) or {@code maxAge} is reached.
   */
  public record Retry(Duration initial, Duration maxDelay, int maxAttempts, Duration maxAge) {
    public static final Retry DEFAULT =
        new Retry(Duration.ofSeconds(1), Duration.ofMinutes(15), 0, Duration.ofHours(24));
  }
}
