package dev.switchboard.destination.salesforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.EnrichPath;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Enricher.Lookup;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeSalesforce;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code salesforce} enricher against {@link FakeSalesforce} on 127.0.0.1: a route's {@code
 * query:} rendered as the gateway renders it, run through the query resource, paged, and its
 * answers classified; and one OAuth session shared with a {@code salesforce} destination.
 */
class SalesforceEnricherIT {
  static final String SECRET = "sf-secret-51c0a";
  static final String BY_PHONE = "SELECT Id, Name FROM Contact WHERE Phone = {phone} LIMIT 1";

  final FakeSalesforce sf = new FakeSalesforce("sf-client", SECRET);
  final ConnectorContext context = new ConnectorContext(Clock.systemUTC(), null);
  final List<AutoCloseable> opened = new ArrayList<>();
  final List<Lookup> seen = new ArrayList<>();

  @BeforeEach
  void schema() {
    sf.defineObject("Contact", "003").fields("Name", "Phone", "Email");
    sf.defineObject("Case", "500").fields("Subject", "ContactId");
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
    context.sessions().close();
    for (Lookup l : seen) {
      assertThat(l.toString()).doesNotContain(SECRET);
      sf.tokensIssued().forEach(t -> assertThat(l.toString()).doesNotContain(t));
    }
    sf.close();
  }

  Map<String, Object> keys() {
    Map<String, Object> keys = new HashMap<>();
    keys.put("login_url", sf.url() + "/");
    keys.put("client_id", "sf-client");
    keys.put("client_secret", SECRET);
    return keys;
  }

  SalesforceEnricher enricher() {
    SalesforceEnricher e =
        new SalesforceEnricher(
            DestinationConfigs.enricher("sf", "salesforce", keys(), null), context);
    opened.add(e);
    return e;
  }

  Lookup query(SalesforceEnricher e, String query, Map<String, Object> event) {
    Lookup l = e.get(EnrichPath.query(query).render(event, Map.of()));
    seen.add(l);
    return l;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> found(Lookup lookup) {
    assertThat(lookup).isInstanceOf(Lookup.Found.class);
    return (Map<String, Object>) ((Lookup.Found) lookup).value();
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> records(Lookup lookup) {
    return (List<Map<String, Object>>) found(lookup).get("records");
  }

  @Test
  void findsTheContactByPhoneInSalesforcesShape() {
    String id = sf.seed("Contact", Map.of("Name", "Ada Lovelace", "Phone", "+1 555 0100"));
    sf.seed("Contact", Map.of("Name", "Alan Turing", "Phone", "+1 555 0199"));

    Lookup lookup = query(enricher(), BY_PHONE, Map.of("phone", "+1 555 0100"));

    assertThat(found(lookup)).containsEntry("totalSize", 1L);
    assertThat(records(lookup)).hasSize(1);
    Map<String, Object> contact = records(lookup).get(0);
    assertThat(contact)
        .containsEntry("Id", id)
        .containsEntry("Name", "Ada Lovelace")
        .containsEntry(
            "attributes",
            Map.of("type", "Contact", "url", "/services/data/v62.0/sobjects/Contact/" + id));
    assertThat(sf.queries())
        .containsExactly("SELECT Id, Name FROM Contact WHERE Phone = '+1 555 0100' LIMIT 1");
    assertThat(sf.dataCalls().get(0).path()).startsWith("/services/data/v62.0/query?q=SELECT");
  }

  @Test
  void noMatchIsFoundWithTotalSizeZero() {
    sf.seed("Contact", Map.of("Name", "Ada", "Phone", "1"));
    Lookup lookup = query(enricher(), BY_PHONE, Map.of("phone", "2"));
    assertThat(found(lookup)).containsEntry("totalSize", 0L).containsEntry("records", List.of());
  }

  @Test
  void anInjectionAttemptIsOneLiteralMatchedAsWritten() {
    sf.seed("Contact", Map.of("Name", "Ada", "Phone", "1"));
    sf.seed("Contact", Map.of("Name", "Alan", "Phone", "2"));
    String attack = "' OR Name != '";
    SalesforceEnricher e = enricher();

    assertThat(found(query(e, BY_PHONE, Map.of("phone", attack)))).containsEntry("totalSize", 0L);

    String odd = sf.seed("Contact", Map.of("Name", "Odd", "Phone", attack + "\\\n\"x\""));
    Lookup exact = query(e, BY_PHONE, Map.of("phone", attack + "\\\n\"x\""));
    assertThat(records(exact)).extracting(r -> r.get("Id")).containsExactly(odd);
  }

  @Test
  void followsNextRecordsUrlUntilDone() {
    sf.queryPageSize(2);
    for (int i = 0; i < 5; i++) {
      sf.seed("Contact", Map.of("Name", "C" + i, "Phone", "555"));
    }
    sf.seed("Contact", Map.of("Name", "Other", "Phone", "556"));

    Lookup lookup =
        query(enricher(), "SELECT Id, Name FROM Contact WHERE Phone = {p}", Map.of("p", "555"));

    assertThat(found(lookup)).containsEntry("totalSize", 5L);
    assertThat(records(lookup))
        .extracting(r -> r.get("Name"))
        .containsExactly("C0", "C1", "C2", "C3", "C4");
    assertThat(sf.dataCalls()).hasSize(3);
    assertThat(sf.dataCalls().get(1).path()).matches("/services/data/v62\\.0/query/01g\\w+-2");
    assertThat(sf.dataCalls().get(2).path()).endsWith("-4");
  }

  @Test
  void aQueryMatchingMoreThanTheBoundFailsWithAHintToLimitIt() {
    for (int i = 0; i <= SalesforceEnricher.MAX_RECORDS; i++) {
      sf.seed("Contact", Map.of("Name", "C" + i, "Phone", "555"));
    }
    SalesforceEnricher e = enricher();
    Lookup tooMany = query(e, "SELECT Id FROM Contact WHERE Phone = {p}", Map.of("p", "555"));
    assertThat(tooMany).isInstanceOf(Lookup.Failed.class);
    assertThat(((Lookup.Failed) tooMany).error())
        .isEqualTo(
            "salesforce query matched 2001 records, more than the 2000 an enrichment reads:"
                + " add a LIMIT or a narrower WHERE");
    assertThat(sf.dataCalls()).hasSize(1); // known from totalSize: no page fetched after it

    sf.queryPageSize(1);
    Lookup tooManyPages =
        query(e, "SELECT Id FROM Contact WHERE Phone = {p} LIMIT 11", Map.of("p", "555"));
    assertThat(tooManyPages).isInstanceOf(Lookup.Failed.class);
    assertThat(sf.dataCalls()).hasSize(1 + SalesforceEnricher.MAX_PAGES);
  }

  @Test
  void salesforcesRefusalsFailWithItsCodeAndMessage() {
    SalesforceEnricher e = enricher();
    Lookup field =
        query(e, "SELECT Id, Shoe_Size__c FROM Contact WHERE Phone = {p}", Map.of("p", "1"));
    assertThat(field)
        .isEqualTo(
            new Lookup.Failed(
                "salesforce INVALID_FIELD: No such column 'Shoe_Size__c' on entity 'Contact'. If"
                    + " you are attempting to use a custom field, be sure to append the '__c'"
                    + " after the custom field name.",
                400));
    Lookup malformed = query(e, "SELECT Id FROM Contact WHERE Phone == {p}", Map.of("p", "1"));
    assertThat(malformed).isInstanceOf(Lookup.Failed.class);
    assertThat(((Lookup.Failed) malformed).error()).startsWith("salesforce MALFORMED_QUERY: ");
    assertThat(e.get("/sobjects/Contact")).isInstanceOf(Lookup.Failed.class);
  }

  @Test
  void limitsAndOutagesAreTriedAgainLater() {
    SalesforceEnricher e = enricher();
    Map<String, Object> event = Map.of("phone", "1");

    sf.failNext(503, "SERVER_UNAVAILABLE", "server too busy");
    assertThat(query(e, BY_PHONE, event)).isInstanceOf(Lookup.RetryLater.class);

    sf.failNext(429, "REQUEST_LIMIT_EXCEEDED", "slow down");
    assertThat(query(e, BY_PHONE, event)).isInstanceOf(Lookup.RetryLater.class);

    sf.apiUsage(100, 100);
    Lookup limit = query(e, BY_PHONE, event);
    assertThat(limit)
        .isEqualTo(
            new Lookup.RetryLater(
                "salesforce REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.",
                403,
                Duration.ofMinutes(1)));

    sf.apiUsage(0, 100);
    sf.close();
    Lookup down = query(e, BY_PHONE, event);
    assertThat(down).isInstanceOf(Lookup.RetryLater.class);
    assertThat(((Lookup.RetryLater) down).status()).isZero();
  }

  @Test
  void anExpiredSessionIsRenewedOnceWithinTheLookup() {
    SalesforceEnricher e = enricher();
    assertThat(query(e, BY_PHONE, Map.of("phone", "1"))).isInstanceOf(Lookup.Found.class);
    sf.expireSessions();
    assertThat(query(e, BY_PHONE, Map.of("phone", "1"))).isInstanceOf(Lookup.Found.class);
    assertThat(sf.tokensIssued()).hasSize(2);
    assertThat(sf.dataCalls())
        .extracting(FakeSalesforce.Call::status)
        .containsExactly(200, 401, 200);
  }

  @Test
  void aRefusedClientIsTriedAgainLater() {
    sf.loginMode(FakeSalesforce.LoginMode.NO_RUN_AS_USER);
    Lookup lookup = query(enricher(), BY_PHONE, Map.of("phone", "1"));
    assertThat(lookup).isInstanceOf(Lookup.RetryLater.class);
    assertThat(((Lookup.RetryLater) lookup).status()).isEqualTo(400);
    assertThat(sf.dataCalls()).isEmpty();
  }

  @Test
  void anEnricherAndADestinationOfTheSameClientShareOneSession() {
    SalesforceEnricher e = enricher();
    Map<String, Object> destinationKeys = keys();
    destinationKeys.put("operation", "create");
    destinationKeys.put("object", "Case");
    SalesforceDestination d =
        new SalesforceDestination(
            DestinationConfigs.load("cases", "salesforce", destinationKeys, null, 1), context);
    opened.add(d);

    assertThat(found(query(e, BY_PHONE, Map.of("phone", "1")))).containsEntry("totalSize", 0L);
    DeliveryResult created = d.send(delivery("{\"Subject\":\"Missed call\"}"));
    assertThat(created).isInstanceOf(DeliveryResult.Delivered.class);
    assertThat(sf.tokensIssued()).hasSize(1);

    // the enricher renews the session; the destination goes on with the new token, unrefused
    sf.expireSessions();
    assertThat(query(e, BY_PHONE, Map.of("phone", "1"))).isInstanceOf(Lookup.Found.class);
    assertThat(d.send(delivery("{\"Subject\":\"Again\"}")))
        .isInstanceOf(DeliveryResult.Delivered.class);
    assertThat(sf.tokensIssued()).hasSize(2);
    assertThat(sf.dataCalls())
        .extracting(FakeSalesforce.Call::status)
        .containsExactly(200, 201, 401, 200, 201);
    assertThat(context.sessions().clients()).isEqualTo(1);
  }

  static OutboundDelivery delivery(String json) {
    return new OutboundDelivery(
        "dlv_1", "evt_1", "dlv_1", null, json.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }
}
