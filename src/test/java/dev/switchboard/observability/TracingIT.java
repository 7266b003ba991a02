package dev.switchboard.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.observability.OtlpReceiver.ReceivedSpan;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.FakeDestination.Request;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Traces end to end (docs/telemetry.md): a real gateway on 127.0.0.1 exporting to a local OTLP/HTTP
 * receiver that decodes the protobuf. One trace per event: the ingest span with verify, parse and
 * store under it, and every attempt (the first, its retry, a replay) under the ingest span, each
 * with its send, whose traceparent the destination receives.
 */
class TracingIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String MARKER = "PAYLOAD-MARKER-7a2f";
  static final String QUERY = "QS-5ecret-91c3";
  static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  OtlpReceiver otlp;
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
    if (otlp != null) {
      otlp.close();
    }
  }

  void start(String telemetry) throws Exception {
    otlp = new OtlpReceiver();
    String yaml =
        telemetry
            + """
            sources:
              calls:
                verify: { scheme: none }
            routes:
              to-crm: { from: calls, to: crm }
            destinations:
              crm:
                type: http
                url: ${CRM}
                retry: { initial: 1s, max_delay: 1m }
            """;
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of(
                "CRM", crm.uri("/in?code=" + QUERY).toString(), "OTLP", otlp.endpoint().toString()),
            clock);
  }

  static final String TRACING_ON =
      """
      telemetry:
        otlp_endpoint: ${OTLP}
        service_name: switchboard-it
        export_interval: 100ms
      """;

  String post(Map<String, String> headers) throws Exception {
    HttpResponse<String> r =
        gw.post(
            "calls",
            ("{\"interactionId\":\"" + MARKER + "\"}").getBytes(StandardCharsets.UTF_8),
            headers);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord only(String eventId) {
    List<DeliveryRecord> all = gw.gateway().deliveries().deliveriesOf(new EventId(eventId));
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  List<ReceivedSpan> named(String name) {
    return otlp.spans().stream().filter(s -> s.name().equals(name)).toList();
  }

  ReceivedSpan byId(String spanId) {
    return otlp.spans().stream().filter(s -> s.spanId().equals(spanId)).findFirst().orElseThrow();
  }

  @Test
  void anEventIsOneTraceFromIngestThroughARetryAndAReplay() throws Exception {
    crm.answer(Answer.status(503));
    start(TRACING_ON);
    Logger deliveries = (Logger) LoggerFactory.getLogger("dev.switchboard.deliveries");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    deliveries.addAppender(lines);
    try {
      String eventId = post(Map.of());
      await().atMost(WAIT).until(() -> only(eventId).state() == DeliveryState.RETRY_SCHEDULED);
      clock.advance(Duration.ofSeconds(2)); // past the first backoff (at most 1 s)
      await().atMost(WAIT).until(() -> only(eventId).state() == DeliveryState.DELIVERED);
      assertThat(gw.gateway().deliveries().replayOne(only(eventId).id(), "ops")).isTrue();
      await().atMost(WAIT).until(() -> crm.requests().size() == 3);
      await().atMost(WAIT).until(() -> named("attempt").size() == 3 && named("send").size() == 3);

      ReceivedSpan ingest = named("ingest").get(0);
      String traceId = ingest.traceId();
      assertThat(ingest.parentSpanId()).isNull();
      assertThat(ingest.serviceName()).isEqualTo("switchboard-it");
      assertThat(ingest.attribute("switchboard.source")).isEqualTo("calls");
      assertThat(ingest.attribute("switchboard.event_id")).isEqualTo(eventId);
      assertThat(ingest.attribute("http.response.status_code")).isEqualTo("202");
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(
                          otlp.spans().stream()
                              .filter(s -> ingest.spanId().equals(s.parentSpanId()))
                              .map(ReceivedSpan::name))
                      .containsExactlyInAnyOrder(
                          "verify", "parse", "store", "attempt", "attempt", "attempt"));
      // the stored event carries the ingest span's context
      assertThat(gw.gateway().store().findEvent(new EventId(eventId)).orElseThrow().headers())
          .hasEntrySatisfying(
              "traceparent",
              v -> assertThat(v).startsWith("00-" + traceId + "-" + ingest.spanId() + "-"));

      List<ReceivedSpan> attempts = named("attempt");
      assertThat(attempts).allSatisfy(a -> assertThat(a.traceId()).isEqualTo(traceId));
      assertThat(attempts).allSatisfy(a -> assertThat(a.parentSpanId()).isEqualTo(ingest.spanId()));
      assertThat(attempts)
          .allSatisfy(
              a -> {
                assertThat(a.attribute("switchboard.route")).isEqualTo("to-crm");
                assertThat(a.attribute("switchboard.destination")).isEqualTo("crm");
                assertThat(a.attribute("switchboard.delivery_id"))
                    .isEqualTo(only(eventId).id().value());
              });
      assertThat(attempts)
          .extracting(
              a -> a.attribute("switchboard.outcome"),
              a -> a.attribute("http.response.status_code"))
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple("retry", "503"),
              org.assertj.core.groups.Tuple.tuple("delivered", "202"),
              org.assertj.core.groups.Tuple.tuple("delivered", "202"));
      assertThat(attempts)
          .filteredOn(a -> "retry".equals(a.attribute("switchboard.outcome")))
          .singleElement()
          .satisfies(
              a -> {
                assertThat(a.attribute("switchboard.attempt")).isEqualTo("1");
                assertThat(a.attribute("error.type")).isEqualTo("http_5xx");
              });

      // each request carries its send span's traceparent, in the event's trace
      for (Request request : crm.requests()) {
        String traceparent = request.header("traceparent");
        assertThat(traceparent).startsWith("00-" + traceId + "-").hasSize(55);
        ReceivedSpan send = byId(traceparent.substring(36, 52));
        assertThat(send.name()).isEqualTo("send");
        assertThat(byId(send.parentSpanId()).name()).isEqualTo("attempt");
      }
      // the steps of an attempt: transform and send under it
      ReceivedSpan first = attempts.get(0);
      assertThat(
              otlp.spans().stream()
                  .filter(s -> first.spanId().equals(s.parentSpanId()))
                  .map(ReceivedSpan::name))
          .containsExactlyInAnyOrder("transform", "send");

      // no payload, no URL query, and only the documented keys in any attribute
      assertThat(otlp.spans())
          .allSatisfy(
              s -> {
                assertThat(Tracing.attributeKeys()).containsAll(s.attributes().keySet());
                assertThat(s.attributes().values())
                    .noneMatch(v -> v.contains(MARKER) || v.contains(QUERY) || v.contains("/in"));
              });

      // the failed attempt's log line, encoded as logback.xml encodes it
      ILoggingEvent line;
      synchronized (lines) {
        line =
            lines.list.stream()
                .filter(e -> e.getFormattedMessage().startsWith("attempt 1 "))
                .findFirst()
                .orElseThrow();
      }
      JsonEncoder encoder = new JsonEncoder();
      encoder.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
      encoder.start();
      JsonNode mdc = JSON.readTree(encoder.encode(line)).path("mdc");
      assertThat(mdc.path("route").asText()).isEqualTo("to-crm");
      assertThat(mdc.path("destination").asText()).isEqualTo("crm");
      assertThat(mdc.path("deliveryId").asText()).isEqualTo(only(eventId).id().value());
      assertThat(mdc.path("attempt").asText()).isEqualTo("1");
      assertThat(mdc.path("traceId").asText()).isEqualTo(traceId);
      assertThat(mdc.path("errorClass").asText()).isEqualTo("http_5xx");
    } finally {
      deliveries.detachAppender(lines);
    }
  }

  @Test
  void anAttemptAfterARestartJoinsTheEventsTrace() throws Exception {
    crm.answer(Answer.status(503));
    start(TRACING_ON);
    String eventId = post(Map.of());
    await().atMost(WAIT).until(() -> only(eventId).state() == DeliveryState.RETRY_SCHEDULED);
    gw.close(); // sends its spans as it closes
    gw = null;
    assertThat(named("attempt")).hasSize(1);
    String traceId = named("ingest").get(0).traceId();
    gw =
        GatewayFixture.start(
            dir,
            TRACING_ON
                + """
                sources:
                  calls:
                    verify: { scheme: none }
                routes:
                  to-crm: { from: calls, to: crm }
                destinations:
                  crm:
                    type: http
                    url: ${CRM}
                    retry: { initial: 1s, max_delay: 1m }
                """,
            Map.of("CRM", crm.uri("/in").toString(), "OTLP", otlp.endpoint().toString()),
            clock);
    clock.advance(Duration.ofSeconds(2));
    await().atMost(WAIT).until(() -> named("attempt").size() == 2);
    assertThat(named("attempt"))
        .extracting(ReceivedSpan::traceId, a -> a.attribute("switchboard.attempt"))
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(traceId, "1"),
            org.assertj.core.groups.Tuple.tuple(traceId, "2"));
    assertThat(crm.requests().get(1).header("traceparent")).startsWith("00-" + traceId + "-");
  }

  @Test
  void anEnrichedAttemptHasItsLookupTransformAndSend() throws Exception {
    otlp = new OtlpReceiver();
    try (FakeDestination api = new FakeDestination()) {
      api.answerByDefault(Answer.status(200).body("{\"id\":\"c-1\"}"));
      gw =
          GatewayFixture.start(
              dir,
              TRACING_ON
                  + """
                  sources:
                    calls:
                      verify: { scheme: none }
                  enrichers:
                    crm: { type: http, url: "${API}/api" }
                  routes:
                    to-crm:
                      from: calls
                      enrich: { using: crm, path: "/contacts/{interactionId}", as: contact }
                      transform: '{ "contact": $contact.id }'
                      to: crm
                  destinations:
                    crm: { type: http, url: "${CRM}" }
                  """,
              Map.of(
                  "CRM", crm.uri("/in").toString(),
                  "API", api.uri("").toString(),
                  "OTLP", otlp.endpoint().toString()),
              clock);
      post(Map.of());
      await().atMost(WAIT).until(() -> named("attempt").size() == 1 && named("send").size() == 1);
      ReceivedSpan attempt = named("attempt").get(0);
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(
                          otlp.spans().stream()
                              .filter(s -> attempt.spanId().equals(s.parentSpanId()))
                              .map(ReceivedSpan::name))
                      .containsExactlyInAnyOrder("enrich", "transform", "send"));
      assertThat(attempt.attribute("switchboard.outcome")).isEqualTo("delivered");
      assertThat(crm.requests().get(0).bodyText()).contains("c-1");
    }
  }

  @Test
  void aSendersTraceparentIsContinued() throws Exception {
    start(TRACING_ON);
    String senderTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    String senderSpan = "00f067aa0ba902b7";
    post(Map.of("traceparent", "00-" + senderTrace + "-" + senderSpan + "-01"));
    await().atMost(WAIT).until(() -> named("attempt").size() == 1);
    ReceivedSpan ingest = named("ingest").get(0);
    assertThat(ingest.traceId()).isEqualTo(senderTrace);
    assertThat(ingest.parentSpanId()).isEqualTo(senderSpan);
    assertThat(named("attempt").get(0).traceId()).isEqualTo(senderTrace);
    assertThat(crm.requests().get(0).header("traceparent")).contains(senderTrace);
  }

  @Test
  void aDestinationMayLeaveTheTraceparentOut() throws Exception {
    otlp = new OtlpReceiver();
    gw =
        GatewayFixture.start(
            dir,
            TRACING_ON
                + """
                sources:
                  calls:
                    verify: { scheme: none }
                routes:
                  to-crm: { from: calls, to: crm }
                destinations:
                  crm: { type: http, url: "${CRM}", traceparent: false }
                """,
            Map.of("CRM", crm.uri("/in").toString(), "OTLP", otlp.endpoint().toString()),
            clock);
    post(Map.of());
    await().atMost(WAIT).until(() -> named("attempt").size() == 1);
    assertThat(crm.requests())
        .singleElement()
        .satisfies(r -> assertThat(r.header("traceparent")).isNull());
  }

  @Test
  void withTracingOffNothingIsExportedOrSent() throws Exception {
    start("telemetry: { otlp_endpoint: \"${NO_SUCH_ENDPOINT:-}\" }\n");
    String eventId = post(Map.of());
    await().atMost(WAIT).until(() -> only(eventId).state() == DeliveryState.DELIVERED);
    assertThat(crm.requests())
        .singleElement()
        .satisfies(r -> assertThat(r.header("traceparent")).isNull());
    assertThat(gw.gateway().store().findEvent(new EventId(eventId)).orElseThrow().headers())
        .doesNotContainKey("traceparent");
    // the wait is the assertion: an exporter would have sent within its 5 s default, or at close
    gw.close();
    gw = null;
    assertThat(otlp.requests()).isZero();
  }
}
