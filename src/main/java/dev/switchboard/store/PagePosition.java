package dev.switchboard.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a page of a newest-first listing ended: the last row's time and id. The next page holds the
 * rows strictly before it in (time, id) order, so rows arriving meanwhile never shift a page.
 */
public record PagePosition(Instant at, String id) {
  public PagePosition {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(id, "id");
  }
}
