package dev.switchboard.dispatch;

import dev.switchboard.config.OperationalSource;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.expr.ExpressionException;
import dev.switchboard.observability.DeliveryLog;
import dev.switchboard.observability.Tracing;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.route.StoredEvent;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One request's worth of claimed deliveries, on a worker thread, from the claims to the outcomes:
 * for each delivery the stale check, then prepare (enrich, filter, transform) the body, then at
 * most one request for all that need one, then decide each outcome ({@link Verdicts}). No
 * transaction is open meanwhile, and nothing here touches the lane's state.
 *
 * <p>Every failure ends as a recorded attempt with an error class: an expression that fails at
 * evaluation fails the same way every time and is dead-lettered at once; anything else that throws
 * (an enricher's bug, an input nothing classified) is tried again like any failure, so the
 * destination's retry limits and the dead-letter queue apply.
 *
 * <p>Each delivery's attempt is a span in its event's trace ({@link Tracing}) with enrich,
 * transform and send under it, and one log line ({@link DeliveryLog#attempted}); while a delivery
 * is worked on, the log context names its route, destination, delivery id, attempt number and trace
 * id.
 */
final class Attempt {
  private static final Logger LOG = LoggerFactory.getLogger(Attempt.class);

  private final Clock clock;
  private final Supplier<RouteTable> table;
  private final Watermarks watermarks;
  private final boolean sharedStore;
  private final DestinationLane lane;
  private final Destination connector;
  private final Tracing tracing;

  /**
   * @param sharedStore other nodes deliver too, so a watermark memory holds may be behind
   */
  Attempt(
      Clock clock,
      Supplier<RouteTable> table,
      Watermarks watermarks,
      boolean sharedStore,
      DestinationLane lane,
      Destination connector) {
    this(clock, table, watermarks, sharedStore, lane, connector, Tracing.off());
  }

  Attempt(
      Clock clock,
      Supplier<RouteTable> table,
      Watermarks watermarks,
      boolean sharedStore,
      DestinationLane lane,
      Destination connector,
      Tracing tracing) {
    this.clock = clock;
    this.table = table;
    this.watermarks = watermarks;
    this.sharedStore = sharedStore;
    this.lane = lane;
    this.connector = connector;
    this.tracing = tracing;
  }

  /** One result per claimed delivery, in order. */
  List<Attempted> run(List<Claimed> claimed) {
    try {
      return runTraced(claimed);
    } finally {
      forget();
    }
  }

  private List<Attempted> runTraced(List<Claimed> claimed) {
    // off, no span array nor list: every span is the shared invalid one
    Span[] spans = tracing.on() ? new Span[claimed.size()] : null;
    try {
      return runTraced(claimed, spans);
    } catch (RuntimeException e) {
      // the request's caller leaves the deliveries for later; their spans end with the error
      if (spans != null) {
        for (Span s : spans) {
          if (s != null) {
            Tracing.end(s, "error", 0, "internal");
          }
        }
      }
      throw e;
    }
  }

  private List<Attempted> runTraced(List<Claimed> claimed, Span[] spans) {
    Attempted[] done = new Attempted[claimed.size()];
    List<Integer> sending = new ArrayList<>(claimed.size());
    List<OutboundDelivery> outbound = new ArrayList<>(claimed.size());
    List<Span> sends = tracing.on() ? new ArrayList<>(claimed.size()) : null;
    for (int i = 0; i < claimed.size(); i++) {
      Claimed c = claimed.get(i);
      QueuedDelivery d = c.d();
      String traceparent = d.headers() == null ? null : d.headers().get(Tracing.TRACEPARENT);
      Span span =
          tracing.attempt(
              traceparent,
              d.eventId().value(),
              d.route(),
              lane.name(),
              d.id().value(),
              d.attempts() + 1);
      if (spans != null) {
        spans[i] = span;
      }
      remember(d, lane.name(), span, traceparent);
      if (c.route() == null) {
        done[i] =
            new Attempted(
                new Finish.Dead(
                    d.id(),
                    c.token(),
                    null,
                    "route " + d.route() + " is no longer configured",
                    "config"),
                null);
        continue;
      }
      if (aboutItself(d)) {
        done[i] =
            new Attempted(
                new Finish.Skipped(
                    d.id(),
                    c.token(),
                    "loop: an operational event about this destination is not sent to it"),
                null);
        continue;
      }
      Attempted stale = stale(c);
      if (stale != null) {
        done[i] = stale;
        continue;
      }
      Object prepared = prepare(c, spanAt(spans, i));
      if (prepared instanceof Attempted early) {
        done[i] = early;
        continue;
      }
      Prepared body = (Prepared) prepared;
      sending.add(i);
      Span send = tracing.send(spanAt(spans, i));
      if (sends != null) {
        sends.add(send);
      }
      outbound.add(
          new OutboundDelivery(
              d.id().value(),
              d.eventId().value(),
              d.id().value(),
              d.partitionKey(),
              body.body(),
              traceHeaders(send),
              d.attempts() + 1,
              c.route().method(),
              body.bindings()));
    }
    if (!outbound.isEmpty()) {
      if (outbound.size() > 1) {
        forget(); // one request for several deliveries: the context names the destination only
        MDC.put("destination", lane.name());
      } else {
        QueuedDelivery d = claimed.get(sending.get(0)).d();
        remember(
            d,
            lane.name(),
            spanAt(spans, sending.get(0)),
            d.headers() == null ? null : d.headers().get(Tracing.TRACEPARENT));
      }
      Instant started = clock.instant();
      long t0 = System.nanoTime();
      List<DeliveryResult> results = send(outbound);
      Duration took = since(t0);
      for (int j = 0; j < sending.size(); j++) {
        int i = sending.get(j);
        Claimed c = claimed.get(i);
        DeliveryResult result = results.get(j);
        if (sends != null) {
          Tracing.end(sends.get(j), null, statusOf(result), errorClassOf(result));
        }
        Verdicts.Try t = tryOf(c, outbound.get(j).attempt(), started, took);
        boolean perKey = lane.memory().keyOf(c.d()) != null;
        done[i] =
            new Attempted(Verdicts.decide(t, c.route(), perKey, result, clock.instant()), result);
      }
    }
    for (int i = 0; i < done.length; i++) {
      finished(claimed.get(i).d(), done[i].finish(), spanAt(spans, i));
    }
    return List.of(done);
  }

  /**
   * An operational event about this very destination (its breaker, its hold, its dead letters'
   * batch): sending it there could only fail the same way, and feed itself
   * (docs/operational-events.md).
   */
  private boolean aboutItself(QueuedDelivery d) {
    if (!OperationalSource.NAME.equals(d.source())) {
      return false;
    }
    try {
      Object subject = ((Map<?, ?>) RoutePlan.parsePayload(d.payload())).get("subject");
      return subject instanceof Map<?, ?> m && lane.name().equals(m.get("destination"));
    } catch (RuntimeException e) {
      return false; // not an event of ours: the route decides as for any other
    }
  }

  private static Span spanAt(Span[] spans, int i) {
    return spans == null ? Span.getInvalid() : spans[i];
  }

  /** The attempt's span ends with its outcome, and its line is logged. */
  private void finished(QueuedDelivery d, Finish finish, Span span) {
    String outcome;
    AttemptRecord record;
    String errorClass = null;
    switch (finish) {
      case Finish.Delivered f -> {
        outcome = "delivered";
        record = f.attempt();
      }
      case Finish.Retry f -> {
        outcome = "retry";
        record = f.attempt();
        errorClass = f.errorClass();
      }
      case Finish.Dead f -> {
        outcome = "dead";
        record = f.attempt();
        errorClass = f.errorClass();
      }
      case Finish.Skipped f -> {
        outcome = "skipped";
        record = null;
      }
    }
    int status = record == null ? 0 : record.status();
    int number = record == null ? d.attempts() + 1 : record.number();
    Tracing.end(span, outcome, status, errorClass);
    if (!DeliveryLog.logsAttempt(errorClass != null)) {
      return;
    }
    String traceId = Tracing.traceId(span);
    if (traceId == null) {
      traceId =
          Tracing.traceIdOf(d.headers() == null ? null : d.headers().get(Tracing.TRACEPARENT));
    }
    DeliveryLog.attempted(
        d.eventId().value(),
        d.id().value(),
        d.route(),
        lane.name(),
        number,
        outcome,
        status,
        errorClass,
        traceId);
  }

  /**
   * The W3C traceparent of the request for connectors that send HTTP (docs/telemetry.md), unless
   * the destination turns it off; none while tracing is off.
   */
  private Map<String, String> traceHeaders(Span send) {
    String traceparent = Tracing.traceparent(send);
    if (traceparent == null || lane.config() == null || !lane.config().traceparent()) {
      return Map.of();
    }
    return Map.of(Tracing.TRACEPARENT, traceparent);
  }

  private static int statusOf(DeliveryResult result) {
    return switch (result) {
      case DeliveryResult.Delivered r -> r.status();
      case DeliveryResult.RetryLater r -> r.status();
      case DeliveryResult.Rejected r -> r.status();
    };
  }

  private static String errorClassOf(DeliveryResult result) {
    return switch (result) {
      case DeliveryResult.Delivered r -> null;
      case DeliveryResult.RetryLater r -> r.errorClass().stored();
      case DeliveryResult.Rejected r -> r.errorClass().stored();
    };
  }

  /** The log context while {@code d} is worked on (docs/telemetry.md). */
  private static void remember(
      QueuedDelivery d, String destination, Span span, String traceparent) {
    MDC.put("route", d.route());
    MDC.put("destination", destination);
    MDC.put("deliveryId", d.id().value());
    MDC.put("attempt", Integer.toString(d.attempts() + 1));
    String traceId = Tracing.traceId(span);
    if (traceId == null) {
      traceId = Tracing.traceIdOf(traceparent);
    }
    if (traceId == null) {
      MDC.remove("traceId");
    } else {
      MDC.put("traceId", traceId);
    }
  }

  private static void forget() {
    MDC.remove("route");
    MDC.remove("destination");
    MDC.remove("deliveryId");
    MDC.remove("attempt");
    MDC.remove("traceId");
  }

  private Verdicts.Try tryOf(Claimed c, int number, Instant started, Duration took) {
    return new Verdicts.Try(lane, c.d(), c.token(), c.claimedAt(), number, started, took);
  }

  /** Skipped when the route skips stale events and a newer one of the key was delivered. */
  private Attempted stale(Claimed c) {
    QueuedDelivery d = c.d();
    if (lane.memory().keyOf(d) == null || c.route().stale() != RouteConfig.Stale.SKIP) {
      return null;
    }
    RouteKey key = new RouteKey(d.route(), d.partitionKey());
    Instant newest = watermarks.newest(key);
    if (sharedStore && (newest == null || !d.eventTime().isBefore(newest))) {
      // another node may have delivered a newer event of the key: memory cannot know
      newest = watermarks.newestStored(key);
    }
    if (newest != null && d.eventTime().isBefore(newest)) {
      return new Attempted(
          new Finish.Skipped(
              d.id(),
              c.token(),
              "stale: an event of " + newest + " was already delivered for this key"),
          null);
    }
    return null;
  }

  /** One request; a connector's bug becomes a retry of every delivery in it. */
  private List<DeliveryResult> send(List<OutboundDelivery> outbound) {
    try {
      List<DeliveryResult> results =
          outbound.size() == 1
              ? List.of(connector.send(outbound.get(0)))
              : connector.sendBatch(outbound);
      if (results.size() != outbound.size() || results.stream().anyMatch(r -> r == null)) {
        throw new IllegalStateException(
            results.size() + " result(s) for " + outbound.size() + " deliveries");
      }
      return results;
    } catch (RuntimeException e) {
      LOG.error("connector {} failed on {} delivery(ies)", lane.name(), outbound.size(), e);
      DeliveryResult failed =
          DeliveryResult.RetryLater.noAnswer(
              ErrorClass.ERROR, "connector error: " + e.getClass().getSimpleName(), null, null);
      return Collections.nCopies(outbound.size(), failed);
    }
  }

  /**
   * The body to send, or the outcome that ends the attempt before any request: the enrichment
   * lookup (which may retry, dead-letter, or let a filter that reads it skip the delivery), then
   * the transform.
   */
  private Object prepare(Claimed c, Span span) {
    Instant started = clock.instant();
    long t0 = System.nanoTime();
    try {
      return prepareOrThrow(c, started, t0, span);
    } catch (RuntimeException e) {
      QueuedDelivery d = c.d();
      String step = "prepare";
      boolean sameEveryTime = false;
      if (e instanceof StepFailed failed) {
        step = failed.step;
        sameEveryTime = failed.sameEveryTime;
        e = (RuntimeException) failed.getCause();
      }
      if (sameEveryTime) {
        String error = step + " failed: " + e.getMessage();
        return new Attempted(
            new Finish.Dead(
                d.id(),
                c.token(),
                new AttemptRecord(d.attempts() + 1, started, since(t0), 0, "dead", error, null),
                error,
                step),
            null);
      }
      // the class and where it was thrown, never the message: it may quote the payload
      StackTraceElement[] at = e.getStackTrace();
      LOG.warn(
          "attempt of delivery {} on route {} failed in {}: {}{}",
          d.id().value(),
          d.route(),
          step,
          e.getClass().getName(),
          at.length == 0 ? "" : " at " + at[0]);
      return new Attempted(
          Verdicts.retryOrDie(
              tryOf(c, d.attempts() + 1, started, since(t0)),
              DeliveryResult.RetryLater.noAnswer(
                  ErrorClass.INTERNAL,
                  Verdicts.INTERNAL + " in " + step + ": " + e.getClass().getSimpleName(),
                  null,
                  null),
              clock.instant()),
          null);
    }
  }

  private static Duration since(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** The body to send and what the route's expressions saw, for the connector's templates. */
  private record Prepared(byte[] body, Map<String, ?> bindings) {}

  /**
   * What threw, and in which step of the attempt; {@code sameEveryTime} for an expression that
   * fails at evaluation or a payload or result that is not JSON, which no retry can cure.
   */
  private static final class StepFailed extends RuntimeException {
    final String step;
    final boolean sameEveryTime;

    StepFailed(String step, RuntimeException cause, boolean sameEveryTime) {
      super(cause);
      this.step = step;
      this.sameEveryTime = sameEveryTime;
    }

    /** The route's own evaluation failed: an expression error, or no JSON in or out. */
    static StepFailed evaluating(String step, RuntimeException cause) {
      return new StepFailed(
          step,
          cause,
          cause instanceof ExpressionException || cause instanceof IllegalArgumentException);
    }
  }

  private Object prepareOrThrow(Claimed c, Instant started, long t0, Span span) {
    QueuedDelivery d = c.d();
    RoutePlan plan = c.plan();
    RouteConfig route = plan.route();
    StoredEvent event =
        new StoredEvent(
            d.payload(), d.headers(), d.source(), d.eventId(), d.eventTime(), d.receivedAt());
    if (route.enrich() == null) {
      Span transform = tracing.step(span, "transform");
      try {
        // the bindings only for a connector whose templates read them (docs/connectors.md)
        return new Prepared(plan.body(event), lane.readsBindings() ? event.bindings() : Map.of());
      } catch (RuntimeException e) {
        throw StepFailed.evaluating("transform", e);
      } finally {
        transform.end();
      }
    }

    Map<String, Object> bindings = event.bindings();
    Object input;
    String path;
    try {
      input = RoutePlan.parsePayload(d.payload());
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("enrich", e);
    }
    try {
      path = route.enrich().path().render(input, bindings);
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("enrich", e);
    }
    Enricher enricher = table.get().enricher(route.enrich().using());
    Enricher.Lookup lookup;
    Span enrich = tracing.step(span, "enrich");
    try {
      lookup = enricher.get(path);
    } catch (RuntimeException e) {
      throw new StepFailed("enrich", e, false); // the enricher's bug, not the route's
    } finally {
      enrich.end();
    }
    Duration took = since(t0);
    int number = d.attempts() + 1;
    switch (lookup) {
      case Enricher.Lookup.Found found -> bindings.put(route.enrich().as(), found.value());
      case Enricher.Lookup.RetryLater later -> {
        // the enricher's wait is this delivery's, not the destination's: no breaker, no pause
        return new Attempted(
            Verdicts.retryOrDie(
                tryOf(c, number, started, took),
                new DeliveryResult.RetryLater(
                    "enrich: " + later.error(), later.status(), later.retryAfter(), null),
                clock.instant()),
            null);
      }
      case Enricher.Lookup.Failed failed -> {
        String error = "enrich failed: " + failed.error();
        return new Attempted(
            new Finish.Dead(
                d.id(),
                c.token(),
                new AttemptRecord(number, started, took, failed.status(), "dead", error, null),
                error,
                "enrich"),
            null);
      }
    }
    try {
      if (!plan.admitsAfterEnrichment(input, bindings)) {
        return new Attempted(new Finish.Skipped(d.id(), c.token(), RoutePlan.skippedError()), null);
      }
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("filter", e);
    }
    try {
      if (!plan.admitsWhenEnriched(input, bindings)) {
        return new Attempted(
            new Finish.Skipped(d.id(), c.token(), RoutePlan.skippedWhenEnriched()), null);
      }
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("when_enriched", e);
    }
    Span transform = tracing.step(span, "transform");
    try {
      return new Prepared(plan.transform(d.payload(), input, bindings), bindings);
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("transform", e);
    } finally {
      transform.end();
    }
  }
}
