package dev.switchboard.destination.genesys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Enricher.Lookup;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.destination.http.OAuthSessions;
import dev.switchboard.testing.DestinationConfigs;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The {@code genesys-cloud} destination against the local Genesys Cloud, one operation each. */
@Timeout(30)
class GenesysDestinationIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "s3cret-value";
  private static final Instant START = Instant.parse("2026-04-14T10:00:00Z");

  final FakeGenesysCloud genesys = FakeGenesysCloud.start("client-1", SECRET);
  final OAuthSessions sessions = new OAuthSessions(Clock.systemUTC());
  final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
    sessions.close();
    genesys.close();
  }

  Map<String, Object> client() {
    Map<String, Object> keys = new LinkedHashMap<>();
    keys.put("login_url", genesys.baseUrl().toString());
    keys.put("api_url", genesys.baseUrl().toString());
    keys.put("client_id", "client-1");
    keys.put("client_secret", SECRET);
    return keys;
  }

  GenesysDestination destination(Map<String, Object> keys, Duration timeout) {
    Map<String, Object> all = client();
    all.putAll(keys);
    all.put("connect_timeout", "1s");
    GenesysDestination d =
        new GenesysDestination(
            DestinationConfigs.load("genesys-write", "genesys-cloud", all, timeout, 4),
            Clock.systemUTC(),
            sessions);
    opened.add(d);
    return d;
  }

  GenesysDestination destination(String operation) {
    return destination(Map.of("operation", operation), Duration.ofSeconds(5));
  }

  static OutboundDelivery delivery(Object body, int attempt) throws Exception {
    return new OutboundDelivery(
        "d-1", "e-1", "key-d-1", null, JSON.writeValueAsBytes(body), Map.of(), attempt);
  }

  String conversation() {
    return genesys
        .conversation("queue-1", START, START.plusSeconds(300), "wrapup-1")
        .conversationId();
  }

  // ---- conversation-attributes

  @Test
  void attributesArePatchedOnTheNamedParticipantAsText() throws Exception {
    String conversation = conversation();
    String customer = genesys.customerOf(conversation);
    Map<String, Object> body =
        Map.of(
            "conversationId", conversation,
            "participantId", customer,
            "attributes", Map.of("outcome", "sold", "score", 7));

    DeliveryResult result = destination("conversation-attributes").send(delivery(body, 1));

    assertThat(result)
        .isInstanceOfSatisfying(Delivered.class, d -> assertThat(d.status()).isEqualTo(202));
    assertThat(genesys.attributesOf(conversation, customer))
        .containsEntry("outcome", "sold")
        .containsEntry("score", "7");
  }

  @Test
  void withoutAParticipantTheCustomerIsLookedUp() throws Exception {
    String conversation = conversation();
    Map<String, Object> body =
        Map.of("conversationId", conversation, "attributes", Map.of("outcome", "callback"));

    DeliveryResult result = destination("conversation-attributes").send(delivery(body, 1));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(genesys.attributesOf(conversation, genesys.customerOf(conversation)))
        .containsEntry("outcome", "callback");
  }

  @Test
  void anUnknownConversationIsDeadWithGenesysCodeAndMessage() throws Exception {
    Map<String, Object> body =
        Map.of("conversationId", "no-such-conversation", "attributes", Map.of("a", "b"));

    DeliveryResult result = destination("conversation-attributes").send(delivery(body, 1));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(404);
              assertThat(r.error())
                  .isEqualTo(
                      "genesys 404 not.found: The requested conversation could not be found.");
            });
  }

  @Test
  void anIdThatIsNotOnePathSegmentIsDeadBeforeAnyCall() throws Exception {
    Map<String, Object> body = Map.of("conversationId", "..", "attributes", Map.of("a", "b"));

    DeliveryResult result = destination("conversation-attributes").send(delivery(body, 1));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> assertThat(r.error()).startsWith("genesys: {id} is empty, . or .."));
    assertThat(genesys.tokensIssued()).isZero();
  }

  // ---- callback

  static Map<String, Object> callback() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("queueId", "queue-1");
    body.put("callbackNumbers", List.of("+15555550142"));
    body.put("callbackUserName", "Jo Example");
    body.put("data", Map.of("reason", "renewal"));
    return body;
  }

  @Test
  void aCallbackCarriesTheDeliveryKeyBesideItsOwnDataAsText() throws Exception {
    Map<String, Object> body = callback();
    body.put("data", Map.of("reason", "renewal", "priority", 2));

    DeliveryResult result = destination("callback").send(delivery(body, 1));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(genesys.callbacks()).hasSize(1);
    assertThat(genesys.callbacks().get(0).get("data"))
        .isEqualTo(
            Map.of("reason", "renewal", "priority", "2", "switchboardDeliveryId", "key-d-1"));
  }

  @Test
  void aTimedOutCallbackRetriedCreatesExactlyOne() throws Exception {
    GenesysDestination d = destination(Map.of("operation", "callback"), Duration.ofMillis(500));
    genesys.answerWritesSlowly(1, Duration.ofSeconds(3));

    DeliveryResult first = d.send(delivery(callback(), 1));
    DeliveryResult second = d.send(delivery(callback(), 2));

    assertThat(first)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.errorClass()).isEqualTo(ErrorClass.TIMEOUT);
              assertThat(r.notBefore()).isEqualTo(Callbacks.INDEX_LAG);
            });
    assertThat(second)
        .isInstanceOfSatisfying(
            Delivered.class, r -> assertThat(r.excerpt()).contains("earlier attempt"));
    assertThat(genesys.callbacks()).hasSize(1);
  }

  @Test
  void aReplayedOrRestartedDeliveryStartingAgainAtAttemptOneFindsItsCallback() throws Exception {
    GenesysDestination d = destination("callback");

    DeliveryResult first = d.send(delivery(callback(), 1));
    // a replay resets the attempts; a crash after the request went out never counted one
    DeliveryResult again = d.send(delivery(callback(), 1));

    assertThat(first).isInstanceOf(Delivered.class);
    assertThat(again)
        .isInstanceOfSatisfying(
            Delivered.class, r -> assertThat(r.excerpt()).contains("earlier attempt"));
    assertThat(genesys.callbacks()).hasSize(1);
  }

  @Test
  void aRetryThatFindsNoEarlierCallbackCreatesIt() throws Exception {
    DeliveryResult result = destination("callback").send(delivery(callback(), 3));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(genesys.callbacks()).hasSize(1);
    assertThat(genesys.analyticsQueries()).isEqualTo(1);
  }

  @Test
  void aBadCallbackIsDeadWithGenesysCodeAndMessageAndNothingSecret() throws Exception {
    Map<String, Object> body = callback();
    body.remove("queueId");

    DeliveryResult result = destination("callback").send(delivery(body, 1));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(400);
              assertThat(r.errorClass()).isEqualTo(ErrorClass.HTTP_4XX);
              assertThat(r.error())
                  .isEqualTo("genesys 400 bad.request: Either queueId or routingData is required.");
              assertThat(r.error() + r.excerpt()).doesNotContain(SECRET);
              genesys
                  .issuedTokens()
                  .forEach(t -> assertThat(r.error() + r.excerpt()).doesNotContain(t));
            });
    assertThat(genesys.callbacks()).isEmpty();
  }

  @Test
  void tooManyRequestsHoldsTheDestinationForRetryAfterThenDelivers() throws Exception {
    GenesysDestination d = destination("callback");
    genesys.throttleNext(1, 42);

    DeliveryResult held = d.send(delivery(callback(), 1));
    DeliveryResult then = d.send(delivery(callback(), 2));

    assertThat(held)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.status()).isEqualTo(429);
              assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(42));
              assertThat(r.errorClass()).isEqualTo(ErrorClass.HTTP_429);
              assertThat(r.error()).startsWith("genesys 429 too.many.requests.retry.after");
            });
    assertThat(then).isInstanceOf(Delivered.class);
    assertThat(genesys.callbacks()).hasSize(1);
  }

  // ---- external-contact

  GenesysDestination contacts(String matchOn, Duration timeout) {
    return destination(Map.of("operation", "external-contact", "match_on", matchOn), timeout);
  }

  static Map<String, Object> contact(String lastName) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("firstName", "Jo");
    body.put("lastName", lastName);
    body.put("cellPhone", Map.of("e164Number", "+15555550142"));
    return body;
  }

  @Test
  void aContactIsCreatedOnceThenUpdatedByItsPhone() throws Exception {
    GenesysDestination d = contacts("phone", Duration.ofSeconds(5));
    String other =
        genesys.addContact(Map.of("firstName", "Someone", "workEmail", "x@example.test"));

    assertThat(d.send(delivery(contact("Example"), 1))).isInstanceOf(Delivered.class);
    Map<String, Object> withEmail = contact("Renamed");
    withEmail.put("cellPhone", Map.of("display", "+1 (555) 555-0142"));
    assertThat(d.send(delivery(withEmail, 1))).isInstanceOf(Delivered.class);

    assertThat(genesys.contacts()).hasSize(2);
    assertThat(genesys.contacts())
        .filteredOn(c -> !c.get("id").equals(other))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.get("lastName")).isEqualTo("Renamed");
              assertThat(c.get("firstName")).isEqualTo("Jo");
            });
  }

  @Test
  void anUpdateKeepsTheFieldsTheBodyLeavesOut() throws Exception {
    Map<String, Object> existing = contact("Example");
    existing.put("workEmail", "jo@example.test");
    String id = genesys.addContact(existing);

    DeliveryResult result =
        contacts("email", Duration.ofSeconds(5))
            .send(delivery(Map.of("workEmail", "JO@example.test", "title", "Buyer"), 1));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(genesys.contacts())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.get("id")).isEqualTo(id);
              assertThat(c.get("title")).isEqualTo("Buyer");
              assertThat(c.get("lastName")).isEqualTo("Example");
            });
  }

  @Test
  void aTimedOutContactCreateRetriedCreatesExactlyOne() throws Exception {
    GenesysDestination d = contacts("phone", Duration.ofMillis(500));
    genesys.answerWritesSlowly(1, Duration.ofSeconds(3));

    DeliveryResult first = d.send(delivery(contact("Example"), 1));
    DeliveryResult second = d.send(delivery(contact("Example"), 2));

    assertThat(first)
        .isInstanceOfSatisfying(
            RetryLater.class, r -> assertThat(r.errorClass()).isEqualTo(ErrorClass.TIMEOUT));
    assertThat(second).isInstanceOf(Delivered.class);
    assertThat(genesys.contacts()).hasSize(1);
  }

  @Test
  void twoDeliveriesOfOnePersonAtOnceMakeOneContact() throws Exception {
    GenesysDestination d = contacts("phone", Duration.ofSeconds(5));
    genesys.answerWritesSlowly(2, Duration.ofMillis(500));

    List<DeliveryResult> results = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      threads.submit(() -> results.add(d.send(delivery(contact("First"), 1))));
      threads.submit(() -> results.add(d.send(delivery(contact("Second"), 1))));
    }

    assertThat(results).hasSize(2).allMatch(r -> r instanceof Delivered);
    assertThat(genesys.contacts()).hasSize(1);
  }

  @Test
  void twoContactsWithTheKeyAreDeadNotGuessed() throws Exception {
    genesys.addContact(contact("One"));
    genesys.addContact(contact("Two"));

    DeliveryResult result =
        contacts("phone", Duration.ofSeconds(5)).send(delivery(contact("X"), 1));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> assertThat(r.error()).isEqualTo("genesys: 2 contacts have this phone"));
  }

  // ---- request

  @Test
  void aRequestFillsThePathFromTheBodyAndTheBindings() throws Exception {
    String conversation = conversation();
    GenesysDestination d =
        destination(
            Map.of(
                "operation",
                "request",
                "method",
                "PATCH",
                "path",
                "/api/v2/conversations/{conversationId}/participants/{$customer}/attributes"),
            Duration.ofSeconds(5));
    byte[] body =
        JSON.writeValueAsBytes(
            Map.of("conversationId", conversation, "attributes", Map.of("outcome", "won")));
    OutboundDelivery delivery =
        new OutboundDelivery(
            "d-1",
            "e-1",
            "key-d-1",
            null,
            body,
            Map.of(),
            1,
            null,
            Map.of("customer", genesys.customerOf(conversation)));

    assertThat(d.send(delivery)).isInstanceOf(Delivered.class);
    assertThat(genesys.attributesOf(conversation, genesys.customerOf(conversation)))
        .containsEntry("outcome", "won");
  }

  @Test
  void aValueWithSlashesStaysOneSegmentAndTheRoutesMethodWins() throws Exception {
    String id = genesys.addContact(contact("Example"));
    GenesysDestination d =
        destination(
            Map.of("operation", "request", "path", "/api/v2/externalcontacts/contacts/{id}"),
            Duration.ofSeconds(5));

    DeliveryResult escaped =
        d.send(
            new OutboundDelivery(
                "d-1",
                "e-1",
                "k",
                null,
                JSON.writeValueAsBytes(Map.of("id", "../contacts?q=#")),
                Map.of(),
                1,
                "GET",
                Map.of()));
    DeliveryResult found =
        d.send(
            new OutboundDelivery(
                "d-2",
                "e-2",
                "k2",
                null,
                JSON.writeValueAsBytes(Map.of("id", id)),
                Map.of(),
                1,
                "GET",
                Map.of()));

    assertThat(escaped)
        .isInstanceOfSatisfying(Rejected.class, r -> assertThat(r.status()).isEqualTo(404));
    assertThat(found)
        .isInstanceOfSatisfying(
            Delivered.class, r -> assertThat(r.excerpt()).contains("\"lastName\":\"Example\""));
  }

  // ---- one token per client

  @Test
  void anEnricherAndADestinationOfOneClientHoldOneToken() throws Exception {
    String conversation = conversation();
    GenesysEnricher enricher =
        new GenesysEnricher(
            DestinationConfigs.enricher("genesys-read", "genesys-cloud", client(), null),
            Clock.systemUTC(),
            sessions);
    opened.add(enricher);
    GenesysDestination d = destination("conversation-attributes");
    Map<String, Object> body =
        Map.of("conversationId", conversation, "attributes", Map.of("outcome", "sold"));

    assertThat(enricher.get("/api/v2/conversations/" + conversation))
        .isInstanceOf(Lookup.Found.class);
    assertThat(d.send(delivery(body, 1))).isInstanceOf(Delivered.class);
    assertThat(genesys.tokensIssued()).isEqualTo(1);

    genesys.revokeTokens(); // the destination meets the 401, forgets the token, tries once more
    assertThat(d.send(delivery(body, 1))).isInstanceOf(Delivered.class);
    assertThat(enricher.get("/api/v2/conversations/" + conversation))
        .isInstanceOf(Lookup.Found.class);
    assertThat(genesys.tokensIssued()).isEqualTo(2);
  }

  @Test
  void aRefusedClientIsRetriedWithoutRepeatingTheSecret() throws Exception {
    Map<String, Object> keys = new LinkedHashMap<>(Map.of("operation", "callback"));
    keys.put("client_secret", "wrong-secret");
    DeliveryResult result = destination(keys, Duration.ofSeconds(5)).send(delivery(callback(), 1));

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.error()).isEqualTo("genesys oauth 401 invalid_client");
              assertThat(r.error() + r.excerpt()).doesNotContain("wrong-secret");
            });
    assertThat(genesys.callbacks()).isEmpty();
  }
}
