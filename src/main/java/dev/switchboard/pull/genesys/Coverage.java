package dev.switchboard.pull.genesys;

import dev.switchboard.config.PullConfig;
import dev.switchboard.store.EventStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Until when a {@link NotificationSource} is known to hold every event, and its gaps.
 *
 * <p>The source stores, with the same writer as its events, until when it is known to hold every
 * event ({@link EventStore#savePullCoverage}): every couple of seconds while every channel has been
 * connected without a break. A break (a dropped socket, a restart, a crash) stops that clock; once
 * every channel is connected again, the conversations that changed between the stored time (less
 * {@code backfill.overlap}) and the reconnection are read from the Analytics API and ingested as
 * the events their topics would have streamed ({@link Backfiller}); only then does the clock move
 * on. Duplicates from overlapping channels and backfills are absorbed by the source's idempotency
 * key ({@link Messages}).
 *
 * <p>The keeper thread moves the coverage; the backfill thread only records a failed backfill, the
 * reader only the messages in flight; the status reads {@link #coveredUntil()} and {@link
 * #backfilling()}.
 */
final class Coverage {
  // one logger for all a source says, whichever of its parts says it
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);
  private static final Duration SAVE_EVERY = Duration.ofSeconds(2);

  private final String source;
  private final PullConfig config;
  private final EventStore store;
  private final Clock clock;
  private final Ingester ingester;
  private final Backfiller backfiller;
  private final Executor backfillThread;
  private final Executor keeper;
  private final Supplier<List<ChannelSocket>> sockets;

  private volatile Instant coveredUntil;
  private volatile Instant continuousSince;
  private volatile Instant gapFrom;
  private volatile boolean backfilling;
  private volatile Instant backfillRetryAt = Instant.MIN;
  private int backfillFailures;
  private Instant lastSave = Instant.MIN;

  /**
   * Messages received and not yet stored, by arrival order: coverage never passes the oldest. At
   * most {@link Ingester#WINDOW} per socket are in flight, the socket asked for one more as each is
   * stored.
   */
  private final ConcurrentSkipListMap<Long, Instant> inFlight = new ConcurrentSkipListMap<>();

  private final AtomicLong arrivals = new AtomicLong();

  /**
   * @param backfillThread where a gap is filled
   * @param keeper where the coverage moves (after a backfill too)
   * @param sockets every channel's current socket
   */
  Coverage(
      String source,
      PullConfig config,
      EventStore store,
      Clock clock,
      Ingester ingester,
      Backfiller backfiller,
      Executor backfillThread,
      Executor keeper,
      Supplier<List<ChannelSocket>> sockets) {
    this.source = source;
    this.config = config;
    this.store = store;
    this.clock = clock;
    this.ingester = ingester;
    this.backfiller = backfiller;
    this.backfillThread = backfillThread;
    this.keeper = keeper;
    this.sockets = sockets;
  }

  /** Reads the stored coverage: null on a first start. */
  Instant load() {
    coveredUntil = store.pullCoverage(source).orElse(null);
    return coveredUntil;
  }

  Instant coveredUntil() {
    return coveredUntil;
  }

  boolean backfilling() {
    return backfilling;
  }

  /** A message arrived and is being stored: until it is, coverage stays before {@code at}. */
  long arrived(Instant at) {
    long seq = arrivals.incrementAndGet();
    inFlight.put(seq, at);
    return seq;
  }

  void stored(long seq) {
    inFlight.remove(seq);
  }

  /** The stream has a gap from now on. */
  void broken(String why) {
    if (continuousSince != null) {
      LOG.info("genesys-notifications source {}: gap opens ({})", source, why);
    }
    continuousSince = null;
  }

  /** Moves the coverage on, or starts filling the gap, once every channel is connected. */
  void keep(boolean allLive) {
    Instant now = clock.instant();
    if (!allLive) {
      broken("not every channel is connected");
      return;
    }
    if (continuousSince == null) {
      continuousSince = now;
      if (coveredUntil != null && config.backfill().enabled()) {
        gapFrom = coveredUntil.minus(config.backfill().overlap());
      } else {
        gapFrom = null;
        save(now); // a first start begins when it connects: there is nothing before to fill
      }
    }
    if (gapFrom != null) {
      Instant settled = continuousSince.plus(config.backfill().settle());
      if (!backfilling && !now.isBefore(backfillRetryAt) && !now.isBefore(settled)) {
        Instant from = gapFrom;
        Instant to = continuousSince;
        backfilling = true;
        backfillThread.execute(() -> backfillSafely(from, to));
      }
      return;
    }
    if (Duration.between(lastSave, now).compareTo(SAVE_EVERY) >= 0) {
      save(safeUntil(now));
    }
  }

  /**
   * Up to when the stream is known complete: each channel's socket delivers in order, so everything
   * sent before the last message heard on every channel has arrived; never past a message still
   * being stored. (A socket that died silently stops this clock at once, long before it is declared
   * dead.)
   */
  private Instant safeUntil(Instant now) {
    Instant until = now;
    for (ChannelSocket c : sockets.get()) {
      Instant heard = c.lastMessage;
      if (heard == null || heard.isBefore(until)) {
        until = heard == null ? until : heard;
      }
    }
    var oldest = inFlight.firstEntry();
    Instant busy = oldest == null ? null : oldest.getValue();
    return busy != null && busy.isBefore(until) ? busy : until;
  }

  private void save(Instant until) {
    try {
      store.savePullCoverage(source, until);
      if (coveredUntil == null || until.isAfter(coveredUntil)) {
        coveredUntil = until;
      }
      lastSave = clock.instant();
    } catch (RuntimeException e) {
      ingester.failed("cannot record coverage in the store: " + e.getClass().getSimpleName());
    }
  }

  private void backfillSafely(Instant from, Instant to) {
    MDC.put("source", source);
    try {
      long count = backfiller.fill(from, to);
      LOG.info(
          "genesys-notifications source {}: gap {} to {} backfilled, {} event(s) from {}"
              + " conversation topic(s)",
          source,
          from,
          to,
          count,
          backfiller.topics());
      keeper.execute(() -> backfillDone(to));
    } catch (PlatformApi.Refused refused) {
      ingester.failed("backfill: " + refused.getMessage());
      backfillRetryAt =
          clock.instant().plus(NotificationSource.backoff(refused, ++backfillFailures));
      backfilling = false;
    } catch (Backfiller.Abandoned stopping) {
      backfilling = false; // the coverage stays where the gap began
    } catch (RuntimeException e) {
      ingester.failed("backfill failed: " + e.getClass().getSimpleName());
      backfillRetryAt = clock.instant().plus(Duration.ofSeconds(5));
      backfilling = false;
    } finally {
      MDC.remove("source");
    }
  }

  private void backfillDone(Instant to) {
    backfillFailures = 0;
    save(to);
    // a break and a reconnection while it ran opened a gap after `to`: filled next, from here
    gapFrom = to.equals(continuousSince) ? null : coveredUntil.minus(config.backfill().overlap());
    backfilling = false;
  }
}
