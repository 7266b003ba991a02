package dev.switchboard.store;

import dev.switchboard.domain.DeliveryId;
import java.time.Instant;

/**
 * How a claimed delivery ends its claim. Every variant is written only while the claim token still
 * holds the lease: a dispatcher whose lease expired cannot overwrite what another one wrote since.
 */
public sealed interface Finish {
  DeliveryId id();

  String token();

  /** The destination took it. {@code watermark} is set on routes that suppress stale events. */
  record Delivered(DeliveryId id, String token, AttemptRecord attempt, Watermark watermark)
      implements Finish {}

  /** A retryable failure with attempts and age left. */
  record Retry(
      DeliveryId id, String token, AttemptRecord attempt, Instant nextAttemptAt, String errorClass)
      implements Finish {}

  /**
   * Dead letter. {@code attempt} is null when no request was made (a transform error).
   *
   * @param error why, kept as the delivery's last error
   */
  record Dead(DeliveryId id, String token, AttemptRecord attempt, String error, String errorClass)
      implements Finish {}

  /** Not sent: stale under per-key ordering, or filtered after enrichment. */
  record Skipped(DeliveryId id, String token, String reason) implements Finish {}

  /** The newest event time delivered for a (route, partition key). */
  record Watermark(String route, String partitionKey, Instant eventTime) {}
}
