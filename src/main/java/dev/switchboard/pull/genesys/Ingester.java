package dev.switchboard.pull.genesys;

import dev.switchboard.ingest.IngestResponse;
import dev.switchboard.pull.PulledIngest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores a {@link NotificationSource}'s events, streamed or backfilled, through the gateway's
 * durable ingest, and keeps the source's tally: events stored, duplicates absorbed, and every error
 * the source met (in words, for {@code lastError}).
 */
final class Ingester {
  // one logger for all a source says, whichever of its parts says it
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);

  /**
   * Events stored at once, from a socket or a backfill: each waits for its group commit, so one at
   * a time would leave the writer's batches empty. Order among them is the store's event time.
   */
  static final int WINDOW = 64;

  enum Stored {
    NEW,
    DUPLICATE,
    REFUSED,
    /** Not stored: the source stopped first. Coverage must not pass it. */
    ABANDONED
  }

  private final String source;
  private final PulledIngest ingest;
  private final Clock clock;
  private final BooleanSupplier closed;
  private final AtomicLong events = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile String lastError;
  private volatile Instant lastErrorAt;

  Ingester(String source, PulledIngest ingest, Clock clock, BooleanSupplier closed) {
    this.source = source;
    this.ingest = ingest;
    this.clock = clock;
    this.closed = closed;
  }

  /**
   * Stores one event, trying again while the gateway answers 503 (store unwritable, shutting down,
   * back-pressure); a refusal (schema, key) is counted and logged, as a sender would drop it.
   * Whether it was stored (or was already there).
   */
  Stored store(String text, Map<String, String> headers) {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    for (int round = 0; !closed.getAsBoolean(); round++) {
      IngestResponse answer = ingest.ingest(body, headers);
      int status = answer.status();
      if (status / 100 == 2) {
        if (Boolean.TRUE.equals(answer.body().get("duplicate"))) {
          duplicates.incrementAndGet();
          return Stored.DUPLICATE;
        }
        events.incrementAndGet();
        return Stored.NEW;
      }
      if (status != 503 && status < 500) {
        failed("an event was refused: HTTP " + status + " " + answer.body().get("error"));
        return Stored.REFUSED;
      }
      try {
        Thread.sleep(Math.min(5_000, 100L << Math.min(round, 6)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Stored.ABANDONED;
      }
    }
    return Stored.ABANDONED;
  }

  /** Counts an error of the source and keeps its words for the status. */
  void failed(String error) {
    errors.incrementAndGet();
    lastError = error;
    lastErrorAt = clock.instant();
    LOG.warn("genesys-notifications source {}: {}", source, error);
  }

  long events() {
    return events.get();
  }

  long duplicates() {
    return duplicates.get();
  }

  long errors() {
    return errors.get();
  }

  String lastError() {
    return lastError;
  }

  Instant lastErrorAt() {
    return lastErrorAt;
  }
}
