package dev.switchboard.pull.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.PullConfig;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Fills one gap of a {@link NotificationSource}: pages the Analytics conversation-details query and
 * ingests, for each conversation that changed in the gap, the events its conversation topics would
 * have streamed ({@link Backfill}). When a gap is filled, and what then, is {@link Coverage}'s.
 */
final class Backfiller {
  private static final int PAGE_SIZE = 100;

  private final PullConfig config;
  private final PlatformApi api;
  private final Ingester ingester;
  private final BooleanSupplier closed;
  private final Set<String> topics;
  private final AtomicLong backfilled = new AtomicLong();

  Backfiller(PullConfig config, PlatformApi api, Ingester ingester, BooleanSupplier closed) {
    this.config = config;
    this.api = api;
    this.ingester = ingester;
    this.closed = closed;
    Set<String> fillable = new LinkedHashSet<>();
    config.topics().stream().filter(Backfill::backfillable).forEach(fillable::add);
    this.topics = Set.copyOf(fillable);
  }

  /** The subscribed topics a gap is filled for. */
  int topics() {
    return topics.size();
  }

  /** New events stored by every backfill so far. */
  long backfilled() {
    return backfilled.get();
  }

  /**
   * Ingests what the topics would have streamed about conversations changed in [from, to); how many
   * of them were new.
   */
  long fill(Instant from, Instant to) throws PlatformApi.Refused {
    if (topics.isEmpty() || !from.isBefore(to)) {
      return 0;
    }
    Instant queryFrom = from.minus(config.backfill().lookback());
    AtomicLong count = new AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean abandoned =
        new java.util.concurrent.atomic.AtomicBoolean();
    Semaphore window = new Semaphore(Ingester.WINDOW);
    try (ExecutorService storing = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int page = 1; !closed.getAsBoolean(); page++) {
        PlatformApi.Page found = api.conversations(queryFrom, to, page, PAGE_SIZE);
        for (JsonNode conversation : found.conversations()) {
          if (!Backfill.changedIn(conversation, from, to)) {
            continue;
          }
          for (var envelope : Backfill.envelopes(conversation, topics)) {
            String text = envelope.toString();
            window.acquireUninterruptibly();
            storing.execute(
                () -> {
                  try {
                    Ingester.Stored stored = ingester.store(text, Messages.headers(envelope, text));
                    if (stored == Ingester.Stored.NEW) {
                      backfilled.incrementAndGet();
                      count.incrementAndGet();
                    } else if (stored == Ingester.Stored.ABANDONED) {
                      abandoned.set(true);
                    }
                  } finally {
                    window.release();
                  }
                });
          }
        }
        if (found.conversations().size() < PAGE_SIZE
            || (long) page * PAGE_SIZE >= found.totalHits()) {
          break;
        }
      }
    } // waits for every store of the backfill
    if (closed.getAsBoolean() || abandoned.get()) {
      throw new Abandoned(); // a part of the gap is not stored: it stays a gap
    }
    return count.get();
  }

  /** The source stopped before the backfill ended: the gap stays open for the next start. */
  static final class Abandoned extends RuntimeException {
    Abandoned() {
      super("the source stopped during a backfill", null, false, false);
    }
  }
}
