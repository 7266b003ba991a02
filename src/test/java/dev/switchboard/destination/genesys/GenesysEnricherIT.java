package dev.switchboard.destination.genesys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.RateLimit;
import dev.switchboard.destination.Enricher.Lookup;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeGenesys;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code genesys-cloud} enricher against a local Genesys Cloud (login + Platform API), alone
 * and as a route step in a whole gateway.
 */
class GenesysEnricherIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONVERSATION = "6a1f0c3e-2b7d-4e59-8c14-9d0a7b3e5f21";
  private static final String PATH = "/api/v2/analytics/conversations/" + CONVERSATION + "/details";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-04-14T10:16:00Z"));
  final FakeGenesys genesys = new FakeGenesys("client-1", "s3cret-value");
  final FakeDestination crm = new FakeDestination();
  GenesysEnricher enricher;
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (enricher != null) {
      enricher.close();
    }
    if (gw != null) {
      gw.close();
    }
    genesys.close();
    crm.close();
  }

  GenesysEnricher enricher(String secret, RateLimit rate) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("login_url", genesys.uri().toString());
    settings.put("api_url", genesys.uri().toString());
    settings.put("client_id", "client-1");
    settings.put("client_secret", secret);
    enricher =
        new GenesysEnricher(
            DestinationConfigs.enricher("genesys-prod", "genesys-cloud", settings, rate), clock);
    return enricher;
  }

  @Test
  void fetchesTheRecordWithOneCachedToken() {
    genesys.knows(CONVERSATION);
    GenesysEnricher e = enricher("s3cret-value", null);

    Lookup first = e.get(PATH);
    Lookup second = e.get(PATH);

    assertThat(first)
        .isInstanceOfSatisfying(
            Lookup.Found.class,
            f ->
                assertThat(((Map<?, ?>) f.value()).get("originatingDirection"))
                    .isEqualTo("inbound"));
    assertThat(second).isInstanceOf(Lookup.Found.class);
    assertThat(genesys.tokensIssued()).isEqualTo(1);
    assertThat(genesys.calls()).hasSize(2).allSatisfy(c -> assertThat(c.token()).isNotNull());
  }

  @Test
  void aRevokedTokenIsReplacedOnceAndTheCallRepeated() {
    genesys.knows(CONVERSATION);
    GenesysEnricher e = enricher("s3cret-value", null);
    assertThat(e.get(PATH)).isInstanceOf(Lookup.Found.class);

    genesys.revokeTokens();

    assertThat(e.get(PATH)).isInstanceOf(Lookup.Found.class);
    assertThat(genesys.tokensIssued()).isEqualTo(2);
    assertThat(genesys.calls()).hasSize(3); // found, 401, found
  }

  @Test
  void anExpiredTokenIsRenewedBeforeUse() {
    genesys.knows(CONVERSATION);
    GenesysEnricher e = enricher("s3cret-value", null);
    e.get(PATH);

    clock.advance(Duration.ofHours(24)); // expires_in is 86399 s

    assertThat(e.get(PATH)).isInstanceOf(Lookup.Found.class);
    assertThat(genesys.tokensIssued()).isEqualTo(2);
    assertThat(genesys.calls()).hasSize(2); // no 401 on the way
  }

  @Test
  void tooManyRequestsIsRetriedAfterTheAskedDelay() {
    genesys.knows(CONVERSATION);
    genesys.throttleNext(42);

    Lookup result = enricher("s3cret-value", null).get(PATH);

    assertThat(result).isEqualTo(new Lookup.RetryLater("genesys 429", 429, Duration.ofSeconds(42)));
  }

  @Test
  void aConversationNotThereYetIsRetriedAndABadPathFails() {
    GenesysEnricher e = enricher("s3cret-value", null);

    assertThat(e.get(PATH))
        .isInstanceOfSatisfying(
            Lookup.RetryLater.class, r -> assertThat(r.status()).isEqualTo(404));
    assertThat(e.get("api/v2/no-leading-slash")).isInstanceOf(Lookup.Failed.class);
  }

  @Test
  void aWrongClientSecretIsRetriedWithoutRepeatingIt() {
    Lookup result = enricher("wrong-secret", null).get(PATH);

    assertThat(result)
        .isInstanceOfSatisfying(
            Lookup.RetryLater.class,
            f -> {
              assertThat(f.status()).isEqualTo(400);
              assertThat(f.error()).isEqualTo("genesys oauth 400").doesNotContain("wrong-secret");
            });
    assertThat(genesys.calls()).isEmpty();
  }

  // ---- as a route step

  /**
   * Route {@code acw-to-crm} filters on the event alone; with {@code outboundOnly}, a second route
   * filters on the fetched record, so it can only decide after the lookup.
   */
  void startGateway(boolean outboundOnly) throws Exception {
    startGateway(
        outboundOnly,
        "get: \"'/api/v2/analytics/conversations/' & detail.eventBody.conversationId"
            + " & '/details'\"");
  }

  /** As above, with the {@code acw-to-crm} route's path given as {@code pathLine}. */
  void startGateway(boolean outboundOnly, String pathLine) throws Exception {
    String second =
        """
          outbound-only:
            from: genesys-eventbridge
            when: $details.originatingDirection = "outbound"
            enrich:
              using: genesys-prod
              get: "'/api/v2/analytics/conversations/' & detail.eventBody.conversationId & '/details'"
              as: details
            to: crm
        """;
    String yaml =
        """
        sources:
          genesys-eventbridge:
            verify: { scheme: none }
            idempotency: { key: id }
            event_time: detail.eventBody.eventTime
            partition_key: detail.eventBody.conversationId
        enrichers:
          genesys-prod:
            type: genesys-cloud
            login_url: ${GENESYS}
            api_url: ${GENESYS}
            client_id: client-1
            client_secret: ${GENESYS_SECRET}
            rate_limit: 300/minute
        routes:
          acw-to-crm:
            from: genesys-eventbridge
            when: $contains(`detail-type`, ".acw")
            enrich:
              using: genesys-prod
              %s
              as: details
            to: crm
            transform: |
              { "conversationId": detail.eventBody.conversationId,
                "direction": $details.originatingDirection,
                "wrapupCode": detail.eventBody.wrapupCode }
        %s
        destinations:
          crm:
            type: http
            url: ${CRM}
            retry: { initial: 1s, max_delay: 2s, max_server_delay: 1m }
        """
            .formatted(pathLine, outboundOnly ? second : "");
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of(
                "GENESYS", genesys.uri().toString(),
                "GENESYS_SECRET", "s3cret-value",
                "CRM", crm.uri("/in").toString()),
            clock);
  }

  String postAcw(String id, String conversation, String detailType) throws Exception {
    String event =
        java.nio.file.Files.readString(
                GatewayFixture.GENESYS_SAMPLES.resolve("eventbridge-acw.json"))
            .replace("3f9c1d2e-7a41-2b6c-9e05-1d2c3b4a5f60", id)
            .replace(CONVERSATION, conversation)
            .replace("v2.detail.events.conversation.{id}.acw", detailType);
    HttpResponse<String> r = gw.post("genesys-eventbridge", GatewayFixture.utf8(event), Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId) {
    return delivery(eventId, "acw-to-crm");
  }

  DeliveryRecord delivery(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void theTransformAndALaterFilterSeeTheFetchedRecord() throws Exception {
    startGateway(true);
    genesys.knows(CONVERSATION);

    String eventId = postAcw("e-1", CONVERSATION, "v2.detail.events.conversation.{id}.acw");

    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
    JsonNode body = JSON.readTree(crm.requests().get(0).body());
    assertThat(body.path("conversationId").asText()).isEqualTo(CONVERSATION);
    assertThat(body.path("direction").asText()).isEqualTo("inbound");
    // the record says inbound: the second route looked it up, then filtered itself out
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(eventId, "outbound-only").state() == DeliveryState.SKIPPED);
    assertThat(delivery(eventId, "outbound-only").lastError()).isEqualTo("filtered: when is false");
    assertThat(genesys.calls()).extracting(FakeGenesys.Call::path).containsExactly(PATH, PATH);
    assertThat(crm.requests()).hasSize(1);
  }

  @Test
  void aFilterOnTheEventAloneCostsNoLookup() throws Exception {
    startGateway(false);

    String eventId =
        postAcw("e-2", CONVERSATION, "v2.detail.events.conversation.{id}.customer.end");

    // decided at ingest: the filter is false whatever the lookup would say, so there is none
    assertThat(delivery(eventId).state()).isEqualTo(DeliveryState.SKIPPED);
    assertThat(genesys.calls()).isEmpty();
    assertThat(crm.requests()).isEmpty();
  }

  @Test
  void aThrottledLookupIsRetriedLaterWithoutTouchingTheDestination() throws Exception {
    startGateway(false);
    genesys.knows(CONVERSATION);
    genesys.throttleNext(5);

    String eventId = postAcw("e-3", CONVERSATION, "v2.detail.events.conversation.{id}.acw");

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(eventId).state() == DeliveryState.RETRY_SCHEDULED);
    List<AttemptRecord> attempts = gw.gateway().deliveries().attempts(delivery(eventId).id());
    assertThat(attempts)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.status()).isEqualTo(429);
              assertThat(a.error()).isEqualTo("enrich: genesys 429");
            });
    assertThat(crm.requests()).isEmpty();
    // the asked-for wait, not the 1 s backoff, decides when
    assertThat(delivery(eventId).nextAttemptAt()).isAfterOrEqualTo(clock.instant().plusSeconds(5));

    clock.advance(Duration.ofSeconds(6));

    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> delivery(eventId).state() == DeliveryState.DELIVERED);
  }

  static final String TRAVERSAL = "../../../api/v2/users/me?x=";

  /**
   * An id from the event cannot steer the lookup: with the {@code get} expression of the examples,
   * a conversation id {@code ../../../api/v2/users/me?x=} reaches Genesys as one encoded segment of
   * the analytics path, never as another endpoint or a query; an id with a space and a quote (not a
   * legal URI as it was) is one segment too, and its delivery gets an attempt.
   */
  @Test
  void anIdFromTheEventIsOneEncodedSegmentOfTheGetPath() throws Exception {
    startGateway(false);
    String traversal = postAcw("e-t", TRAVERSAL, "v2.detail.events.conversation.{id}.acw");
    String spaced = postAcw("e-s", "a b'c", "v2.detail.events.conversation.{id}.acw");

    await().atMost(Duration.ofSeconds(10)).until(() -> genesys.calls().size() >= 2);
    assertThat(genesys.calls())
        .extracting(FakeGenesys.Call::rawPath)
        .containsExactlyInAnyOrder(
            "/api/v2/analytics/conversations/..%2F..%2F..%2Fapi%2Fv2%2Fusers%2Fme%3Fx%3D/details",
            "/api/v2/analytics/conversations/a%20b%27c/details");
    assertThat(genesys.calls()).extracting(FakeGenesys.Call::rawQuery).containsOnlyNulls();
    // not known to Genesys (404): both are tried again later, each with its attempt recorded
    for (String eventId : List.of(traversal, spaced)) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> delivery(eventId).state() == DeliveryState.RETRY_SCHEDULED);
      assertThat(gw.gateway().deliveries().attempts(delivery(eventId).id()))
          .singleElement()
          .satisfies(a -> assertThat(a.error()).isEqualTo("enrich: genesys 404"));
    }
    assertThat(crm.requests()).isEmpty();
  }

  /** The {@code path} template form: each placeholder is one encoded segment too. */
  @Test
  void aPathTemplateFillsEachPlaceholderWithOneEncodedSegment() throws Exception {
    startGateway(
        false, "path: /api/v2/analytics/conversations/{detail.eventBody.conversationId}/details");
    genesys.knows(CONVERSATION);

    postAcw("e-t", TRAVERSAL, "v2.detail.events.conversation.{id}.acw");
    String found = postAcw("e-1", CONVERSATION, "v2.detail.events.conversation.{id}.acw");

    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(found).state() == DeliveryState.DELIVERED);
    assertThat(JSON.readTree(crm.requests().get(0).body()).path("direction").asText())
        .isEqualTo("inbound");
    await().atMost(Duration.ofSeconds(10)).until(() -> genesys.calls().size() >= 2);
    assertThat(genesys.calls())
        .extracting(FakeGenesys.Call::rawPath)
        .containsExactlyInAnyOrder(
            "/api/v2/analytics/conversations/..%2F..%2F..%2Fapi%2Fv2%2Fusers%2Fme%3Fx%3D/details",
            PATH);
    assertThat(genesys.calls()).extracting(FakeGenesys.Call::rawQuery).containsOnlyNulls();
  }
}
