package dev.switchboard.dispatch;

import dev.switchboard.alerts.OperationalEvents;
import dev.switchboard.observability.DeliveryLog;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.observability.Tracing;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes attempts' outcomes, with their retries, and keeps the leases alive meanwhile: the
 * heartbeat renews them and returns expired ones (another process's, or this one's from before a
 * crash) to pending. Once an outcome is written, the lane hears of it on the loop ({@link
 * #finished}).
 */
final class Outcomes {
  /** Told of every dead letter (docs/operational-events.md); set once the gateway is wired. */
  volatile OperationalEvents ops = OperationalEvents.NONE;

  private static final Logger LOG = LoggerFactory.getLogger(Outcomes.class);

  /** The first wait before writing an outcome again, doubled each time up to the next. */
  private static final long RETRY_FIRST_MS = 100;

  private static final long RETRY_MAX_MS = 2_000;

  /** Runs a task after a wait (a test runs it when it chooses). */
  interface Later {
    Later DELAYED =
        (millis, task) ->
            CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS).execute(task);

    void run(long millis, Runnable task);
  }

  private final DeliveryQueue queue;
  private final Clock clock;
  private final Leases leases;
  private final Duration heartbeat;
  private final Consumer<Runnable> post;
  private final BooleanSupplier stopping;
  private final GatewayMetrics metrics;
  private final Watermarks watermarks;
  private final Supplier<Intake> intake;

  /** {@link System#nanoTime}, which how long the failures have lasted is measured on. */
  private final LongSupplier nanoTime;

  private final Later later;

  Outcomes(
      DeliveryQueue queue,
      Clock clock,
      Leases leases,
      Duration heartbeat,
      Consumer<Runnable> post,
      BooleanSupplier stopping,
      GatewayMetrics metrics,
      Watermarks watermarks,
      Supplier<Intake> intake,
      LongSupplier nanoTime,
      Later later) {
    this.queue = queue;
    this.clock = clock;
    this.leases = leases;
    this.heartbeat = heartbeat;
    this.post = post;
    this.stopping = stopping;
    this.metrics = metrics;
    this.watermarks = watermarks;
    this.intake = intake;
    this.nanoTime = nanoTime;
    this.later = later;
  }

  /**
   * Writes an attempt's outcome. If the write fails (a full disk, a locked or unreachable store),
   * the outcome is kept and written again, with backoff, while the lease is ours and the dispatcher
   * runs: the attempt was made, and recording it when the store is back is better than leaving the
   * delivery in flight until its lease runs out and sending it again. The lease stays held
   * meanwhile (so the heartbeat renews it) and the delivery stays running in its lane (so its key's
   * next delivery waits). The token fences a late write: one whose lease was reaped and claimed
   * again is refused ({@code written} false) like any lost lease. Given up (left in the store, to
   * be reaped and sent again with the same idempotency key) once the failures have lasted a lease,
   * or on shutdown.
   *
   * <p>On a single node the request may have gone before its claim committed; if the store refused
   * that claim, the claim is written again (with the same token) before the outcome, so that the
   * attempt made is recorded rather than made again.
   */
  void write(DestinationLane lane, Claimed c, Finish finish) {
    write(lane, c, finish, 0, nanoTime.getAsLong());
  }

  private void write(
      DestinationLane lane, Claimed c, Finish finish, int failures, long firstTryNanos) {
    QueuedDelivery d = c.d();
    Duration term = leases.termFor(lane.config());
    CompletableFuture<Boolean> claim = c.unconfirmed();
    CompletableFuture<Boolean> write =
        claim == null
            ? queue.finish(finish, clock.instant())
            : claim
                .handle((held, refused) -> refused == null)
                .thenCompose(
                    committed -> {
                      if (committed) {
                        return queue.finish(finish, clock.instant());
                      }
                      // at the first claim's time, which the delivery was due at (a clock stepped
                      // back since cannot make it look not due); refused (0 rows) when an earlier
                      // try's claim already committed: the token then fences the outcome as usual
                      return queue
                          .claim(d.id(), c.token(), c.claimedAt(), clock.instant().plus(term))
                          .thenCompose(again -> queue.finish(finish, clock.instant()));
                    });
    write.whenComplete(
        (written, error) -> {
          if (error != null) {
            long failingNanos = nanoTime.getAsLong() - firstTryNanos;
            if (!stopping.getAsBoolean() && failingNanos < term.toNanos()) {
              if (failures == 0) {
                LOG.warn(
                    "delivery {} to {}: outcome not written, writing it again until the store"
                        + " takes it: {}",
                    d.id(),
                    lane.name(),
                    error.toString());
              } else {
                LOG.debug(
                    "delivery {} to {}: outcome still not written (try {})",
                    d.id(),
                    lane.name(),
                    failures + 1);
              }
              long wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS << Math.min(failures, 10));
              later.run(wait, () -> write(lane, c, finish, failures + 1, firstTryNanos));
              return;
            }
            leases.drop(d.id());
            LOG.warn(
                "delivery {} to {}: outcome not written after {} tries, left in the store for"
                    + " later: {}",
                d.id(),
                lane.name(),
                failures + 1,
                error.toString());
            post.accept(() -> lane.giveBack(d));
            return;
          }
          leases.drop(d.id());
          if (failures > 0) {
            LOG.info(
                "delivery {} to {}: outcome written after {} failed tries",
                d.id(),
                lane.name(),
                failures);
          }
          if (!written) {
            LOG.warn("delivery {} lost its lease before its outcome was written", d.id());
          }
          post.accept(() -> finished(lane, d, finish, written));
        });
  }

  /**
   * On the loop: the outcome is in the store (or was fenced off): the lane lets the delivery go.
   */
  private void finished(DestinationLane lane, QueuedDelivery d, Finish finish, boolean written) {
    lane.memory().noteFinished(d.id());
    intake.get().finished(lane);
    boolean keepsKey = written && finish instanceof Finish.Retry;
    if (!written) {
      lane.giveBack(d);
      return;
    }
    lane.release(d, keepsKey);
    String outcome =
        switch (finish) {
          case Finish.Delivered ignored -> "delivered";
          case Finish.Retry ignored -> "retry";
          case Finish.Dead ignored -> "dead";
          case Finish.Skipped ignored -> "skipped";
        };
    metrics.deliveryOutcome(lane.name(), outcome);
    if (finish instanceof Finish.Dead dead) {
      int attempts = dead.attempt() == null ? d.attempts() : dead.attempt().number();
      DeliveryLog.deadLetter(
          d.eventId().value(),
          d.id().value(),
          d.route(),
          lane.name(),
          attempts,
          dead.errorClass(),
          Tracing.traceIdOf(d.headers() == null ? null : d.headers().get(Tracing.TRACEPARENT)));
      ops.deliveryDead(
          lane.name(),
          d.route(),
          d.source(),
          d.id().value(),
          d.eventId().value(),
          attempts,
          dead.errorClass(),
          dead.error());
    }
    if (finish instanceof Finish.Delivered delivered) {
      metrics.endToEnd(lane.name(), Duration.between(d.receivedAt(), clock.instant()));
      if (delivered.watermark() != null) {
        watermarks.remember(new RouteKey(d.route(), d.partitionKey()), d.eventTime());
      }
    }
  }

  /**
   * On a worker, each heartbeat: returns expired leases to pending (the lanes then read the store
   * again) and renews this process's older ones.
   */
  void reapAndRenew(Supplier<Collection<DestinationLane>> lanes) {
    try {
      int reaped = queue.reapExpired(clock.instant());
      if (reaped > 0) {
        LOG.info("returned {} delivery(ies) with an expired lease to pending", reaped);
        post.accept(() -> lanes.get().forEach(DestinationLane::wantWork));
      }
      Map<dev.switchboard.domain.DeliveryId, String> old =
          leases.takenBefore(System.nanoTime() - heartbeat.toNanos());
      if (!old.isEmpty()) {
        Duration longest =
            lanes.get().stream()
                .map(l -> leases.termFor(l.config()))
                .max(Duration::compareTo)
                .orElse(Duration.ofMinutes(2));
        queue.renew(old, clock.instant().plus(longest)).join();
      }
    } catch (RuntimeException e) {
      LOG.warn("lease housekeeping failed: {}", e.getMessage());
    }
  }
}
