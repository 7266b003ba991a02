package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ingest check of docs/guarantees.md, in order, over real HTTP against a gateway on a random
 * port.
 */
class IngestIT {
  static final String SECRET = "s3cr3t-current";
  static final String OLD_SECRET = "s3cr3t-previous";
  static final ObjectMapper JSON = new ObjectMapper();
  static final AtomicInteger SEQ = new AtomicInteger();

  @TempDir static Path dir;
  static MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  static GatewayFixture gw;

  @BeforeAll
  static void start() throws Exception {
    Files.copy(
        GatewayFixture.EXAMPLES.resolve("pe-action-map.schema.json"),
        dir.resolve("pe.schema.json"));
    String yaml =
        """
        sources:
          dispositions:
            verify:
              scheme: hmac-sha256-hex
              header: X-Genesys-Signature
              secrets: ["${SECRET}", "${OLD_SECRET}"]
            max_body: 2KB
            idempotency:
              key: interactionId & '|' & timestamp
              ttl: 48h
            event_time: timestamp
            partition_key: interactionId
            redact:
              remove: [recordingUrls, mediaUrls]
              mask: [contact.phoneNumber]
          office-only:
            verify: { scheme: none }
            allow_ips: ["10.0.0.0/8"]
          limited:
            verify: { scheme: none }
            rate_limit: 2/minute
          pe:
            verify: { scheme: none }
            idempotency: { key: webhookEventId }
            schema: pe.schema.json
          pe-strict:
            verify: { scheme: none }
            schema: pe.schema.json
            on_invalid: reject
        routes:
          to-crm:
            from: dispositions
            to: crm
        destinations:
          crm:
            type: http
            url: http://127.0.0.1:9/unused
        """;
    gw = GatewayFixture.start(dir, yaml, Map.of("SECRET", SECRET, "OLD_SECRET", OLD_SECRET), clock);
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  static byte[] disposition(String interactionId, String timestamp) {
    return utf8(
        """
        {"interactionId":"%s","timestamp":"%s","disposition":{"code":"RESOLVED"},
         "contact":{"id":"c-1","phoneNumber":"+15550001234"},
         "recordingUrls":["https://rec.example.invalid/1.opus"],"mediaUrls":[]}"""
            .formatted(interactionId, timestamp));
  }

  static HttpResponse<String> postSigned(byte[] body, String secret) throws Exception {
    return gw.post(
        "dispositions", body, Map.of("X-Genesys-Signature", Hmac.sha256Hex(secret, body)));
  }

  static String uniqueId() {
    return "int-" + SEQ.incrementAndGet();
  }

  static JsonNode json(HttpResponse<String> response) throws Exception {
    return JSON.readTree(response.body());
  }

  static void assertError(HttpResponse<String> response, int status, String code) throws Exception {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type"))
        .hasValueSatisfying(t -> assertThat(t).contains("application/json"));
    JsonNode body = json(response);
    assertThat(body.path("error").asText()).isEqualTo(code);
    assertThat(body.path("message").asText()).isNotBlank();
  }

  @Test
  void unknownSourceIs404() throws Exception {
    assertError(gw.post("nope", utf8("{}"), Map.of()), 404, "unknown_source");
  }

  @Test
  void anythingButPostIs405() throws Exception {
    assertError(gw.get("/hooks/dispositions"), 405, "method_not_allowed");
  }

  @Test
  void clientOutsideTheAllowListIs403() throws Exception {
    assertError(gw.post("office-only", utf8("{}"), Map.of()), 403, "ip_not_allowed");
  }

  @Test
  void forwardedForFromAnUntrustedPeerIsIgnored() throws Exception {
    // 127.0.0.1 is not configured as a trusted proxy, so its X-Forwarded-For is not believed
    assertError(
        gw.post("office-only", utf8("{}"), Map.of("X-Forwarded-For", "10.1.2.3")),
        403,
        "ip_not_allowed");
  }

  @Test
  void declaredBodyOverTheLimitIs413() throws Exception {
    byte[] big = utf8("{\"pad\":\"" + "x".repeat(3000) + "\"}");
    assertError(postSigned(big, SECRET), 413, "body_too_large");
  }

  @Test
  void streamedBodyOverTheLimitIs413EvenWithoutContentLength() throws Exception {
    byte[] big = utf8("{\"pad\":\"" + "x".repeat(3000) + "\"}");
    HttpRequest request =
        HttpRequest.newBuilder(gw.uri("/hooks/dispositions"))
            .header("Content-Type", "application/json")
            .header("X-Genesys-Signature", Hmac.sha256Hex(SECRET, big))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
            .build();
    assertError(gw.send(request), 413, "body_too_large");
  }

  @Test
  void missingSignatureIs401() throws Exception {
    assertError(
        gw.post("dispositions", disposition(uniqueId(), "2026-10-27T14:30:00Z"), Map.of()),
        401,
        "signature_rejected");
  }

  @Test
  void wrongSignatureIs401AndTheMessageDoesNotEchoIt() throws Exception {
    byte[] body = disposition(uniqueId(), "2026-10-27T14:30:00Z");
    String wrong = Hmac.sha256Hex("not-the-secret", body);
    HttpResponse<String> response =
        gw.post("dispositions", body, Map.of("X-Genesys-Signature", wrong));
    assertError(response, 401, "signature_rejected");
    assertThat(response.body())
        .doesNotContain(wrong)
        .doesNotContain(SECRET)
        .doesNotContain("interactionId");
  }

  @Test
  void rotatedSecretIsAccepted() throws Exception {
    assertThat(postSigned(disposition(uniqueId(), "2026-10-27T14:30:00Z"), OLD_SECRET).statusCode())
        .isEqualTo(202);
  }

  @Test
  void nonJsonContentTypeIs415() throws Exception {
    byte[] body = disposition(uniqueId(), "2026-10-27T14:30:00Z");
    HttpResponse<String> response =
        gw.post(
            "dispositions",
            body,
            Map.of(
                "Content-Type", "text/plain", "X-Genesys-Signature", Hmac.sha256Hex(SECRET, body)));
    assertError(response, 415, "unsupported_media_type");
  }

  @Test
  void malformedJsonIs400() throws Exception {
    assertError(postSigned(utf8("{\"interactionId\": "), SECRET), 400, "invalid_json");
  }

  @Test
  void missingIdempotencyKeyIs400() throws Exception {
    assertError(postSigned(utf8("{\"somethingElse\":1}"), SECRET), 400, "idempotency_key_missing");
  }

  @Test
  void sourceOverItsRateLimitIs429WithRetryAfter() throws Exception {
    assertThat(gw.post("limited", utf8("{\"n\":1}"), Map.of()).statusCode()).isEqualTo(202);
    assertThat(gw.post("limited", utf8("{\"n\":2}"), Map.of()).statusCode()).isEqualTo(202);
    HttpResponse<String> third = gw.post("limited", utf8("{\"n\":3}"), Map.of());
    assertError(third, 429, "rate_limited");
    assertThat(third.headers().firstValue("retry-after"))
        .hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
  }

  @Test
  void schemaViolationIsQuarantinedStoredAndNotDelivered() throws Exception {
    HttpResponse<String> response =
        gw.post("pe", utf8("{\"webhookEventId\":\"w-1\",\"callOutcome\":\"answered\"}"), Map.of());
    assertThat(response.statusCode()).isEqualTo(202);
    JsonNode body = json(response);
    assertThat(body.path("quarantined").asBoolean()).isTrue();
    Event stored =
        gw.gateway().store().findEvent(new EventId(body.path("eventId").asText())).orElseThrow();
    assertThat(stored.status()).isEqualTo(EventStatus.QUARANTINED);
    assertThat(stored.quarantineReason()).contains("campaignId");
    assertThat(gw.gateway().store().findEvents("pe", EventStatus.QUARANTINED, 10))
        .extracting(Event::id)
        .contains(stored.id());
  }

  @Test
  void schemaViolationWithOnInvalidRejectIs400() throws Exception {
    assertError(
        gw.post("pe-strict", utf8("{\"callOutcome\":\"answered\"}"), Map.of()),
        400,
        "schema_invalid");
  }

  @Test
  void validPayloadAgainstSchemaIsAccepted() throws Exception {
    byte[] body =
        Files.readAllBytes(GatewayFixture.EXAMPLES.resolve("payloads/pe-action-map-outcome.json"));
    HttpResponse<String> response = gw.post("pe", body, Map.of());
    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(json(response).path("status").asText()).isEqualTo("accepted");
  }

  @Test
  void acceptedIs202WithEventIdAndDuplicateIs200WithTheFirstId() throws Exception {
    byte[] body = disposition(uniqueId(), "2026-10-27T14:30:00Z");
    HttpResponse<String> first = postSigned(body, SECRET);
    assertThat(first.statusCode()).isEqualTo(202);
    String id = json(first).path("eventId").asText();
    assertThat(json(first).path("status").asText()).isEqualTo("accepted");

    HttpResponse<String> again = postSigned(body, SECRET);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(json(again).path("status").asText()).isEqualTo("duplicate");
    assertThat(json(again).path("duplicate").asBoolean()).isTrue();
    assertThat(json(again).path("eventId").asText()).isEqualTo(id);
  }

  @Test
  void aSupervisorOverrideWithANewTimestampIsANewEvent() throws Exception {
    String interaction = uniqueId();
    HttpResponse<String> first =
        postSigned(disposition(interaction, "2026-10-27T14:30:00Z"), SECRET);
    HttpResponse<String> override =
        postSigned(disposition(interaction, "2026-10-27T14:45:00Z"), SECRET);
    assertThat(first.statusCode()).isEqualTo(202);
    assertThat(override.statusCode()).isEqualTo(202);
    assertThat(json(override).path("eventId").asText())
        .isNotEqualTo(json(first).path("eventId").asText());
  }

  @Test
  void storedEventIsRedactedAndCarriesKeyTimeAndPartition() throws Exception {
    String interaction = uniqueId();
    HttpResponse<String> response =
        postSigned(disposition(interaction, "2026-10-27T14:30:00Z"), SECRET);
    Event stored =
        gw.gateway()
            .store()
            .findEvent(new EventId(json(response).path("eventId").asText()))
            .orElseThrow();
    assertThat(stored.payload())
        .doesNotContain("recordingUrls")
        .doesNotContain("mediaUrls")
        .doesNotContain("+15550001234")
        .contains("+1555•••1234");
    assertThat(stored.idempotencyKey()).isEqualTo(interaction + "|2026-10-27T14:30:00Z");
    assertThat(stored.partitionKey()).isEqualTo(interaction);
    assertThat(stored.eventTime()).isEqualTo(Instant.parse("2026-10-27T14:30:00Z"));
    assertThat(stored.headers()).doesNotContainKey("x-genesys-signature");
  }

  @Test
  void duplicateKeyExpiresAfterItsTtl() throws Exception {
    byte[] body = disposition(uniqueId(), "2026-10-27T14:30:00Z");
    String first = json(postSigned(body, SECRET)).path("eventId").asText();
    clock.advance(Duration.ofHours(47));
    assertThat(postSigned(body, SECRET).statusCode()).isEqualTo(200);
    clock.advance(Duration.ofHours(2));
    HttpResponse<String> afterTtl = postSigned(body, SECRET);
    assertThat(afterTtl.statusCode()).isEqualTo(202);
    assertThat(json(afterTtl).path("eventId").asText()).isNotEqualTo(first);
  }

  @Test
  void healthReadinessAndMetricsAnswer() throws Exception {
    postSigned(disposition(uniqueId(), "2026-10-27T14:30:00Z"), SECRET);
    assertThat(gw.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(gw.get("/readyz").statusCode()).isEqualTo(200);
    String metrics = gw.get("/metrics").body();
    assertThat(metrics)
        .contains("switchboard_ingest_requests_total{outcome=\"accepted\",source=\"dispositions\"}")
        .contains("switchboard_ingest_ack_seconds_bucket")
        .contains("switchboard_store_group_commit_batch_size")
        .contains("switchboard_backlog");
  }
}
