package dev.switchboard.alerts;

import static dev.switchboard.alerts.Outbox.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.AlertsConfig;
import dev.switchboard.config.OperationalSource;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what the gateway's parts report into operational events (docs/operational-events.md) and
 * stores them in the built-in {@code switchboard} source, through {@link Sink}: the same durable
 * ingest, de-duplication and routes as any event. The policy is {@link Pager}'s (one page per quiet
 * period, summaries, resolutions) and {@link DeadLetters}' (dead letters one by one, then batched);
 * {@link Outbox} gives events their shape and id and stores them in order. A dead letter of an
 * operational event itself is never an event (counted and logged instead), so a failing route from
 * {@code switchboard} cannot feed itself.
 *
 * <p>Lifecycle and threads: every report is a task on one worker thread, which alone holds the
 * policy's state; reporting never blocks (a full queue drops and counts), and refusals are counted
 * on the caller's thread so that a flood of bad requests costs the queue one task. {@link #close}
 * stores what it can within a second.
 */
public final class Alerts implements OperationalEvents, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Alerts.class);
  private static final int MAX_QUEUED = 10_000;

  /** Where events go: the built-in source's ingest; answers the HTTP status ingest would. */
  @FunctionalInterface
  public interface Sink {
    int store(byte[] json);
  }

  private final Clock clock;
  private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>(MAX_QUEUED);
  private final Outbox outbox;
  private final Pager pager;
  private final DeadLetters deadLetters;
  private final Map<String, AtomicInteger> rejections = new ConcurrentHashMap<>();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong suppressedLoops = new AtomicLong();
  private final Thread worker;
  private volatile AlertsConfig config;
  private volatile boolean closing;
  private volatile long rejectionMinute = -1;

  public Alerts(AlertsConfig config, Clock clock, Sink sink) {
    this.config = config;
    this.clock = clock;
    this.outbox = new Outbox(sink, MAX_QUEUED);
    this.pager = new Pager(() -> this.config, outbox);
    this.deadLetters = new DeadLetters(() -> this.config, outbox);
    this.worker = Thread.ofPlatform().daemon().name("operational-events").unstarted(this::work);
    worker.start();
  }

  /** A reload's {@code alerts:}; what is held back so far keeps its period. */
  public void reconfigure(AlertsConfig next) {
    this.config = next;
  }

  /** Events stored in the {@code switchboard} source since the start. */
  public long emitted() {
    return outbox.emitted();
  }

  /** Reports and events dropped because a queue was full. */
  public long dropped() {
    return dropped.get() + outbox.dropped();
  }

  /** Dead letters of operational events themselves, never made events (no loop). */
  public long suppressedLoops() {
    return suppressedLoops.get();
  }

  // ---------------------------------------------------------------- reports (any thread)

  @Override
  public void deliveryDead(
      String destination,
      String route,
      String source,
      String deliveryId,
      String eventId,
      int attempts,
      String errorClass,
      String error) {
    if (OperationalSource.NAME.equals(source)) {
      long n = suppressedLoops.incrementAndGet();
      LOG.info(
          "operational event delivery {} to {} is dead ({}); not reported as an operational event"
              + " ({} so far): a route from switchboard cannot feed itself",
          deliveryId,
          destination,
          errorClass,
          n);
      return;
    }
    Instant now = clock.instant();
    submit(
        () ->
            deadLetters.dead(
                now, destination, route, source, deliveryId, eventId, attempts, errorClass, error));
  }

  @Override
  public void breakerOpened(String destination, Instant until, String lastError) {
    page(
        Pager.BREAKER,
        Outbox.destination(destination),
        data("openUntil", until, "lastError", lastError),
        "Destination " + destination + " stopped taking deliveries: its circuit breaker opened",
        "/ui/#/destinations");
  }

  @Override
  public void breakerClosed(String destination) {
    resolve(
        Pager.BREAKER,
        Outbox.destination(destination),
        "Destination " + destination + " takes deliveries again: its circuit breaker closed",
        "/ui/#/destinations");
  }

  @Override
  public void held(String destination, Instant until, String reason) {
    page(
        Pager.HELD,
        Outbox.destination(destination),
        data("until", until, "reason", reason),
        "Destination " + destination + " asked to wait until " + until + ": " + reason,
        "/ui/#/destinations");
  }

  @Override
  public void credentialsRefused(String destination, int status, String error) {
    page(
        Pager.CREDENTIALS,
        Outbox.destination(destination),
        data("status", status, "error", error),
        "Destination " + destination + " refused the gateway's credentials (" + status + ")",
        "/ui/#/destinations");
  }

  @Override
  public void sourceRefusing(String source, String reason) {
    page(
        Pager.REFUSING,
        Outbox.source(source),
        data("reason", reason),
        "Source " + source + " is answered 503 (" + reason + "): senders must retry",
        "/ui/#/sources");
    if (reason.startsWith("store")) {
      page(
          Pager.STORE,
          Outbox.gateway(),
          data("reason", reason),
          "The store takes no writes: every source is answered 503",
          "/ui/#/overview");
    } else if (reason.startsWith("backlog")) {
      page(
          Pager.BACKLOG,
          Outbox.gateway(),
          data("reason", reason),
          "The delivery backlog is over its high-water mark: sources are answered 503",
          "/ui/#/destinations");
    }
  }

  @Override
  public void sourceAccepting(String source) {
    resolve(
        Pager.REFUSING,
        Outbox.source(source),
        "Source " + source + " is accepted again",
        "/ui/#/sources");
    resolve(Pager.STORE, Outbox.gateway(), "The store takes writes again", "/ui/#/overview");
    resolve(
        Pager.BACKLOG,
        Outbox.gateway(),
        "The delivery backlog is under its high-water mark again",
        "/ui/#/destinations");
  }

  @Override
  public void rejected(String source, String reason) {
    // counted here, on the ingest thread: a flood of bad requests must not fill the queue that
    // carries dead letters and breakers; one task when a minute's count reaches the threshold
    long minute = clock.instant().getEpochSecond() / 60;
    if (minute != rejectionMinute) {
      rejections.clear();
      rejectionMinute = minute;
    }
    long threshold = config.kind("source.rejections_spike").threshold();
    int count =
        rejections
            .computeIfAbsent(source + "|" + reason, k -> new AtomicInteger())
            .incrementAndGet();
    if (threshold > 0 && count == threshold) {
      page(
          Pager.SPIKE,
          Outbox.source(source).put("reason", reason),
          data("reason", reason, "count", count, "perMinute", threshold),
          "Source "
              + source
              + " refused "
              + count
              + " requests this minute ("
              + reason
              + "): a sender is misconfigured, or someone is probing",
          "/ui/#/sources");
    }
  }

  @Override
  public void quarantined(String source, String eventId, String reason) {
    page(
        Pager.QUARANTINE,
        Outbox.source(source),
        data("eventId", eventId, "reason", reason),
        "An event of " + source + " failed its schema and waits in quarantine",
        "/ui/#/events/" + eventId);
  }

  @Override
  public void sourceDisconnected(String source, String why) {
    page(
        Pager.DISCONNECTED,
        Outbox.source(source),
        data("reason", why),
        "Pulled source " + source + " lost its connection: " + why,
        "/ui/#/sources");
  }

  @Override
  public void sourceReconnected(String source) {
    resolve(
        Pager.DISCONNECTED,
        Outbox.source(source),
        "Pulled source " + source + " is connected again",
        "/ui/#/sources");
  }

  /** A problem, to the pager on the worker, timed now. */
  private void page(
      Pager.Family family, ObjectNode subject, ObjectNode data, String summary, String link) {
    Instant now = clock.instant();
    submit(() -> pager.problem(family, subject, now, data, summary, link));
  }

  /** A resolution, to the pager on the worker, timed now. */
  private void resolve(Pager.Family family, ObjectNode subject, String summary, String link) {
    Instant now = clock.instant();
    submit(() -> pager.resolved(family, subject, now, data(), summary, link));
  }

  private void submit(Runnable task) {
    if (closing || !tasks.offer(task)) {
      dropped.incrementAndGet();
    }
  }

  // ---------------------------------------------------------------- the worker

  private void work() {
    while (true) {
      Runnable task;
      try {
        task = tasks.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      try {
        // what a quiet period held back is summed up before a new report can start another
        Instant now = clock.instant();
        pager.flush(now);
        deadLetters.flush(now);
        if (task != null) {
          task.run();
        }
        outbox.store(clock.instant());
      } catch (RuntimeException e) {
        LOG.error("operational events: {}", e.toString());
      }
      if (closing && tasks.isEmpty()) {
        return;
      }
    }
  }

  /** Stops taking reports; stores what it can within a second. */
  @Override
  public void close() {
    closing = true;
    try {
      worker.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    worker.interrupt();
  }
}
