package dev.switchboard.config;

import java.time.Duration;
import java.util.Set;

/**
 * A delivery target. The keys common to every connector are typed here; the connector's own keys
 * (url, object, topic, …) are in {@code settings}, typed by the connector's {@link ConnectorType}
 * when the file was loaded.
 *
 * @param settings the connector's own settings (a record of its package); null only for a type the
 *     loader refused
 * @param concurrency most attempts in flight at once (default 16)
 * @param timeout request timeout (default 30s)
 * @param breaker when the destination is considered down
 * @param traceparent whether a connector that sends HTTP requests adds the attempt's W3C {@code
 *     traceparent} header while tracing is on (docs/telemetry.md; default true)
 */
public record DestinationConfig(
    String name,
    String type,
    ConnectorSettings settings,
    Retry retry,
    RateLimit rateLimit,
    int concurrency,
    Duration timeout,
    Breaker breaker,
    boolean traceparent) {

  /** The request timeout of a destination that writes none. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  public DestinationConfig(
      String name,
      String type,
      ConnectorSettings settings,
      Retry retry,
      RateLimit rateLimit,
      int concurrency,
      Duration timeout,
      Breaker breaker) {
    this(name, type, settings, retry, rateLimit, concurrency, timeout, breaker, true);
  }

  public DestinationConfig(
      String name,
      String type,
      ConnectorSettings settings,
      Retry retry,
      RateLimit rateLimit,
      int concurrency,
      Duration timeout) {
    this(name, type, settings, retry, rateLimit, concurrency, timeout, Breaker.DEFAULT);
  }

  /**
   * Exponential backoff with full jitter, from {@code initial} doubling to {@code maxDelay}, until
   * {@code maxAttempts} (0 = no cap) or {@code maxAge} is reached.
   *
   * @param retryOn statuses retried although they would otherwise be dead-lettered at once (e.g.
   *     409 from a receiver that answers it while it is still processing)
   * @param maxServerDelay the longest wait the destination may ask for ({@code Retry-After}, a
   *     rate-limit reset) before it is tried again; a longer request is cut to this (default {@code
   *     maxDelay})
   */
  public record Retry(
      Duration initial,
      Duration maxDelay,
      int maxAttempts,
      Duration maxAge,
      Set<Integer> retryOn,
      Duration maxServerDelay) {
    public static final Retry DEFAULT =
        new Retry(Duration.ofSeconds(1), Duration.ofMinutes(15), 0, Duration.ofHours(24));

    public Retry {
      retryOn = retryOn == null ? Set.of() : Set.copyOf(retryOn);
      maxServerDelay = maxServerDelay == null ? maxDelay : maxServerDelay;
    }

    public Retry(
        Duration initial,
        Duration maxDelay,
        int maxAttempts,
        Duration maxAge,
        Set<Integer> retryOn) {
      this(initial, maxDelay, maxAttempts, maxAge, retryOn, null);
    }

    public Retry(Duration initial, Duration maxDelay, int maxAttempts, Duration maxAge) {
      this(initial, maxDelay, maxAttempts, maxAge, Set.of(), null);
    }
  }

  /**
   * Circuit breaker: after {@code failures} retryable failures in a row the destination is left
   * alone for {@code openFor}, then one probe decides whether it is back.
   */
  public record Breaker(int failures, Duration openFor) {
    public static final Breaker DEFAULT = new Breaker(5, Duration.ofSeconds(30));
  }
}
