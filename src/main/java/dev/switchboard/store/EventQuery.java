package dev.switchboard.store;

import dev.switchboard.domain.EventStatus;
import java.time.Instant;

/**
 * An events search, newest first. Every filter is optional (null = any); the ones given must all
 * match.
 *
 * @param receivedFrom inclusive lower bound of the receive time
 * @param receivedTo exclusive upper bound
 * @param text a case-insensitive substring of the stored (redacted) payload; the store looks at no
 *     more than {@link #TEXT_SCAN_ROWS} rows matching the other filters per page
 * @param after the previous page's end, or null for the first page
 * @param limit rows per page
 */
public record EventQuery(
    String source,
    EventStatus status,
    Instant receivedFrom,
    Instant receivedTo,
    String partitionKey,
    String idempotencyKey,
    String text,
    PagePosition after,
    int limit) {

  /** How many rows one page of a text search reads at most before it answers. */
  public static final int TEXT_SCAN_ROWS = 20_000;

  public EventQuery {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1");
    }
  }
}
