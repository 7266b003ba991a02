package dev.switchboard.alerts;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.AlertsConfig;
import dev.switchboard.config.OperationalSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what the gateway's parts report into operational events (docs/operational-events.md) and
 * stores them in the built-in {@code switchboard} source, through {@link Sink}: the same durable
 * ingest, de-duplication and routes as any event.
 *
 * <p>Policy, per kind ({@code alerts:}): a problem pages once per subject (a destination, a source)
 * and then keeps quiet for its {@code quiet} period, counting what it held back; at the end of the
 * period one summary event says how often it happened and where things stand. A resolution ({@code
 * destination.breaker_closed}, {@code source.reconnected}, …) of a problem that paged is sent at
 * once. Dead letters go one by one up to {@code threshold} a minute per destination, the rest as
 * one batched event at the end of the minute. A dead letter of an operational event itself is never
 * an event (counted and logged instead), so a failing route from {@code switchboard} cannot feed
 * itself.
 *
 * <p>Lifecycle and threads: every report is a task on one worker thread, which alone holds the
 * policy's state; reporting never blocks (a full queue drops and counts). Events the store refuses
 * (503: shutting down, the store unwritable, the backlog over its mark) wait in order and are
 * stored when it takes them again. {@link #close} stores what it can within a second.
 */
public final class Alerts implements OperationalEvents, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Alerts.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_QUEUED = 10_000;
  private static final int MAX_BATCH_IDS = 20;
  private static final Duration STORE_RETRY = Duration.ofSeconds(1);

  /** Where events go: the built-in source's ingest; answers the HTTP status ingest would. */
  @FunctionalInterface
  public interface Sink {
    int store(byte[] json);
  }

  /** A problem and the event that resolves it, paged and quieted together. */
  private record Family(String problem, String resolved, String configKind) {}

  private static final Family BREAKER =
      new Family(
          "destination.breaker_opened", "destination.breaker_closed", "destination.breaker_opened");
  private static final Family HELD = new Family("destination.held", null, "destination.held");
  private static final Family CREDENTIALS =
      new Family("destination.credentials_refused", null, "destination.credentials_refused");
  private static final Family REFUSING =
      new Family("source.refusing", "source.refusing.resolved", "source.refusing");
  private static final Family STORE =
      new Family("store.unwritable", "store.unwritable.resolved", "store.unwritable");
  private static final Family BACKLOG =
      new Family("backlog.high", "backlog.high.resolved", "backlog.high");
  private static final Family SPIKE =
      new Family("source.rejections_spike", null, "source.rejections_spike");
  private static final Family QUARANTINE = new Family("quarantine.added", null, "quarantine.added");
  private static final Family DISCONNECTED =
      new Family("source.disconnected", "source.reconnected", "source.disconnected");

  /** One subject's page of one family: whether it is open, and what the quiet period held back. */
  private static final class Page {
    boolean open;
    Instant quietUntil = Instant.MIN;
    int heldBack;
    ObjectNode last;
  }

  /** A destination's dead letters in the current minute. */
  private static final class DeadMinute {
    Instant minute;
    int sent;
    int batched;
    final List<String> ids = new ArrayList<>();
    final Map<String, Integer> routes = new LinkedHashMap<>();
    final Map<String, Integer> errorClasses = new LinkedHashMap<>();
  }

  private final Clock clock;
  private final Sink sink;
  private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>(MAX_QUEUED);
  private final ArrayDeque<byte[]> unstored = new ArrayDeque<>();
  private final Map<String, Page> pages = new HashMap<>();
  private final Map<String, DeadMinute> dead = new HashMap<>();
  private final Map<String, java.util.concurrent.atomic.AtomicInteger> rejectionCounts =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong suppressedLoops = new AtomicLong();
  private final AtomicLong emitted = new AtomicLong();
  private final Thread worker;
  private volatile AlertsConfig config;
  private volatile boolean closing;
  private volatile long rejectionMinute = -1;

  /** Makes this process's batch ids its own: two nodes batching one minute make two events. */
  private final String nonce = java.util.UUID.randomUUID().toString();

  private Instant retryStoreAt = Instant.MIN;

  public Alerts(AlertsConfig config, Clock clock, Sink sink) {
    this.config = config;
    this.clock = clock;
    this.sink = sink;
    this.worker = Thread.ofPlatform().daemon().name("operational-events").unstarted(this::work);
    worker.start();
  }

  /** A reload's {@code alerts:}; what is held back so far keeps its period. */
  public void reconfigure(AlertsConfig next) {
    this.config = next;
  }

  /** Events stored in the {@code switchboard} source since the start. */
  public long emitted() {
    return emitted.get();
  }

  /** Reports dropped because the queue was full. */
  public long dropped() {
    return dropped.get();
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
    submit(
        () -> dead(destination, route, source, deliveryId, eventId, attempts, errorClass, error));
  }

  @Override
  public void breakerOpened(String destination, Instant until, String lastError) {
    Instant now = clock.instant();
    submit(
        () -> {
          ObjectNode data = JSON.createObjectNode();
          data.put("openUntil", until.toString());
          data.put("lastError", lastError);
          problem(
              BREAKER,
              destinationSubject(destination),
              now,
              data,
              "Destination "
                  + destination
                  + " stopped taking deliveries: its circuit breaker opened",
              "/ui/#/destinations");
        });
  }

  @Override
  public void breakerClosed(String destination) {
    Instant now = clock.instant();
    submit(
        () ->
            resolved(
                BREAKER,
                destinationSubject(destination),
                now,
                JSON.createObjectNode(),
                "Destination "
                    + destination
                    + " takes deliveries again: its circuit breaker closed",
                "/ui/#/destinations"));
  }

  @Override
  public void held(String destination, Instant until, String reason) {
    Instant now = clock.instant();
    submit(
        () -> {
          ObjectNode data = JSON.createObjectNode();
          data.put("until", until.toString());
          data.put("reason", reason);
          problem(
              HELD,
              destinationSubject(destination),
              now,
              data,
              "Destination " + destination + " asked to wait until " + until + ": " + reason,
              "/ui/#/destinations");
        });
  }

  @Override
  public void credentialsRefused(String destination, int status, String error) {
    Instant now = clock.instant();
    submit(
        () -> {
          ObjectNode data = JSON.createObjectNode();
          data.put("status", status);
          data.put("error", error);
          problem(
              CREDENTIALS,
              destinationSubject(destination),
              now,
              data,
              "Destination " + destination + " refused the gateway's credentials (" + status + ")",
              "/ui/#/destinations");
        });
  }

  @Override
  public void sourceRefusing(String source, String reason) {
    Instant now = clock.instant();
    submit(
        () -> {
          ObjectNode data = JSON.createObjectNode();
          data.put("reason", reason);
          ObjectNode subject = sourceSubject(source);
          problem(
              REFUSING,
              subject,
              now,
              data,
              "Source " + source + " is answered 503 (" + reason + "): senders must retry",
              "/ui/#/sources");
          if (reason.startsWith("store")) {
            problem(
                STORE,
                JSON.createObjectNode(),
                now,
                data.deepCopy(),
                "The store takes no writes: every source is answered 503",
                "/ui/#/overview");
          } else if (reason.startsWith("backlog")) {
            problem(
                BACKLOG,
                JSON.createObjectNode(),
                now,
                data.deepCopy(),
                "The delivery backlog is over its high-water mark: sources are answered 503",
                "/ui/#/destinations");
          }
        });
  }

  @Override
  public void sourceAccepting(String source) {
    Instant now = clock.instant();
    submit(
        () -> {
          resolved(
              REFUSING,
              sourceSubject(source),
              now,
              JSON.createObjectNode(),
              "Source " + source + " is accepted again",
              "/ui/#/sources");
          resolved(
              STORE,
              JSON.createObjectNode(),
              now,
              JSON.createObjectNode(),
              "The store takes writes again",
              "/ui/#/overview");
          resolved(
              BACKLOG,
              JSON.createObjectNode(),
              now,
              JSON.createObjectNode(),
              "The delivery backlog is under its high-water mark again",
              "/ui/#/destinations");
        });
  }

  @Override
  public void rejected(String source, String reason) {
    // counted here, on the ingest thread: a flood of bad requests must not fill the queue that
    // carries dead letters and breakers; one task when a minute's count reaches the threshold
    Instant now = clock.instant();
    long minute = now.getEpochSecond() / 60;
    if (minute != rejectionMinute) {
      rejectionCounts.clear();
      rejectionMinute = minute;
    }
    long threshold = config.kind("source.rejections_spike").threshold();
    int count =
        rejectionCounts
            .computeIfAbsent(
                source + "|" + reason, k -> new java.util.concurrent.atomic.AtomicInteger())
            .incrementAndGet();
    if (threshold > 0 && count == threshold) {
      submit(() -> rejection(source, reason, count, now));
    }
  }

  @Override
  public void quarantined(String source, String eventId, String reason) {
    Instant now = clock.instant();
    submit(
        () -> {
          ObjectNode data = JSON.createObjectNode();
          data.put("eventId", eventId);
          data.put("reason", reason);
          problem(
              QUARANTINE,
              sourceSubject(source),
              now,
              data,
              "An event of " + source + " failed its schema and waits in quarantine",
              "/ui/#/events/" + eventId);
        });
  }

  @Override
  public void sourceDisconnected(String source, String why) {
    Instant now = clock.instant();
    submit(
        () -> {
          ObjectNode data = JSON.createObjectNode();
          data.put("reason", why);
          problem(
              DISCONNECTED,
              sourceSubject(source),
              now,
              data,
              "Pulled source " + source + " lost its connection: " + why,
              "/ui/#/sources");
        });
  }

  @Override
  public void sourceReconnected(String source) {
    Instant now = clock.instant();
    submit(
        () ->
            resolved(
                DISCONNECTED,
                sourceSubject(source),
                now,
                JSON.createObjectNode(),
                "Pulled source " + source + " is connected again",
                "/ui/#/sources"));
  }

  private void submit(Runnable task) {
    if (closing || !tasks.offer(task)) {
      dropped.incrementAndGet();
    }
  }

  // ---------------------------------------------------------------- policy (worker only)

  private void problem(
      Family family, ObjectNode subject, Instant at, ObjectNode data, String summary, String link) {
    AlertsConfig.Kind kind = config.kind(family.configKind());
    if (!kind.enabled()) {
      return;
    }
    ObjectNode event = event(family.problem(), severity(family.problem()), subject, at, data);
    event.put("summary", summary);
    event.put("link", link);
    Page page = pages.computeIfAbsent(family.problem() + "|" + subject, k -> new Page());
    if (at.isBefore(page.quietUntil)) {
      page.heldBack++;
      page.last = event;
      return;
    }
    page.open = true;
    page.heldBack = 0;
    page.last = null;
    page.quietUntil = at.plus(kind.quiet());
    send(event, family.problem() + "|" + subject + "|" + at.toEpochMilli());
  }

  private void resolved(
      Family family, ObjectNode subject, Instant at, ObjectNode data, String summary, String link) {
    if (family.resolved() == null || !config.kind(family.configKind()).enabled()) {
      return;
    }
    Page page = pages.get(family.problem() + "|" + subject);
    if (page == null) {
      return; // nothing paged: nothing to resolve
    }
    ObjectNode event = event(family.resolved(), "info", subject, at, data);
    event.put("summary", summary);
    event.put("link", link);
    if (page.open) {
      page.open = false;
      if (page.heldBack > 0) {
        // what the quiet period held back happened before this resolution: said here, not
        // later as if the problem were still on
        data.put("repeats", page.heldBack);
        page.heldBack = 0;
        page.last = null;
      }
      send(event, family.resolved() + "|" + subject + "|" + at.toEpochMilli());
    } else if (at.isBefore(page.quietUntil)) {
      page.heldBack++;
      page.last = event;
    }
  }

  /** At the end of each quiet period, one summary of what it held back. */
  private void flushPages(Instant now) {
    for (Iterator<Map.Entry<String, Page>> it = pages.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Page> entry = it.next();
      Page page = entry.getValue();
      if (now.isBefore(page.quietUntil)) {
        continue;
      }
      if (page.heldBack > 0 && page.last != null) {
        ObjectNode summary = page.last.deepCopy();
        ObjectNode data = (ObjectNode) summary.get("data");
        data.put("repeats", page.heldBack);
        data.put("summary", true);
        summary.put(
            "summary",
            summary.path("summary").asText()
                + " ("
                + page.heldBack
                + " more in the quiet period; this is the latest)");
        boolean problem =
            !summary.path("type").asText().endsWith("closed")
                && !summary.path("type").asText().endsWith("resolved")
                && !summary.path("type").asText().equals("source.reconnected");
        summary.put("occurredAt", now.toString());
        page.open = problem;
        page.heldBack = 0;
        page.last = null;
        String kind = summary.path("type").asText();
        Duration quiet = quietOf(kind);
        page.quietUntil = now.plus(quiet);
        send(summary, entry.getKey() + "|summary|" + now.toEpochMilli());
      } else if (!page.open) {
        it.remove();
      }
    }
  }

  private Duration quietOf(String type) {
    for (Family f :
        List.of(
            BREAKER,
            HELD,
            CREDENTIALS,
            REFUSING,
            STORE,
            BACKLOG,
            SPIKE,
            QUARANTINE,
            DISCONNECTED)) {
      if (type.equals(f.problem()) || type.equals(f.resolved())) {
        return config.kind(f.configKind()).quiet();
      }
    }
    return Duration.ZERO;
  }

  private void dead(
      String destination,
      String route,
      String source,
      String deliveryId,
      String eventId,
      int attempts,
      String errorClass,
      String error) {
    AlertsConfig.Kind kind = config.kind("delivery.dead");
    if (!kind.enabled()) {
      return;
    }
    Instant now = clock.instant();
    Instant minute = now.truncatedTo(ChronoUnit.MINUTES);
    DeadMinute m = dead.get(destination);
    if (m != null && !m.minute.equals(minute)) {
      flushDead(destination, m);
      m = null;
    }
    if (m == null) {
      m = new DeadMinute();
      m.minute = minute;
      dead.put(destination, m);
    }
    if (m.sent < Math.max(1, kind.threshold())) {
      m.sent++;
      ObjectNode subject = destinationSubject(destination);
      subject.put("route", route);
      if (source != null) {
        subject.put("source", source);
      }
      ObjectNode data = JSON.createObjectNode();
      data.put("deliveryId", deliveryId);
      data.put("eventId", eventId);
      data.put("attempts", attempts);
      data.put("errorClass", errorClass);
      data.put("error", shareable(errorClass, error));
      ObjectNode event = event("delivery.dead", "error", subject, now, data);
      event.put(
          "summary",
          "Delivery "
              + deliveryId
              + " to "
              + destination
              + " is a dead letter after "
              + attempts
              + " attempt(s): "
              + (shareable(errorClass, error) == null ? errorClass : shareable(errorClass, error)));
      event.put("link", "/ui/#/events/" + eventId);
      send(event, "delivery.dead|" + deliveryId + "|" + attempts);
      return;
    }
    m.batched++;
    if (m.ids.size() < MAX_BATCH_IDS) {
      m.ids.add(deliveryId);
    }
    m.routes.merge(route, 1, Integer::sum);
    m.errorClasses.merge(errorClass == null ? "unknown" : errorClass, 1, Integer::sum);
  }

  private void flushDeadMinutes(Instant now) {
    Instant minute = now.truncatedTo(ChronoUnit.MINUTES);
    for (Iterator<Map.Entry<String, DeadMinute>> it = dead.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, DeadMinute> entry = it.next();
      if (!entry.getValue().minute.equals(minute)) {
        flushDead(entry.getKey(), entry.getValue());
        it.remove();
      }
    }
  }

  private void flushDead(String destination, DeadMinute m) {
    if (m.batched == 0) {
      return;
    }
    ObjectNode data = JSON.createObjectNode();
    data.put("batched", true);
    data.put("count", m.batched);
    data.put("from", m.minute.toString());
    data.put("to", m.minute.plus(Duration.ofMinutes(1)).toString());
    data.set("deliveryIds", JSON.valueToTree(m.ids));
    data.set("routes", JSON.valueToTree(m.routes));
    data.set("errorClasses", JSON.valueToTree(m.errorClasses));
    Instant at = m.minute.plus(Duration.ofMinutes(1));
    ObjectNode event = event("delivery.dead", "error", destinationSubject(destination), at, data);
    event.put(
        "summary",
        m.batched
            + " more deliveries to "
            + destination
            + " became dead letters in the minute from "
            + m.minute);
    event.put("link", "/ui/#/dead-letters");
    send(event, "delivery.dead|" + destination + "|" + m.minute.toEpochMilli() + "|" + nonce);
  }

  private void rejection(String source, String reason, int count, Instant at) {
    AlertsConfig.Kind kind = config.kind("source.rejections_spike");
    ObjectNode data = JSON.createObjectNode();
    data.put("reason", reason);
    data.put("count", count);
    data.put("perMinute", kind.threshold());
    ObjectNode subject = sourceSubject(source);
    subject.put("reason", reason);
    problem(
        SPIKE,
        subject,
        at,
        data,
        "Source "
            + source
            + " refused "
            + count
            + " requests this minute ("
            + reason
            + "): a sender is misconfigured, or someone is probing",
        "/ui/#/sources");
  }

  // ---------------------------------------------------------------- events and storing

  /** The classes whose error text the route's own expressions made: it may quote the payload. */
  private static final java.util.Set<String> OWN_STEPS =
      java.util.Set.of("transform", "filter", "enrich", "when_enriched", "prepare", "config");

  /**
   * An error text fit to leave the gateway (Slack, a pager): an answer's status and class, never
   * what an expression said about the payload (docs/operational-events.md).
   */
  static String shareable(String errorClass, String error) {
    if (error == null) {
      return null;
    }
    if (errorClass != null && OWN_STEPS.contains(errorClass)) {
      return errorClass + " failed (the error is on the delivery's page)";
    }
    return error.length() > 300 ? error.substring(0, 300) + "…" : error;
  }

  private static ObjectNode destinationSubject(String destination) {
    ObjectNode subject = JSON.createObjectNode();
    subject.put("destination", destination);
    return subject;
  }

  private static ObjectNode sourceSubject(String source) {
    ObjectNode subject = JSON.createObjectNode();
    subject.put("source", source);
    return subject;
  }

  private static String severity(String type) {
    return switch (type) {
      case "store.unwritable", "source.refusing" -> "critical";
      case "destination.breaker_opened",
          "destination.credentials_refused",
          "source.disconnected",
          "delivery.dead" ->
          "error";
      default -> "warning";
    };
  }

  private static ObjectNode event(
      String type, String severity, ObjectNode subject, Instant at, ObjectNode data) {
    ObjectNode event = JSON.createObjectNode();
    event.put("type", type);
    event.put("severity", severity);
    event.put("occurredAt", at.truncatedTo(ChronoUnit.MILLIS).toString());
    event.set("subject", subject);
    event.set("data", data);
    return event;
  }

  /** Gives the event its stable id (from {@code seed}) and queues it for the store. */
  private void send(ObjectNode event, String seed) {
    ObjectNode ordered = JSON.createObjectNode();
    ordered.put("id", "op_" + digest(seed));
    ordered.setAll(event);
    try {
      unstored.addLast(JSON.writeValueAsBytes(ordered));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("an operational event is always JSON", e);
    }
    while (unstored.size() > MAX_QUEUED) {
      unstored.removeFirst();
      dropped.incrementAndGet();
    }
    store(clock.instant());
  }

  /** Stores what waits, in order, until the store refuses one (then again in a second). */
  private void store(Instant now) {
    if (now.isBefore(retryStoreAt)) {
      return;
    }
    while (!unstored.isEmpty()) {
      int status;
      try {
        status = sink.store(unstored.peekFirst());
      } catch (RuntimeException e) {
        LOG.warn("an operational event could not be stored: {}", e.getClass().getName());
        status = 503;
      }
      if (status == 503) {
        retryStoreAt = now.plus(STORE_RETRY);
        return;
      }
      unstored.removeFirst();
      if (status / 100 == 2) {
        emitted.incrementAndGet();
      } else {
        LOG.warn("an operational event was refused by its source: HTTP {}", status);
      }
    }
  }

  private static String digest(String seed) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

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
        flushPages(now);
        flushDeadMinutes(now);
        if (task != null) {
          task.run();
        }
        store(clock.instant());
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
