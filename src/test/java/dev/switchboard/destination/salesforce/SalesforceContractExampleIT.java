package dev.switchboard.destination.salesforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeSalesforce;
import dev.switchboard.testing.FakeSalesforce.Call;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract example {@code genesys-to-salesforce.yaml}, served as it is with its variables
 * pointing at {@link FakeSalesforce}: its {@code dispositions-to-salesforce} route ({@code
 * ordering: per-key}, {@code stale: skip}, {@code batch_size: 200}, {@code rate_limit: 50/minute})
 * receiving one interaction's dispositions the way Genesys sends them — the same request again when
 * it retries, and out of order.
 */
class SalesforceContractExampleIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "genesys-secret-c41";
  static final String DESTINATION = "salesforce-disposition-log";
  static final String ROUTE = "dispositions-to-salesforce";
  static final String OBJECT = "Disposition_Log__c";
  static final String KEY = "Interaction_ID__c";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:40:00Z"));
  final FakeSalesforce sf = new FakeSalesforce("genesys-app", "sf-secret-77");
  final FakeDestination slack = new FakeDestination();
  final FakeDestination crm = new FakeDestination();
  final HttpClient client = HttpClient.newHttpClient();
  Gateway gateway;

  @BeforeEach
  void start() throws Exception {
    sf.defineObject(OBJECT, "a0X")
        .externalId(KEY)
        .fields("Disposition_Reason__c", "Timestamp__c")
        .restrictedPicklist("Disposition_Code__c", "RESOLVED", "FAILED", "Completed", "PENDING");
    Map<String, String> env =
        Map.of(
            "PORT",
            "0",
            "DATA_DIR",
            dir.toString(),
            "SWITCHBOARD_ADMIN_TOKEN",
            "admin",
            "GENESYS_WEBHOOK_SECRET",
            SECRET,
            "PE_WEBHOOK_SECRET",
            "pe-secret",
            "SF_LOGIN_URL",
            sf.url(),
            "SF_CLIENT_ID",
            "genesys-app",
            "SF_CLIENT_SECRET",
            "sf-secret-77",
            "SLACK_WEBHOOK_URL",
            slack.uri("/services/T0/B0/x").toString(),
            "CRM_WEBHOOK_URL",
            crm.uri("/crm").toString());
    gateway =
        Gateway.start(
            ConfigLoader.load(GatewayFixture.EXAMPLES.resolve("genesys-to-salesforce.yaml"), env),
            clock,
            GatewayFixture.FAST);
  }

  @AfterEach
  void stop() {
    gateway.close();
    client.close();
    sf.close();
    slack.close();
    crm.close();
  }

  /** The sample disposition payload for one interaction, at a time, with a code. */
  static byte[] disposition(String interactionId, String timestamp, String code, String why)
      throws Exception {
    ObjectNode p =
        (ObjectNode)
            JSON.readTree(
                Files.readAllBytes(
                    GatewayFixture.EXAMPLES.resolve("payloads/disposition-updated.json")));
    p.put("interactionId", interactionId);
    p.put("timestamp", timestamp);
    ((ObjectNode) p.path("disposition")).put("code", code).put("description", why);
    ((ObjectNode) p.path("disposition")).put("timestamp", timestamp);
    return JSON.writeValueAsBytes(p);
  }

  /** Posts as Genesys's signing middleware would; returns the status and the event id. */
  HttpResponse<String> post(byte[] body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/hooks/genesys-dispositions"))
            .header("Content-Type", "application/json")
            .header("X-Genesys-Signature", Hmac.sha256Hex(SECRET, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Posts once, then again as a Genesys retry: one event, acknowledged twice. */
  String postTwice(byte[] body) throws Exception {
    HttpResponse<String> first = post(body);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
    HttpResponse<String> again = post(body);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    String id = JSON.readTree(first.body()).path("eventId").asText();
    assertThat(JSON.readTree(again.body()).path("eventId").asText()).isEqualTo(id);
    return id;
  }

  DeliveryRecord toSalesforce(String eventId) {
    return gateway.deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(ROUTE))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Waits until {@code done}, moving the gateway's clock 2 s a poll: the destination's {@code
   * rate_limit: 50/minute} lets one request go every 1.2 s of it.
   */
  void awaitWithTimePassing(BooleanSupplier done) {
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              clock.advance(Duration.ofSeconds(2));
              return done.getAsBoolean();
            });
  }

  @Test
  void aLateOlderDispositionAndGenesysRetriesLeaveOneResolvedRecord() throws Exception {
    String interaction = "5e9b1d7c-3a26-4f80-b4c1-7d2e8a9f0c35";
    String resolved =
        postTwice(
            disposition(
                interaction, "2026-10-27T14:35:00Z", "RESOLVED", "Customer issue resolved"));
    awaitWithTimePassing(() -> toSalesforce(resolved).state() == DeliveryState.DELIVERED);

    // the earlier updates arrive afterwards: Pending (the route's filter never sends it) and a
    // FAILED that the filter passes, but that is older than what Salesforce already holds
    String pending =
        postTwice(disposition(interaction, "2026-10-27T14:30:00Z", "PENDING", "Awaiting customer"));
    String failed =
        postTwice(disposition(interaction, "2026-10-27T14:32:00Z", "FAILED", "Call dropped"));
    awaitWithTimePassing(() -> toSalesforce(failed).state() == DeliveryState.SKIPPED);
    assertThat(toSalesforce(failed).lastError()).startsWith("stale");
    assertThat(toSalesforce(pending).state()).isEqualTo(DeliveryState.SKIPPED);
    assertThat(toSalesforce(pending).lastError()).isEqualTo("filtered: when is false");

    assertThat(sf.records(OBJECT)).hasSize(1);
    assertThat(sf.record(OBJECT, KEY, interaction).orElseThrow())
        .containsEntry("Disposition_Code__c", "RESOLVED")
        .containsEntry("Disposition_Reason__c", "Customer issue resolved")
        .containsEntry("Timestamp__c", "2026-10-27T14:35:00Z");
    assertThat(sf.dataCalls()).as("one upsert in all").hasSize(1);
    assertThat(sf.dataCalls().get(0).path())
        .isEqualTo(
            "/services/data/v62.0/sobjects/Disposition_Log__c/Interaction_ID__c/" + interaction);
  }

  @Test
  void dispositionsHeldTogetherGoInEventTimeOrderAndBatchAcrossInteractions() throws Exception {
    gateway.deliveries().pause(DESTINATION, "test");
    String y = "interaction-y";
    // arrival order reversed: Resolved first, then the older Failed, each retried by Genesys
    String resolved =
        postTwice(disposition(y, "2026-10-27T14:35:00Z", "RESOLVED", "Resolved on callback"));
    String failed = postTwice(disposition(y, "2026-10-27T14:31:00Z", "FAILED", "Call dropped"));
    String z1 = postTwice(disposition("interaction-z1", "2026-10-27T14:33:00Z", "Completed", "ok"));
    String z2 = postTwice(disposition("interaction-z2", "2026-10-27T14:34:00Z", "RESOLVED", "ok"));
    gateway.deliveries().resume(DESTINATION, "test");
    awaitWithTimePassing(
        () ->
            List.of(resolved, failed, z1, z2).stream()
                .allMatch(e -> toSalesforce(e).state() == DeliveryState.DELIVERED));

    List<Call> calls = sf.dataCalls();
    assertThat(calls).hasSize(2);
    // first request: the oldest of each interaction, in one sObject Collections call
    assertThat(calls.get(0).path())
        .isEqualTo("/services/data/v62.0/composite/sobjects/Disposition_Log__c/Interaction_ID__c");
    assertThat(calls.get(0).records()).isEqualTo(3);
    assertThat(JSON.readTree(calls.get(0).body()).path("records"))
        .filteredOn(r -> r.path(KEY).asText().equals(y))
        .singleElement()
        .satisfies(r -> assertThat(r.path("Disposition_Code__c").asText()).isEqualTo("FAILED"));
    // then y's newer Resolved alone, after its Failed was answered
    assertThat(calls.get(1).path()).endsWith("/sobjects/Disposition_Log__c/Interaction_ID__c/" + y);
    assertThat(sf.records(OBJECT)).hasSize(3);
    assertThat(sf.record(OBJECT, KEY, y).orElseThrow())
        .containsEntry("Disposition_Code__c", "RESOLVED")
        .containsEntry("Disposition_Reason__c", "Resolved on callback");
  }
}
