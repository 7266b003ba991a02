package dev.switchboard.destination.salesforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeSalesforce;
import dev.switchboard.testing.FakeSalesforce.Call;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code salesforce} connector inside a whole gateway (GatewayFixture: real HTTP, SQLite, the
 * dispatcher), against {@link FakeSalesforce}: batching by the dispatcher, a session that expires
 * between deliveries, and the org's API limits holding the whole destination. The gateway's clock
 * stands still unless a test moves it.
 */
class SalesforceGatewayIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String OBJECT = "Disposition_Log__c";
  static final String KEY = "Interaction_ID__c";
  static final String HOOK_SECRET = "hook-secret-3b9";
  static final Duration SETTLE = Duration.ofMillis(500);

  static final String YAML =
      """
      sources:
        dispositions:
          verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${HOOK_SECRET}"] }
          idempotency: { key: interactionId & '|' & timestamp }
          event_time: timestamp
          partition_key: interactionId
      routes:
        to-sf:
          from: dispositions
          to: sf
          transform: |
            { "Interaction_ID__c": interactionId, "Disposition_Code__c": code, "Extra__c": extra }
      destinations:
        sf:
          type: salesforce
          login_url: ${SF_LOGIN_URL}
          client_id: ${SF_CLIENT_ID}
          client_secret: ${SF_CLIENT_SECRET}
          object: Disposition_Log__c
          external_id_field: Interaction_ID__c
          batch_size: 10
          retry: { initial: 1s }
      """;

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:40:00Z"));
  final FakeSalesforce sf = new FakeSalesforce("sf-client", "sf-secret");
  GatewayFixture gw;

  @BeforeEach
  void start() throws Exception {
    sf.defineObject(OBJECT, "a0X").externalId(KEY).fields("Disposition_Code__c");
    gw =
        GatewayFixture.start(
            dir,
            YAML,
            Map.of(
                "HOOK_SECRET",
                HOOK_SECRET,
                "SF_LOGIN_URL",
                sf.url(),
                "SF_CLIENT_ID",
                "sf-client",
                "SF_CLIENT_SECRET",
                "sf-secret"),
            clock);
  }

  @AfterEach
  void stop() {
    gw.close();
    sf.close();
  }

  String post(String interactionId, String code, String extra) throws Exception {
    String body =
        "{\"interactionId\":\"%s\",\"timestamp\":\"2026-10-27T14:30:00Z\",\"code\":\"%s\"%s}"
            .formatted(interactionId, code, extra == null ? "" : ",\"extra\":\"" + extra + "\"");
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r =
        gw.post("dispositions", bytes, Map.of("X-Signature", Hmac.sha256Hex(HOOK_SECRET, bytes)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).get(0);
  }

  DeliveryState state(String eventId) {
    return delivery(eventId).state();
  }

  List<AttemptRecord> attempts(String eventId) {
    return gw.gateway().deliveries().attempts(delivery(eventId).id());
  }

  void awaitState(String eventId, DeliveryState state) {
    await().atMost(Duration.ofSeconds(10)).until(() -> state(eventId) == state);
  }

  /** The wait is the assertion: nothing more reaches Salesforce's data API for a while. */
  void dataCallsStayAt(int count) {
    await()
        .during(SETTLE)
        .atMost(SETTLE.plusSeconds(3))
        .until(() -> sf.dataCalls().size() == count);
  }

  @Test
  void severalKeysGoInOneCollectionsCallAndABadRecordIsDeadAlone() throws Exception {
    gw.gateway().deliveries().pause("sf", "test");
    String a = post("i-1", "RESOLVED", null);
    String b = post("i-2", "FAILED", null);
    String bad = post("i-3", "RESOLVED", "unknown field");
    String c = post("i-4", "RESOLVED", null);
    dataCallsStayAt(0);
    gw.gateway().deliveries().resume("sf", "test");
    for (String id : List.of(a, b, c)) {
      awaitState(id, DeliveryState.DELIVERED);
    }
    awaitState(bad, DeliveryState.DEAD);
    assertThat(delivery(bad).lastError())
        .isEqualTo(
            "salesforce INVALID_FIELD: No such column 'Extra__c' on sobject of type"
                + " Disposition_Log__c");
    assertThat(sf.dataCalls()).hasSize(1);
    Call call = sf.dataCalls().get(0);
    assertThat(call.path()).contains("/composite/sobjects/Disposition_Log__c/Interaction_ID__c");
    assertThat(call.records()).isEqualTo(4);
    for (String id : List.of(a, b, bad, c)) {
      assertThat(attempts(id)).hasSize(1);
    }
    assertThat(attempts(a).get(0).status()).isEqualTo(201);
    assertThat(sf.records(OBJECT))
        .extracting(r -> r.get(KEY))
        .containsExactlyInAnyOrder("i-1", "i-2", "i-4");
  }

  @Test
  void anExpiredSessionIsRenewedWithoutSpendingAnAttempt() throws Exception {
    String first = post("s-1", "RESOLVED", null);
    awaitState(first, DeliveryState.DELIVERED);
    sf.expireSessions();
    String second = post("s-2", "RESOLVED", null);
    awaitState(second, DeliveryState.DELIVERED);
    assertThat(attempts(second)).hasSize(1);
    assertThat(attempts(second).get(0).status()).isEqualTo(201);
    assertThat(sf.tokensIssued()).hasSize(2);
    assertThat(sf.dataCalls()).extracting(Call::status).containsExactly(201, 401, 201);
  }

  @Test
  void usageNearTheDailyAllocationSlowsTheWholeDestination() throws Exception {
    sf.apiUsage(94, 100);
    String first = post("u-1", "RESOLVED", null);
    awaitState(first, DeliveryState.DELIVERED); // 95 %: the destination waits 36 s
    String second = post("u-2", "RESOLVED", null);
    clock.advance(Duration.ofSeconds(35));
    dataCallsStayAt(1);
    assertThat(state(second)).isEqualTo(DeliveryState.PENDING);
    assertThat(delivery(second).attempts()).isZero();
    clock.advance(Duration.ofSeconds(2));
    awaitState(second, DeliveryState.DELIVERED);
    assertThat(attempts(second)).hasSize(1);
  }

  @Test
  void requestLimitExceededHoldsTheDestinationWithoutSpendingOtherAttempts() throws Exception {
    sf.apiUsage(100, 100);
    String first = post("l-1", "RESOLVED", null);
    awaitState(first, DeliveryState.RETRY_SCHEDULED);
    assertThat(delivery(first).lastError())
        .isEqualTo("salesforce REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.");
    String second = post("l-2", "RESOLVED", null);
    clock.advance(Duration.ofSeconds(59));
    dataCallsStayAt(1);
    assertThat(delivery(second).attempts()).isZero();
    sf.apiUsage(0, 100); // usage fell below the allocation
    clock.advance(Duration.ofSeconds(2));
    awaitState(first, DeliveryState.DELIVERED);
    awaitState(second, DeliveryState.DELIVERED);
    assertThat(attempts(first)).extracting(AttemptRecord::status).containsExactly(403, 201);
    assertThat(attempts(second)).hasSize(1);
    assertThat(sf.records(OBJECT)).hasSize(2);
  }

  @Test
  void theExampleConfigurationRunsAsItIs() throws Exception {
    sf.defineObject(OBJECT, "a0X").externalId(KEY).fields("Disposition_Code__c", "Timestamp__c");
    Path data = Files.createDirectories(dir.resolve("example"));
    Map<String, String> env =
        Map.of(
            "PORT",
            "0",
            "DATA_DIR",
            data.toString(),
            "HOOK_SECRET",
            HOOK_SECRET,
            "SF_LOGIN_URL",
            sf.url(),
            "SF_CLIENT_ID",
            "sf-client",
            "SF_CLIENT_SECRET",
            "sf-secret");
    try (Gateway example =
            Gateway.start(
                ConfigLoader.load(Path.of("examples/salesforce.yaml"), env),
                clock,
                GatewayFixture.FAST);
        HttpClient client = HttpClient.newHttpClient()) {
      byte[] body =
          GatewayFixture.utf8(
              """
              {"interactionId":"ex-1","timestamp":"2026-10-27T14:30:00Z",\
              "disposition":{"code":"RESOLVED"}}""");
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + example.port() + "/hooks/dispositions"))
                  .header("Content-Type", "application/json")
                  .header("X-Signature", Hmac.sha256Hex(HOOK_SECRET, body))
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> sf.record(OBJECT, KEY, "ex-1").isPresent());
      assertThat(sf.record(OBJECT, KEY, "ex-1").orElseThrow())
          .containsEntry("Disposition_Code__c", "RESOLVED")
          .containsEntry("Timestamp__c", "2026-10-27T14:30:00Z");
    }
  }
}
