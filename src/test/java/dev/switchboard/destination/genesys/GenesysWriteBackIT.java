package dev.switchboard.destination.genesys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Write-back through a whole gateway configured in YAML: an EventBridge ACW event looks the
 * conversation up with the {@code genesys-cloud} enricher, writes the wrap-up code to the customer
 * participant's attributes and creates a callback, both with {@code genesys-cloud} destinations of
 * the same client as the enricher.
 */
@Timeout(60)
class GenesysWriteBackIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SAMPLE_CONVERSATION = "6a1f0c3e-2b7d-4e59-8c14-9d0a7b3e5f21";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-04-14T10:16:00Z"));
  final FakeGenesysCloud genesys = FakeGenesysCloud.start("client-1", "s3cret-value");
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    genesys.close();
  }

  static final String ATTRIBUTES_ROUTE =
      """
        acw-outcome:
          from: genesys-eventbridge
          enrich:
            using: genesys-prod
            path: /api/v2/conversations/{detail.eventBody.conversationId}
            as: conversation
          to: genesys-attributes
          transform: |
            { "conversationId": detail.eventBody.conversationId,
              "participantId": $conversation.participants[purpose = "customer"].id,
              "attributes": { "wrapupCode": detail.eventBody.wrapupCode } }
      """;

  void startGateway(boolean withAttributes) throws Exception {
    String yaml =
        """
        sources:
          genesys-eventbridge:
            verify: { scheme: none }
            idempotency: { key: id }
        enrichers:
          genesys-prod:
            type: genesys-cloud
            login_url: ${GENESYS}
            api_url: ${GENESYS}
            client_id: client-1
            client_secret: ${GENESYS_SECRET}
        routes:
        %s
          acw-callback:
            from: genesys-eventbridge
            to: genesys-callbacks
            transform: |
              { "queueId": detail.eventBody.queueId,
                "callbackNumbers": [$substringAfter(detail.eventBody.ani, "tel:")],
                "data": { "conversationId": detail.eventBody.conversationId } }
        destinations:
          genesys-attributes:
            type: genesys-cloud
            operation: conversation-attributes
            login_url: ${GENESYS}
            api_url: ${GENESYS}
            client_id: client-1
            client_secret: ${GENESYS_SECRET}
          genesys-callbacks:
            type: genesys-cloud
            operation: callback
            login_url: ${GENESYS}
            api_url: ${GENESYS}
            client_id: client-1
            client_secret: ${GENESYS_SECRET}
            retry: { initial: 1s, max_delay: 2s, max_server_delay: 1m }
        """
            .formatted(withAttributes ? ATTRIBUTES_ROUTE : "");
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of("GENESYS", genesys.baseUrl().toString(), "GENESYS_SECRET", "s3cret-value"),
            clock);
  }

  String postAcw(String id, String conversation) throws Exception {
    String event =
        Files.readString(GatewayFixture.GENESYS_SAMPLES.resolve("eventbridge-acw.json"))
            .replace("3f9c1d2e-7a41-2b6c-9e05-1d2c3b4a5f60", id)
            .replace(SAMPLE_CONVERSATION, conversation);
    HttpResponse<String> r = gw.post("genesys-eventbridge", GatewayFixture.utf8(event), Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void anAcwEventWritesTheOutcomeBackAndCreatesOneCallbackWithOneToken() throws Exception {
    startGateway(true);
    String conversation =
        genesys
            .conversation(
                "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f",
                Instant.parse("2026-04-14T10:00:00Z"),
                Instant.parse("2026-04-14T10:15:31Z"),
                "9d8c7b6a-5f4e-4d3c-8b2a-190f8e7d6c5b")
            .conversationId();

    String eventId = postAcw("e-1", conversation);

    for (String route : List.of("acw-outcome", "acw-callback")) {
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> delivery(eventId, route).state() == DeliveryState.DELIVERED);
    }
    assertThat(genesys.attributesOf(conversation, genesys.customerOf(conversation)))
        .containsEntry("wrapupCode", "9d8c7b6a-5f4e-4d3c-8b2a-190f8e7d6c5b");
    assertThat(genesys.callbacks())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.get("callbackNumbers")).isEqualTo(List.of("+15555550142"));
              Map<?, ?> data = (Map<?, ?>) c.get("data");
              assertThat(data.get("conversationId")).isEqualTo(conversation);
              assertThat(data.get(Callbacks.KEY_ATTRIBUTE)).isNotNull();
            });
    // the enricher and both destinations name one client: one token between them
    assertThat(genesys.tokensIssued()).isEqualTo(1);
  }

  @Test
  void aThrottledCallbackHoldsUntilRetryAfterThenIsCreatedOnce() throws Exception {
    startGateway(false);
    genesys.throttleNext(1, 5);

    String eventId = postAcw("e-2", "c-2");

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(eventId, "acw-callback").state() == DeliveryState.RETRY_SCHEDULED);
    List<AttemptRecord> attempts =
        gw.gateway().deliveries().attempts(delivery(eventId, "acw-callback").id());
    assertThat(attempts)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.status()).isEqualTo(429);
              assertThat(a.error()).startsWith("genesys 429 too.many.requests.retry.after");
            });
    // the asked-for wait, not the 1 s backoff, decides when
    assertThat(delivery(eventId, "acw-callback").nextAttemptAt())
        .isAfterOrEqualTo(clock.instant().plusSeconds(5));
    assertThat(genesys.callbacks()).isEmpty();

    clock.advance(Duration.ofSeconds(6));

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(eventId, "acw-callback").state() == DeliveryState.DELIVERED);
    assertThat(genesys.callbacks()).hasSize(1);
  }
}
