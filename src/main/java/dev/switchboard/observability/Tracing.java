package dev.switchboard.observability;

import dev.switchboard.config.TelemetryConfig;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's traces (docs/telemetry.md): one trace per event, from its ingest to every attempt
 * to deliver it, exported over OTLP/HTTP (protobuf).
 *
 * <p>The event's trace context is stored with the event, as a W3C {@code traceparent} in its kept
 * headers ({@link #TRACEPARENT}), so each attempt — after retries, a replay or a restart — is a
 * span in the same trace, under the ingest span.
 *
 * <p>Off (no {@code telemetry.otlp_endpoint}) every method returns the shared invalid span or null
 * without building anything: the hot paths pay a field read and a branch.
 *
 * <p>Attributes name the source, route, destination, ids, attempt number, outcome and HTTP status;
 * never a payload, a header value, a URL or a secret.
 */
public final class Tracing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);

  /** The stored header that carries an event's trace context (a W3C traceparent). */
  public static final String TRACEPARENT = "traceparent";

  static final AttributeKey<String> SOURCE = AttributeKey.stringKey("switchboard.source");
  static final AttributeKey<String> EVENT_ID = AttributeKey.stringKey("switchboard.event_id");
  static final AttributeKey<String> ROUTE = AttributeKey.stringKey("switchboard.route");
  static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("switchboard.destination");
  static final AttributeKey<String> DELIVERY_ID = AttributeKey.stringKey("switchboard.delivery_id");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("switchboard.attempt");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("switchboard.outcome");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

  private static final TextMapGetter<Map<String, String>> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  private static final Tracing OFF = new Tracing(null, null);

  /**
   * The SDK's own logger (java.util.logging), held so its handler stays: what it says (an export
   * that failed, a full queue) goes to the JSON log rather than to stderr as plain text.
   */
  private static final java.util.logging.Logger SDK_LOG =
      java.util.logging.Logger.getLogger("io.opentelemetry");

  private static synchronized void logSdkToSlf4j() {
    for (java.util.logging.Handler handler : SDK_LOG.getHandlers()) {
      if (handler instanceof org.slf4j.bridge.SLF4JBridgeHandler) {
        return;
      }
    }
    SDK_LOG.addHandler(new org.slf4j.bridge.SLF4JBridgeHandler());
    SDK_LOG.setUseParentHandlers(false);
  }

  private final SdkTracerProvider provider; // null when off
  private final Tracer tracer; // null when off

  private Tracing(SdkTracerProvider provider, Tracer tracer) {
    this.provider = provider;
    this.tracer = tracer;
  }

  /** No tracing. */
  public static Tracing off() {
    return OFF;
  }

  /**
   * Tracing as {@code config} says: off without an endpoint; else spans batched every {@code
   * export_interval} to the endpoint's {@code /v1/traces}. An unreachable collector loses spans,
   * never deliveries.
   */
  public static Tracing start(TelemetryConfig config) {
    if (config == null || !config.enabled()) {
      return OFF;
    }
    logSdkToSlf4j();
    OtlpHttpSpanExporterBuilder exporter =
        OtlpHttpSpanExporter.builder().setEndpoint(tracesUrl(config.otlpEndpoint()));
    config.headers().forEach(exporter::addHeader);
    Resource resource =
        Resource.getDefault()
            .merge(
                Resource.create(
                    Attributes.of(
                        AttributeKey.stringKey("service.name"),
                        config.serviceName(),
                        AttributeKey.stringKey("service.version"),
                        version())));
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(resource)
            .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(config.sampleRatio())))
            .addSpanProcessor(
                BatchSpanProcessor.builder(exporter.build())
                    .setScheduleDelay(config.exportInterval())
                    .build())
            .build();
    LOG.info(
        "tracing on: spans to {} as service {} (sample ratio {})",
        safe(tracesUrl(config.otlpEndpoint())),
        config.serviceName(),
        config.sampleRatio());
    return new Tracing(provider, provider.get("dev.switchboard"));
  }

  /** The endpoint's {@code /v1/traces}, unless it names that path already. */
  /** scheme://host[:port]/path: a collector may take a key in its URL's user info or query. */
  private static String safe(String url) {
    URI uri = URI.create(url);
    String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
    return uri.getScheme()
        + "://"
        + uri.getHost()
        + port
        + (uri.getRawPath() == null ? "" : uri.getRawPath());
  }

  static String tracesUrl(URI endpoint) {
    String text = endpoint.toString();
    if (text.endsWith("/v1/traces")) {
      return text;
    }
    return (text.endsWith("/") ? text.substring(0, text.length() - 1) : text) + "/v1/traces";
  }

  private static String version() {
    String version = Tracing.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  public boolean on() {
    return tracer != null;
  }

  // --- ingest ---

  /**
   * The root span of one ingest: a child of the sender's trace when {@code requestHeaders} (lower
   * case names) hold a valid {@code traceparent}, else a new trace.
   */
  public Span ingest(String source, Map<String, String> requestHeaders) {
    if (tracer == null) {
      return Span.getInvalid();
    }
    Context parent =
        requestHeaders == null || requestHeaders.get(TRACEPARENT) == null
            ? Context.root()
            : W3CTraceContextPropagator.getInstance()
                .extract(Context.root(), requestHeaders, HEADERS);
    return tracer
        .spanBuilder("ingest")
        .setParent(parent)
        .setSpanKind(SpanKind.SERVER)
        .setAttribute(SOURCE, source)
        .startSpan();
  }

  /** A step (verify, parse, store, enrich, transform) under {@code parent}. */
  public Span step(Span parent, String name) {
    if (tracer == null || !parent.getSpanContext().isValid()) {
      return Span.getInvalid();
    }
    return tracer.spanBuilder(name).setParent(Context.root().with(parent)).startSpan();
  }

  /** Ends the ingest span with the answer's status and the stored event's id (null if none). */
  public static void endIngest(Span span, int status, String outcome, String eventId) {
    if (!span.getSpanContext().isValid()) {
      return;
    }
    span.setAttribute(HTTP_STATUS, (long) status);
    span.setAttribute(OUTCOME, outcome);
    if (eventId != null) {
      span.setAttribute(EVENT_ID, eventId);
    }
    if (status >= 500) {
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }

  // --- dispatch ---

  /**
   * The span of one attempt to deliver, in the event's trace when {@code traceparent} (stored with
   * the event) is valid; a new trace otherwise (an event stored while tracing was off).
   */
  public Span attempt(
      String traceparent,
      String eventId,
      String route,
      String destination,
      String deliveryId,
      int attempt) {
    if (tracer == null) {
      return Span.getInvalid();
    }
    SpanBuilder builder =
        tracer
            .spanBuilder("attempt")
            .setParent(parentOf(traceparent))
            .setSpanKind(SpanKind.CONSUMER)
            .setAttribute(EVENT_ID, eventId)
            .setAttribute(ROUTE, route)
            .setAttribute(DESTINATION, destination)
            .setAttribute(DELIVERY_ID, deliveryId)
            .setAttribute(ATTEMPT, (long) attempt);
    return builder.startSpan();
  }

  /** The request of an attempt: a client span under {@code attempt}. */
  public Span send(Span attempt) {
    if (tracer == null || !attempt.getSpanContext().isValid()) {
      return Span.getInvalid();
    }
    return tracer
        .spanBuilder("send")
        .setParent(Context.root().with(attempt))
        .setSpanKind(SpanKind.CLIENT)
        .startSpan();
  }

  /**
   * Ends a send or attempt span: the outcome ({@code delivered}, {@code retry}, {@code dead},
   * {@code skipped}), the HTTP status when there was an answer, the error class when it failed.
   */
  public static void end(Span span, String outcome, int status, String errorClass) {
    if (!span.getSpanContext().isValid()) {
      return;
    }
    if (outcome != null) {
      span.setAttribute(OUTCOME, outcome);
    }
    if (status > 0) {
      span.setAttribute(HTTP_STATUS, (long) status);
    }
    if (errorClass != null) {
      span.setAttribute(ERROR_TYPE, errorClass);
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }

  // --- context ---

  /** The W3C traceparent of {@code span}, or null when it is the invalid span. */
  public static String traceparent(Span span) {
    SpanContext context = span.getSpanContext();
    if (!context.isValid()) {
      return null;
    }
    return "00-"
        + context.getTraceId()
        + '-'
        + context.getSpanId()
        + '-'
        + context.getTraceFlags().asHex();
  }

  /** The trace id of {@code span}, or null when it is the invalid span. */
  public static String traceId(Span span) {
    SpanContext context = span.getSpanContext();
    return context.isValid() ? context.getTraceId() : null;
  }

  /**
   * The trace id in a W3C {@code traceparent} ({@code 00-<32 hex>-<16 hex>-<2 hex>}), or null when
   * there is none or it is malformed.
   */
  public static String traceIdOf(String traceparent) {
    if (traceparent == null
        || traceparent.length() < 55
        || traceparent.charAt(2) != '-'
        || traceparent.charAt(35) != '-') {
      return null;
    }
    String traceId = traceparent.substring(3, 35);
    for (int i = 0; i < traceId.length(); i++) {
      char ch = traceId.charAt(i);
      if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
        return null;
      }
    }
    return traceId.equals("00000000000000000000000000000000") ? null : traceId;
  }

  private static Context parentOf(String traceparent) {
    if (traceparent == null) {
      return Context.root();
    }
    return W3CTraceContextPropagator.getInstance()
        .extract(Context.root(), Map.of(TRACEPARENT, traceparent), HEADERS);
  }

  /** Sends what has ended and not yet been sent, waiting at most {@code millis}. */
  public void flush(long millis) {
    if (provider != null) {
      provider.forceFlush().join(millis, TimeUnit.MILLISECONDS);
    }
  }

  /** Sends what is left (a few seconds at most), then stops. */
  @Override
  public void close() {
    if (provider != null) {
      provider.shutdown().join(5, TimeUnit.SECONDS);
    }
  }

  /** The attribute keys spans may carry: tests check no other key appears. */
  static List<String> attributeKeys() {
    return List.of(
        SOURCE.getKey(),
        EVENT_ID.getKey(),
        ROUTE.getKey(),
        DESTINATION.getKey(),
        DELIVERY_ID.getKey(),
        ATTEMPT.getKey(),
        OUTCOME.getKey(),
        ERROR_TYPE.getKey(),
        HTTP_STATUS.getKey());
  }
}
