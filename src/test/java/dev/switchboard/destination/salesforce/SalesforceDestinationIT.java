package dev.switchboard.destination.salesforce;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeSalesforce;
import dev.switchboard.testing.FakeSalesforce.Call;
import dev.switchboard.testing.FakeSalesforce.LoginMode;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code salesforce} connector against {@link FakeSalesforce} on 127.0.0.1: one real HTTP
 * exchange (or two, after an expired session) per {@code send}, and the result it comes to.
 */
class SalesforceDestinationIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String OBJECT = "Disposition_Log__c";
  static final String KEY = "Interaction_ID__c";
  static final String SECRET = "sf-secret-8d2e61";
  static final AtomicInteger SEQ = new AtomicInteger();

  final FakeSalesforce sf = new FakeSalesforce("sf-client", SECRET);
  final List<SalesforceDestination> opened = new ArrayList<>();
  final List<DeliveryResult> seen = new ArrayList<>();

  @BeforeEach
  void schema() {
    sf.defineObject(OBJECT, "a0X")
        .externalId(KEY)
        .fields("Disposition_Reason__c", "Timestamp__c")
        .restrictedPicklist("Disposition_Code__c", "PENDING", "RESOLVED", "FAILED", "Completed");
  }

  @AfterEach
  void stop() {
    opened.forEach(SalesforceDestination::close);
    // whatever a test saw: no result ever carries the secret or a token
    for (DeliveryResult r : seen) {
      String text = r.toString();
      assertThat(text).doesNotContain(SECRET);
      for (String token : sf.tokensIssued()) {
        assertThat(text).doesNotContain(token);
      }
    }
    sf.close();
  }

  SalesforceDestination destination(Map<String, Object> extra) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("login_url", sf.url() + "/");
    settings.put("client_id", "sf-client");
    settings.put("client_secret", SECRET);
    settings.put("api_version", "62.0");
    settings.put("operation", "upsert");
    settings.put("object", OBJECT);
    settings.put("external_id_field", KEY);
    settings.put("batch_size", "1");
    settings.putAll(extra);
    SalesforceDestination d =
        new SalesforceDestination(
            DestinationConfigs.load("sf", "salesforce", settings, Duration.ofSeconds(5), 4),
            Clock.systemUTC());
    opened.add(d);
    return d;
  }

  SalesforceDestination destination() {
    return destination(Map.of());
  }

  static OutboundDelivery delivery(String json) {
    String id = "dlv_" + SEQ.incrementAndGet();
    return new OutboundDelivery(
        id, "evt_" + id, id, null, json.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }

  static OutboundDelivery disposition(String interactionId, String code) {
    return delivery(
        """
        {"Interaction_ID__c":"%s","Disposition_Code__c":"%s","Disposition_Reason__c":"r"}"""
            .formatted(interactionId, code));
  }

  DeliveryResult send(SalesforceDestination d, OutboundDelivery delivery) {
    DeliveryResult r = d.send(delivery);
    seen.add(r);
    return r;
  }

  List<DeliveryResult> sendBatch(SalesforceDestination d, List<OutboundDelivery> deliveries) {
    List<DeliveryResult> r = d.sendBatch(deliveries);
    seen.addAll(r);
    return r;
  }

  Map<String, Object> record(String interactionId) {
    return sf.record(OBJECT, KEY, interactionId).orElseThrow();
  }

  @Test
  void anUpsertCreatesThenUpdatesOneRecordByItsExternalIdWithOneCachedToken() throws Exception {
    SalesforceDestination d = destination();
    DeliveryResult first = send(d, disposition("int 7/a", "PENDING"));
    assertThat(first).isInstanceOf(Delivered.class);
    assertThat(((Delivered) first).status()).isEqualTo(201);
    assertThat(((Delivered) first).excerpt()).contains("\"created\":true");
    DeliveryResult second = send(d, disposition("int 7/a", "RESOLVED"));
    assertThat(((Delivered) second).status()).isEqualTo(200);
    assertThat(((Delivered) second).excerpt()).contains("\"created\":false");

    assertThat(sf.records(OBJECT)).hasSize(1);
    assertThat(record("int 7/a")).containsEntry("Disposition_Code__c", "RESOLVED");
    assertThat((String) record("int 7/a").get("Id")).hasSize(18).startsWith("a0X");
    List<Call> calls = sf.dataCalls();
    assertThat(calls).hasSize(2);
    Call call = calls.get(0);
    assertThat(call.method()).isEqualTo("PATCH");
    assertThat(call.path())
        .isEqualTo(
            "/services/data/v62.0/sobjects/Disposition_Log__c/Interaction_ID__c/int%207%2Fa");
    assertThat(JSON.readTree(call.body()).has(KEY))
        .as("the external id travels in the URL, not in the body")
        .isFalse();
    assertThat(JSON.readTree(call.body()).path("Disposition_Code__c").asText())
        .isEqualTo("PENDING");
    assertThat(sf.tokensIssued()).as("the token is cached").hasSize(1);
  }

  @Test
  void beforeVersion46AnUpdateIsAnswered204() {
    SalesforceDestination d = destination(Map.of("api_version", "45.0"));
    assertThat(((Delivered) send(d, disposition("i-45", "PENDING"))).status()).isEqualTo(201);
    assertThat(((Delivered) send(d, disposition("i-45", "RESOLVED"))).status()).isEqualTo(204);
    assertThat(record("i-45")).containsEntry("Disposition_Code__c", "RESOLVED");
  }

  @Test
  void fieldErrorsAreDeadWithSalesforcesCodeAndMessage() {
    SalesforceDestination d = destination();
    DeliveryResult unknown =
        send(d, delivery("{\"Interaction_ID__c\":\"i-f\",\"Color__c\":\"blue\"}"));
    assertThat(unknown).isInstanceOf(Rejected.class);
    assertThat(((Rejected) unknown).status()).isEqualTo(400);
    assertThat(((Rejected) unknown).error())
        .isEqualTo(
            "salesforce INVALID_FIELD: No such column 'Color__c' on sobject of type"
                + " Disposition_Log__c");
    DeliveryResult picklist = send(d, disposition("i-f", "Terrible"));
    assertThat(((Rejected) picklist).error())
        .isEqualTo(
            "salesforce INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Disposition_Code__c: bad value for"
                + " restricted picklist field: Terrible");
    assertThat(sf.records(OBJECT)).isEmpty();
  }

  @Test
  void anUnknownObjectOrExternalIdFieldIs404Dead() {
    DeliveryResult object = send(destination(Map.of("object", "Nope__c")), disposition("i", "A"));
    assertThat(object).isInstanceOf(Rejected.class);
    assertThat(((Rejected) object).status()).isEqualTo(404);
    assertThat(((Rejected) object).error())
        .isEqualTo("salesforce NOT_FOUND: The requested resource does not exist");
    DeliveryResult field =
        send(
            destination(Map.of("external_id_field", "Disposition_Reason__c")),
            disposition("i", "PENDING"));
    assertThat(((Rejected) field).status()).isEqualTo(404);
    assertThat(((Rejected) field).error())
        .isEqualTo(
            "salesforce NOT_FOUND: Provided external ID field does not exist or is not accessible:"
                + " Disposition_Reason__c");
  }

  @Test
  void severalMatchingRecordsAre300DeadAndNothingIsWritten() {
    sf.seed(OBJECT, Map.of(KEY, "twice", "Disposition_Code__c", "PENDING"));
    sf.seed(OBJECT, Map.of(KEY, "twice", "Disposition_Code__c", "PENDING"));
    DeliveryResult r = send(destination(), disposition("twice", "RESOLVED"));
    assertThat(r).isInstanceOf(Rejected.class);
    assertThat(((Rejected) r).status()).isEqualTo(300);
    assertThat(((Rejected) r).error()).contains("several records");
    assertThat(sf.records(OBJECT))
        .extracting(m -> m.get("Disposition_Code__c"))
        .containsExactly("PENDING", "PENDING");
  }

  @Test
  void aLockedRowAndServerErrorsAreTriedAgain() {
    SalesforceDestination d = destination();
    sf.lock("busy", 1);
    DeliveryResult locked = send(d, disposition("busy", "RESOLVED"));
    assertThat(locked).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) locked).error()).startsWith("salesforce UNABLE_TO_LOCK_ROW: ");
    sf.failNextWithHtml(503);
    DeliveryResult edge = send(d, disposition("busy", "RESOLVED"));
    assertThat(edge).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) edge).status()).isEqualTo(503);
    assertThat(((RetryLater) edge).error()).isEqualTo("salesforce 503");
    sf.failNext(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred");
    assertThat(send(d, disposition("busy", "RESOLVED"))).isInstanceOf(RetryLater.class);
    assertThat(send(d, disposition("busy", "RESOLVED"))).isInstanceOf(Delivered.class);
    assertThat(sf.records(OBJECT)).hasSize(1);
  }

  @Test
  void anAnswerLostAfterTheCommitIsRetriedIntoTheSameRecord() {
    SalesforceDestination d = destination();
    sf.dropNextAfterCommit();
    DeliveryResult lost = send(d, disposition("lost", "RESOLVED"));
    assertThat(lost).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) lost).error()).startsWith("salesforce connection error");
    DeliveryResult again = send(d, disposition("lost", "RESOLVED"));
    assertThat(((Delivered) again).status()).as("it was written the first time").isEqualTo(200);
    assertThat(sf.records(OBJECT)).hasSize(1);
  }

  @Test
  void anExpiredSessionFetchesOneNewTokenInsideTheSameSend() {
    SalesforceDestination d = destination();
    send(d, disposition("s-1", "PENDING"));
    sf.expireSessions();
    DeliveryResult r = send(d, disposition("s-1", "RESOLVED"));
    assertThat(r).isInstanceOf(Delivered.class);
    assertThat(sf.tokensIssued()).hasSize(2);
    assertThat(sf.dataCalls()).extracting(Call::status).containsExactly(201, 401, 200);
    assertThat(record("s-1")).containsEntry("Disposition_Code__c", "RESOLVED");

    // a fresh token refused as well: no third token, tried again later
    sf.expireSessions();
    sf.failNext(401, "INVALID_SESSION_ID", "Session expired or invalid");
    DeliveryResult twice = send(d, disposition("s-1", "FAILED"));
    assertThat(twice).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) twice).status()).isEqualTo(401);
    assertThat(sf.tokensIssued()).hasSize(3);
  }

  @Test
  void aRefusedTokenIsTriedAgainWithTheOAuthErrorButNeverTheSecret() {
    DeliveryResult wrong =
        send(destination(Map.of("client_secret", "not-the-secret")), disposition("t", "PENDING"));
    assertThat(wrong).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) wrong).status()).isEqualTo(400);
    assertThat(((RetryLater) wrong).error())
        .isEqualTo("salesforce oauth 400 invalid_client: invalid client credentials")
        .doesNotContain("not-the-secret");
    sf.loginMode(LoginMode.NO_RUN_AS_USER);
    assertThat(((RetryLater) send(destination(), disposition("t", "PENDING"))).error())
        .isEqualTo("salesforce oauth 400 invalid_grant: no client credentials user enabled");
    sf.loginMode(LoginMode.GENERIC_LOGIN_HOST);
    assertThat(((RetryLater) send(destination(), disposition("t", "PENDING"))).error())
        .isEqualTo("salesforce oauth 400 invalid_grant: request not supported on this domain");
    assertThat(sf.dataCalls()).isEmpty();
  }

  @Test
  void usageNearTheDailyAllocationSlowsTheDestinationInProportion() {
    SalesforceDestination d = destination();
    sf.apiUsage(80, 100);
    assertThat(((Delivered) send(d, disposition("u", "PENDING"))).pauseFor()).isNull();
    sf.apiUsage(94, 100); // this call makes it 95 %
    assertThat(((Delivered) send(d, disposition("u", "PENDING"))).pauseFor())
        .isEqualTo(Duration.ofSeconds(36));
    sf.apiUsage(98, 100); // 99 %
    assertThat(((Delivered) send(d, disposition("u", "RESOLVED"))).pauseFor())
        .isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void requestLimitExceededHoldsTheDestinationLongerEachTimeInARow() {
    SalesforceDestination d = destination();
    sf.apiUsage(100, 100);
    DeliveryResult first = send(d, disposition("l", "PENDING"));
    assertThat(first).isInstanceOf(RetryLater.class);
    RetryLater limit = (RetryLater) first;
    assertThat(limit.status()).isEqualTo(403);
    assertThat(limit.error())
        .isEqualTo("salesforce REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.");
    assertThat(limit.retryAfter()).isEqualTo(Duration.ofMinutes(1));
    assertThat(((RetryLater) send(d, disposition("l", "PENDING"))).retryAfter())
        .isEqualTo(Duration.ofMinutes(2));
    sf.apiUsage(10, 100);
    assertThat(send(d, disposition("l", "PENDING"))).isInstanceOf(Delivered.class);
    sf.apiUsage(100, 100);
    assertThat(((RetryLater) send(d, disposition("l", "PENDING"))).retryAfter())
        .as("a success in between starts the wait over")
        .isEqualTo(Duration.ofMinutes(1));
    assertThat(sf.apiUsed()).as("refused calls are not counted").isEqualTo(100);
  }

  @Test
  void aBatchIsOneCollectionsCallAndABadRecordFailsAlone() throws Exception {
    sf.seed(OBJECT, Map.of(KEY, "b-2", "Disposition_Code__c", "PENDING"));
    SalesforceDestination d = destination(Map.of("batch_size", "200"));
    assertThat(d.batchSize()).isEqualTo(200);
    List<DeliveryResult> results =
        sendBatch(
            d,
            List.of(
                disposition("b-1", "RESOLVED"),
                disposition("b-2", "RESOLVED"),
                delivery("{\"Interaction_ID__c\":\"b-3\",\"Color__c\":\"red\"}"),
                delivery("{\"Disposition_Code__c\":\"RESOLVED\"}"),
                disposition("b-5", "FAILED")));
    assertThat(results).hasSize(5);
    assertThat(((Delivered) results.get(0)).status()).isEqualTo(201);
    assertThat(((Delivered) results.get(1)).status()).isEqualTo(200);
    assertThat(((Rejected) results.get(2)).error())
        .isEqualTo(
            "salesforce INVALID_FIELD: No such column 'Color__c' on sobject of type"
                + " Disposition_Log__c");
    assertThat(((Rejected) results.get(3)).error())
        .isEqualTo("salesforce: the body has no Interaction_ID__c to upsert by");
    assertThat(((Delivered) results.get(4)).status()).isEqualTo(201);

    assertThat(sf.dataCalls()).hasSize(1);
    Call call = sf.dataCalls().get(0);
    assertThat(call.method()).isEqualTo("PATCH");
    assertThat(call.path())
        .isEqualTo("/services/data/v62.0/composite/sobjects/Disposition_Log__c/Interaction_ID__c");
    assertThat(call.records()).as("the record without an id never went out").isEqualTo(4);
    var body = JSON.readTree(call.body());
    assertThat(body.path("allOrNone").asBoolean(true)).isFalse();
    assertThat(body.path("records").path(0).path("attributes").path("type").asText())
        .isEqualTo(OBJECT);
    assertThat(body.path("records").path(0).path(KEY).asText()).isEqualTo("b-1");
    assertThat(record("b-2")).containsEntry("Disposition_Code__c", "RESOLVED");
    assertThat(sf.records(OBJECT)).hasSize(3);
  }

  @Test
  void oneExternalIdTwiceInABatchGoesOutInTwoCallsInOrder() {
    SalesforceDestination d = destination(Map.of("batch_size", "10"));
    List<DeliveryResult> results =
        sendBatch(
            d,
            List.of(
                disposition("same", "PENDING"),
                disposition("other", "PENDING"),
                disposition("same", "RESOLVED")));
    assertThat(results).allMatch(r -> r instanceof Delivered);
    assertThat(sf.dataCalls()).extracting(Call::records).containsExactly(2, 1);
    assertThat(record("same")).containsEntry("Disposition_Code__c", "RESOLVED");
    assertThat(sf.records(OBJECT)).hasSize(2);
  }

  @Test
  void aLockedRowFailsTheWholeBatchForALaterTry() {
    SalesforceDestination d = destination(Map.of("batch_size", "10"));
    sf.lock("k-2", 1);
    List<DeliveryResult> results =
        sendBatch(d, List.of(disposition("k-1", "RESOLVED"), disposition("k-2", "RESOLVED")));
    assertThat(results)
        .allSatisfy(
            r ->
                assertThat(((RetryLater) r).error()).startsWith("salesforce UNABLE_TO_LOCK_ROW: "));
    assertThat(sf.records(OBJECT)).isEmpty();
    assertThat(
            sendBatch(d, List.of(disposition("k-1", "RESOLVED"), disposition("k-2", "RESOLVED"))))
        .allMatch(r -> r instanceof Delivered);
  }

  @Test
  void aBatchRefreshesAnExpiredSessionAndWaitsOutTheDailyLimitAsOne() {
    SalesforceDestination d = destination(Map.of("batch_size", "10"));
    send(d, disposition("e-0", "PENDING"));
    sf.expireSessions();
    assertThat(sendBatch(d, List.of(disposition("e-1", "A"), disposition("e-2", "PENDING"))))
        .extracting(r -> r.getClass().getSimpleName())
        .containsExactly("Rejected", "Delivered"); // "A" is not in the picklist
    assertThat(sf.tokensIssued()).hasSize(2);
    sf.apiUsage(5, 5);
    List<DeliveryResult> limited =
        sendBatch(d, List.of(disposition("e-3", "PENDING"), disposition("e-4", "PENDING")));
    assertThat(limited)
        .allSatisfy(
            r -> assertThat(((RetryLater) r).retryAfter()).isEqualTo(Duration.ofMinutes(1)));
    sf.apiUsage(4, 5); // the next call is the fifth of five: 100 %
    assertThat(sendBatch(d, List.of(disposition("e-3", "PENDING"), disposition("e-4", "PENDING"))))
        .allSatisfy(r -> assertThat(((Delivered) r).pauseFor()).isEqualTo(Duration.ofMinutes(1)));
  }

  @Test
  void createPostsEachRecordAsItIs() throws Exception {
    SalesforceDestination d =
        destination(Map.of("operation", "create", "external_id_field", "", "batch_size", "50"));
    assertThat(d.batchSize()).as("collections are used for upserts only").isEqualTo(1);
    DeliveryResult r = send(d, disposition("c-1", "RESOLVED"));
    assertThat(((Delivered) r).status()).isEqualTo(201);
    Call call = sf.dataCalls().get(0);
    assertThat(call.method()).isEqualTo("POST");
    assertThat(call.path()).isEqualTo("/services/data/v62.0/sobjects/Disposition_Log__c");
    assertThat(JSON.readTree(call.body()).path(KEY).asText()).isEqualTo("c-1");
    assertThat(record("c-1")).containsEntry("Disposition_Code__c", "RESOLVED");
  }

  @Test
  void aBodyThatIsNotAJsonObjectIsDeadWithoutACall() {
    DeliveryResult r = send(destination(), delivery("[1,2]"));
    assertThat(((Rejected) r).error()).contains("not a JSON object");
    assertThat(sf.calls()).isEmpty();
  }
}
