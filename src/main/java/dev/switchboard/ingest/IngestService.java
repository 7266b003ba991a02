package dev.switchboard.ingest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.alerts.OperationalEvents;
import dev.switchboard.config.OperationalSource;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.expr.ExpressionException;
import dev.switchboard.ingest.BodyReader.TooLarge;
import dev.switchboard.ingest.verify.Verdict;
import dev.switchboard.logging.LogThrottle;
import dev.switchboard.observability.DeliveryLog;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.observability.Tracing;
import dev.switchboard.route.Bindings;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.QuarantineRelease;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code POST /hooks/{source}}: runs the checks of docs/guarantees.md in order, the first failure
 * answering, and answers 2xx only once the event is committed and synced. Knows nothing of the HTTP
 * framework.
 *
 * <p>Failure policy: our own trouble (store down, shutting down, backlog, slow commit) is always a
 * 503 with {@code Retry-After}, never a 4xx, because senders such as Genesys treat a 4xx as final
 * and would drop the event.
 */
public final class IngestService {
  private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);

  /** Each event refused while the store is down: one line, then one every few seconds. */
  private final LogThrottle storeFailuresLog = new LogThrottle(java.time.Duration.ofSeconds(5));

  private static final long STORE_RETRY_AFTER_SECONDS = 5;

  /**
   * Refusals (allow-list, signature) are logged at most once per this interval for each source and
   * reason, each line counting those not logged since the one before, so a scanner or a
   * misconfigured sender cannot fill the disk; the metrics count every one.
   */
  static final Duration REFUSAL_LOG_INTERVAL = Duration.ofSeconds(10);

  /**
   * One throttle per source and reason (or coerced path): a few per source, bounded by the config.
   */
  private final Map<String, LogThrottle> sourceLogs =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * What one request runs on, replaced whole by {@link #reconfigure}: a request reads it once, so
   * it runs entirely on the configuration it started with.
   */
  private record Intake(
      Map<String, SourceIntake> sources,
      List<String> trustedProxies,
      long backlogHighWater,
      Duration ackTimeout) {}

  private volatile Intake intake;
  private final EventStore store;
  private final Clock clock;
  private final GatewayMetrics metrics;
  private final Tracing tracing;
  private final ObjectMapper json = JsonBody.MAPPER;
  private volatile boolean accepting = true;

  /** What the requests being ingested hold on the heap (docs/adr/0011). */
  private final BodiesInFlight bodies = BodiesInFlight.ofHeap();

  private final java.util.concurrent.atomic.AtomicInteger inFlight =
      new java.util.concurrent.atomic.AtomicInteger();

  /** What the answers tell the operator (docs/operational-events.md). */
  private final AnswersReported answers = new AnswersReported();

  /** From now on, refusals, quarantined and dead events are told to {@code ops}. */
  public void reportTo(OperationalEvents ops) {
    answers.reportTo(ops);
  }

  public IngestService(
      SwitchboardConfig config, EventStore store, Clock clock, GatewayMetrics metrics) {
    this(config, store, clock, metrics, Tracing.off());
  }

  /**
   * @param tracing the ingest span and its steps (verify, parse, store); the event is stored with
   *     the ingest span's context, so its attempts join its trace
   */
  public IngestService(
      SwitchboardConfig config,
      EventStore store,
      Clock clock,
      GatewayMetrics metrics,
      Tracing tracing) {
    this.store = store;
    this.clock = clock;
    this.metrics = metrics;
    this.tracing = tracing;
    this.intake = build(config, null);
  }

  /**
   * Switches to {@code config} for the requests that start from now on; requests already inside
   * finish on the configuration they started with. A source whose settings and routes did not
   * change (and that has no schema file, which is read again) keeps its intake, and so its rate
   * limit's state.
   *
   * @throws RuntimeException when a source cannot be built (nothing is switched then)
   */
  public void reconfigure(SwitchboardConfig config) {
    this.intake = build(config, intake);
  }

  private static Intake build(SwitchboardConfig config, Intake previous) {
    List<String> proxies = List.copyOf(config.server().trustedProxies());
    Map<String, SourceIntake> built = new LinkedHashMap<>();
    List<SourceConfig> sources = new ArrayList<>(config.sources().values());
    sources.add(OperationalSource.config()); // the gateway's own events: routed, never posted
    for (SourceConfig source : sources) {
      List<RoutePlan> routes = new ArrayList<>();
      for (RouteConfig route : config.routes().values()) {
        if (route.from().equals(source.name())) {
          routes.add(new RoutePlan(route));
        }
      }
      SourceIntake old = previous == null ? null : previous.sources().get(source.name());
      // a schema file may have changed under the same settings: read it again
      boolean same =
          old != null
              && source.schema() == null
              && old.config.equals(source)
              && old.routes.equals(routes)
              && previous.trustedProxies().equals(proxies);
      built.put(source.name(), same ? old : new SourceIntake(source, proxies, routes));
    }
    return new Intake(
        Map.copyOf(built),
        proxies,
        config.server().backlogHighWater(),
        config.server().ackTimeout());
  }

  /** Whether a source of this name is configured now. */
  boolean hasSource(String name) {
    return intake.sources().containsKey(name);
  }

  /** From now on every request is answered 503 {@code shutting_down}. */
  public void stopAccepting() {
    accepting = false;
  }

  public boolean isAccepting() {
    return accepting;
  }

  public IngestResponse handle(String sourceName, IngestRequest request) {
    Intake now = intake;
    SourceIntake source = now.sources().get(sourceName);
    if (source == null) {
      return IngestResponse.reject(
          Rejection.UNKNOWN_SOURCE, "no source named " + quote(sourceName));
    }
    Span span = tracing.ingest(sourceName, request.headers());
    return counted(sourceName, span, () -> check(now, source, request, span));
  }

  /**
   * Runs one ingest of {@code sourceName} with its bookkeeping: the log context, the count of
   * requests inside, the metrics; and a bug still answers JSON, a 5xx (so the sender retries), and
   * echoes nothing.
   */
  private IngestResponse counted(
      String sourceName, Span span, java.util.function.Supplier<IngestResponse> work) {
    long started = System.nanoTime();
    MDC.put("source", sourceName);
    String traceId = Tracing.traceId(span);
    if (traceId != null) {
      MDC.put("traceId", traceId);
    }
    inFlight.incrementAndGet();
    IngestResponse response = null;
    try {
      response = safely(work);
      String outcome = outcomeOf(response);
      metrics.ingestRequest(sourceName, outcome);
      if (!OperationalSource.NAME.equals(sourceName)) {
        answers.report(sourceName, response, outcome);
      }
      if (response.status() / 100 == 2) {
        metrics.ackLatency(sourceName, System.nanoTime() - started);
      }
      return response;
    } finally {
      inFlight.decrementAndGet();
      MDC.remove("source");
      MDC.remove("eventId");
      if (traceId != null) {
        MDC.remove("traceId");
        Object eventId = response == null ? null : response.body().get("eventId");
        Tracing.endIngest(
            span,
            response == null ? 500 : response.status(),
            response == null ? "internal_error" : outcomeOf(response),
            eventId == null ? null : eventId.toString());
      }
    }
  }

  private static IngestResponse safely(java.util.function.Supplier<IngestResponse> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      // the exception's message may quote the payload: log where it happened, not what it says
      StackTraceElement at = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
      LOG.error("ingest failed unexpectedly: {} at {}", e.getClass().getName(), at);
      return IngestResponse.reject(Rejection.INTERNAL_ERROR, "internal error; retry later");
    }
  }

  private void logRefusal(String source, String reason, java.util.function.LongConsumer line) {
    sourceLogs
        .computeIfAbsent(source + '\n' + reason, k -> new LogThrottle(REFUSAL_LOG_INTERVAL))
        .log(line);
  }

  /**
   * Counts each path coerced in a request, and logs it (the path, never the value) at most once per
   * interval for each source and path, with the count of those not logged.
   */
  private void countCoerced(String source, List<String> paths) {
    for (String path : paths) {
      metrics.coerced(source, path);
      sourceLogs
          .computeIfAbsent(
              source + "\ncoerced\n" + path, k -> new LogThrottle(REFUSAL_LOG_INTERVAL))
          .log(
              skipped ->
                  LOG.info(
                      "coerced a value at {} to the configured type{}",
                      path,
                      LogThrottle.more(skipped)));
    }
  }

  /** Requests inside {@link #handle} right now. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * One message of a pulled source (docs/sources.md): the same rules, store and answers as a
   * webhook's from JSON parsing on, without the request's checks (the gateway fetched it itself
   * over an authenticated connection). A 2xx means committed; anything else is for the source to
   * retry or report, as a sender would.
   */
  public IngestResponse ingestPulled(String sourceName, byte[] json, Map<String, String> headers) {
    Intake now = intake;
    SourceIntake source = now.sources().get(sourceName);
    if (source == null || !source.config.pulled()) {
      return IngestResponse.reject(
          Rejection.UNKNOWN_SOURCE, "no pulled source named " + quote(sourceName));
    }
    Span span = tracing.ingest(sourceName, null);
    return counted(sourceName, span, () -> parsed(now, source, json, headers, span));
  }

  /**
   * One operational event the gateway emits about itself (docs/operational-events.md), stored in
   * its built-in {@code switchboard} source by the same rules as any event: de-duplicated by its
   * id, routed by the routes from {@code switchboard}. A 2xx means committed.
   */
  public IngestResponse ingestOperational(byte[] json) {
    Intake now = intake;
    SourceIntake source = now.sources().get(OperationalSource.NAME);
    Span span = tracing.ingest(OperationalSource.NAME, Map.of());
    return counted(OperationalSource.NAME, span, () -> parsed(now, source, json, Map.of(), span));
  }

  private IngestResponse check(
      Intake intake, SourceIntake source, IngestRequest request, Span span) {
    SourceConfig config = source.config;
    if (config == OperationalSource.config()) {
      return IngestResponse.reject(
          Rejection.UNKNOWN_SOURCE,
          "source \"switchboard\" holds the gateway's own operational events; it has no webhook"
              + " endpoint");
    }
    if (config.pulled()) {
      return IngestResponse.reject(
          Rejection.UNKNOWN_SOURCE,
          "source "
              + quote(config.name())
              + " is pulled by the gateway; it has no webhook endpoint");
    }
    if (!"POST".equalsIgnoreCase(request.method())) {
      return IngestResponse.reject(Rejection.METHOD_NOT_ALLOWED, "only POST is accepted here");
    }
    String client =
        source.allowList.clientAddress(
            request.remoteAddress(), request.headers().get("x-forwarded-for"));
    if (!source.allowList.allows(client)) {
      logRefusal(
          config.name(),
          Rejection.IP_NOT_ALLOWED.code(),
          skipped ->
              LOG.info(
                  "refused request from {}: not in the allow-list{}",
                  client,
                  LogThrottle.more(skipped)));
      return IngestResponse.reject(Rejection.IP_NOT_ALLOWED, "client address is not allowed");
    }
    if (request.contentLength() > config.maxBodyBytes()) {
      return tooLarge(config);
    }
    long reserved = BodiesInFlight.reckon(request.contentLength(), config.maxBodyBytes());
    if (!bodies.reserve(reserved)) {
      return IngestResponse.reject(
          Rejection.STORE_UNAVAILABLE,
          "the gateway holds as many request bodies as its memory allows; retry shortly");
    }
    try {
      return readAndVerify(intake, source, request, span);
    } finally {
      bodies.release(reserved);
    }
  }

  /** Reads the body (within the source's limit), verifies it, then {@link #parsed}. */
  private IngestResponse readAndVerify(
      Intake intake, SourceIntake source, IngestRequest request, Span span) {
    SourceConfig config = source.config;
    byte[] raw;
    try {
      raw = BodyReader.read(request.body(), config.maxBodyBytes(), request.contentLength());
    } catch (TooLarge e) {
      return tooLarge(config);
    } catch (IOException e) {
      return IngestResponse.reject(Rejection.INVALID_JSON, "the request body could not be read");
    }
    Instant now = clock.instant();
    Span verify = tracing.step(span, "verify");
    Verdict verdict;
    try {
      verdict = source.verifier.verify(request.headerLookup(), raw, now);
    } finally {
      verify.end();
    }
    if (verdict instanceof Verdict.Rejected r) {
      logRefusal(
          config.name(),
          r.code(),
          skipped -> LOG.info("refused request: {}{}", r.code(), LogThrottle.more(skipped)));
      return IngestResponse.reject(Rejection.SIGNATURE_REJECTED, r.message());
    }
    if (!isJson(request.contentType())) {
      return IngestResponse.reject(
          Rejection.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    }
    return parsed(intake, source, raw, request.headers(), span);
  }

  /** From the body's bytes on: parse, shape, then {@link #admit}. */
  private IngestResponse parsed(
      Intake intake, SourceIntake source, byte[] raw, Map<String, String> headers, Span span) {
    SourceConfig config = source.config;
    Instant now = clock.instant();
    JsonBody.Parsed parsed;
    Span parse = tracing.step(span, "parse");
    try {
      parsed = JsonBody.parse(raw);
    } catch (JsonBody.Invalid e) {
      return IngestResponse.reject(Rejection.INVALID_JSON, e.getMessage());
    } finally {
      parse.end();
    }
    Object body = parsed.value();
    boolean reshaped = source.shaper.normalise(body);
    List<String> coerced = source.shaper.coerce(body);
    if (!coerced.isEmpty()) {
      reshaped = true;
      countCoerced(config.name(), coerced);
    }
    Map<String, Object> bindings = Bindings.ofRequest(config.name(), headers, now);
    return admit(
        intake,
        new NewEvents.Received(source, parsed.text(), body, reshaped, bindings, headers, now),
        span);
  }

  private IngestResponse admit(Intake intake, NewEvents.Received r, Span span) {
    SourceConfig config = r.source().config;
    String key = null;
    if (config.idempotency() != null) {
      key = r.source().idempotencyKey(r.body(), r.bindings());
      if (key == null && config.idempotency().required()) {
        return IngestResponse.reject(
            Rejection.IDEMPOTENCY_KEY_MISSING,
            "the idempotency key " + quote(config.idempotency().key().text()) + " gave no value");
      }
    }
    String partitionKey =
        config.partitionKey() == null
            ? null
            : evaluateQuietly(config.partitionKey(), r.body(), r.bindings(), "partition key");
    IngestResponse badKey = DerivedKeys.refusal(config, key, partitionKey);
    if (badKey != null) {
      return badKey;
    }
    long wait = r.source().tryAcquire();
    if (wait > 0) {
      return IngestResponse.retryLater(Rejection.RATE_LIMITED, "source rate limit reached", wait);
    }
    // the gateway's own events are stored while it drains (the store closes after them) and past
    // the backlog's mark: they are how the operator hears of it
    boolean operational = config == OperationalSource.config();
    if (!accepting && !operational) {
      return IngestResponse.retryLater(Rejection.SHUTTING_DOWN, "the gateway is shutting down", 5);
    }
    List<String> violations = r.source().violations(r.body(), json);
    if (!violations.isEmpty() && config.onInvalid() == SourceConfig.OnInvalid.REJECT) {
      return IngestResponse.reject(Rejection.SCHEMA_INVALID, String.join("; ", violations));
    }
    NewEvent event = NewEvents.toEvent(r, key, partitionKey, violations, Tracing.traceparent(span));
    if (!operational && overHighWater(event, intake.backlogHighWater())) {
      return IngestResponse.retryLater(Rejection.BACKLOG_FULL, "delivery backlog is full", 30);
    }
    Span stored = tracing.step(span, "store");
    try {
      return store(intake.ackTimeout(), r.source().config, event);
    } finally {
      stored.end();
    }
  }

  /**
   * Back-pressure where the backlog is (docs/delivery-states.md): the event would add a delivery to
   * a destination whose unfinished deliveries are over the mark. Destinations it would not add to
   * (other routes' destinations, filtered-out routes) do not count, so one paused or held
   * destination refuses only the sources that send to it. An in-memory tally per destination.
   */
  private boolean overHighWater(NewEvent event, long highWater) {
    for (NewEvent.RouteTarget target : event.routes()) {
      if (target.state() == DeliveryState.PENDING
          && store.countUnfinishedDeliveries(target.destination()) > highWater) {
        return true;
      }
    }
    return false;
  }

  /**
   * What releasing a quarantined event would write under the running configuration (the one after
   * the last reload): its stored payload is checked again against its source's schema as it is now;
   * if it passes, its deliveries are decided as at ingest, each route's filter on the stored
   * payload, with the headers the source kept and the original receive and event times as bindings.
   * Nothing is written here.
   *
   * @return empty when the event's source is no longer configured
   */
  java.util.Optional<QuarantineRelease> decideRelease(Event event, String by, Instant at) {
    SourceIntake source = intake.sources().get(event.source());
    if (source == null) {
      return java.util.Optional.empty();
    }
    Object body;
    try {
      body =
          JsonBody.parse(event.payload().getBytes(java.nio.charset.StandardCharsets.UTF_8)).value();
    } catch (JsonBody.Invalid e) {
      return java.util.Optional.of(
          new QuarantineRelease(event.id(), "the stored payload is not JSON", List.of(), by, at));
    }
    // shaped as the source shapes a request now: an alias or a coercion added to fix the drift
    // that quarantined it applies before the schema, as it would to the same request sent again
    boolean reshaped = source.shaper.normalise(body);
    List<String> coerced = source.shaper.coerce(body);
    if (!coerced.isEmpty()) {
      reshaped = true;
    }
    List<String> violations = source.violations(body, json);
    if (!violations.isEmpty()) {
      return java.util.Optional.of(
          new QuarantineRelease(event.id(), String.join("; ", violations), List.of(), by, at));
    }
    if (!coerced.isEmpty()) {
      countCoerced(source.config.name(), coerced);
    }
    reshaped |= source.shaper.redact(body);
    Map<String, Object> bindings =
        Bindings.ofRequest(event.source(), new HashMap<>(event.headers()), event.receivedAt());
    return java.util.Optional.of(
        new QuarantineRelease(
            event.id(),
            null,
            NewEvents.targets(source.routes, body, bindings, event.eventTime()),
            by,
            at,
            reshaped ? NewEvents.serialise(body) : null));
  }

  private IngestResponse store(Duration ackTimeout, SourceConfig config, NewEvent event) {
    IngestOutcome outcome;
    java.util.concurrent.CompletableFuture<IngestOutcome> pending = store.ingest(event);
    try {
      outcome = pending.get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // cancelled before the writer takes it, it is never written; if the writer already has
      // it, it may still commit, and the sender's retry is then answered as a duplicate
      pending.cancel(false);
      storeFailuresLog.log(
          skipped ->
              LOG.warn(
                  "no group commit within {} ms{}",
                  ackTimeout.toMillis(),
                  LogThrottle.more(skipped)));
      return IngestResponse.retryLater(
          Rejection.STORE_UNAVAILABLE,
          "the event could not be stored in time; retry later",
          STORE_RETRY_AFTER_SECONDS);
    } catch (ExecutionException e) {
      String why = e.getCause() == null ? e.toString() : e.getCause().getMessage();
      storeFailuresLog.log(
          skipped -> LOG.warn("could not store an event: {}{}", why, LogThrottle.more(skipped)));
      return IngestResponse.retryLater(
          Rejection.STORE_UNAVAILABLE,
          "the event could not be stored; retry later",
          STORE_RETRY_AFTER_SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return IngestResponse.retryLater(Rejection.SHUTTING_DOWN, "the gateway is shutting down", 5);
    }
    MDC.put("eventId", outcome.eventId().value());
    String id = outcome.eventId().value();
    return switch (outcome) {
      case IngestOutcome.Duplicate d -> {
        LOG.info("duplicate absorbed");
        yield new IngestResponse(
            config.duplicateStatus(),
            Map.of("status", "duplicate", "eventId", id, "duplicate", true),
            Map.of());
      }
      case IngestOutcome.Accepted a when event.status() == EventStatus.QUARANTINED -> {
        LOG.info("event quarantined: schema violation");
        yield new IngestResponse(
            config.acceptedStatus(),
            Map.of("status", "quarantined", "eventId", id, "quarantined", true),
            Map.of());
      }
      case IngestOutcome.Accepted a -> {
        LOG.debug("event accepted");
        for (NewEvent.RouteTarget t : event.routes()) {
          if (t.state() == DeliveryState.DEAD) { // its filter failed here: a dead letter already
            DeliveryLog.deadLetter(id, null, t.route(), t.destination(), 0, "filter");
            answers
                .ops()
                .deliveryDead(
                    t.destination(), t.route(), event.source(), null, id, 0, "filter", null);
          }
        }
        yield new IngestResponse(
            config.acceptedStatus(), Map.of("status", "accepted", "eventId", id), Map.of());
      }
    };
  }

  private static IngestResponse tooLarge(SourceConfig config) {
    return IngestResponse.reject(
        Rejection.BODY_TOO_LARGE, "the body is larger than " + config.maxBodyBytes() + " bytes");
  }

  /** A value for a key, or null when the expression fails or yields nothing usable. */
  private static String evaluateQuietly(
      dev.switchboard.expr.Expression expression,
      Object body,
      Map<String, Object> bindings,
      String what) {
    try {
      String value = expression.evaluateToString(body, bindings);
      return value == null || value.isEmpty() ? null : value;
    } catch (ExpressionException e) {
      // the message may quote a payload value ("For input string: …"): log where, not what
      LOG.debug(
          "{} expression failed ({} at position {})",
          what,
          e.getCause() == null ? "ExpressionException" : e.getCause().getClass().getSimpleName(),
          e.position());
      return null;
    }
  }

  private static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String type = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
    return type.equals("application/json")
        || (type.startsWith("application/") && type.endsWith("+json"));
  }

  private static String outcomeOf(IngestResponse response) {
    Object error = response.body().get("error");
    if (error != null) {
      return error.toString();
    }
    return String.valueOf(response.body().get("status"));
  }

  static String quote(String text) {
    String t = text.length() > 80 ? text.substring(0, 80) + "…" : text;
    return '"' + t + '"';
  }
}
