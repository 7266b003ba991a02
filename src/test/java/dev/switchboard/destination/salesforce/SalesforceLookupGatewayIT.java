package dev.switchboard.destination.salesforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeSalesforce;
import dev.switchboard.testing.FakeSalesforce.Call;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Look the Contact up by phone; create a Case only if there is none", as configuration: a route
 * whose {@code salesforce} enricher runs a SOQL {@code query:} and whose {@code when_enriched}
 * reads the result, in a whole gateway against {@link FakeSalesforce} (docs/enrichment.md).
 */
class SalesforceLookupGatewayIT {
  static final ObjectMapper JSON = new ObjectMapper();

  static final String YAML =
      """
      sources:
        calls:
          verify: { scheme: none }
      enrichers:
        sf:
          type: salesforce
          login_url: ${SF_LOGIN_URL}
          client_id: ${SF_CLIENT_ID}
          client_secret: ${SF_CLIENT_SECRET}
      routes:
        case-for-unknown-caller:
          from: calls
          when: $exists(phone)
          enrich:
            using: sf
            query: "SELECT Id, Name FROM Contact WHERE Phone = {phone} LIMIT 1"
            as: contact
          when_enriched: $contact.totalSize = 0
          transform: |
            { "Subject": "Call from an unknown number", "SuppliedPhone": phone }
          to: cases
      destinations:
        cases:
          type: salesforce
          login_url: ${SF_LOGIN_URL}
          client_id: ${SF_CLIENT_ID}
          client_secret: ${SF_CLIENT_SECRET}
          operation: create
          object: Case
      """;

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T21:00:00Z"));
  final FakeSalesforce sf = new FakeSalesforce("sf-client", "sf-secret");
  GatewayFixture gw;

  @BeforeEach
  void start() throws Exception {
    sf.defineObject("Contact", "003").fields("Name", "Phone");
    sf.defineObject("Case", "500").fields("Subject", "SuppliedPhone");
    gw =
        GatewayFixture.start(
            dir,
            YAML,
            Map.of(
                "SF_LOGIN_URL", sf.url(),
                "SF_CLIENT_ID", "sf-client",
                "SF_CLIENT_SECRET", "sf-secret"),
            clock);
  }

  @AfterEach
  void stop() {
    gw.close();
    sf.close();
  }

  String post(String phone) throws Exception {
    byte[] body = JSON.writeValueAsString(Map.of("phone", phone)).getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r = gw.post("calls", body, Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).get(0);
  }

  DeliveryRecord awaitState(String eventId, DeliveryState state) {
    await().atMost(Duration.ofSeconds(10)).until(() -> delivery(eventId).state() == state);
    return delivery(eventId);
  }

  @Test
  void aKnownCallerSkipsTheCreate() throws Exception {
    sf.seed("Contact", Map.of("Name", "Ada Lovelace", "Phone", "+1 555 0100"));

    DeliveryRecord skipped = awaitState(post("+1 555 0100"), DeliveryState.SKIPPED);

    assertThat(skipped.lastError()).isEqualTo("filtered: when_enriched is false");
    assertThat(sf.records("Case")).isEmpty();
    assertThat(sf.dataCalls()).extracting(Call::method).containsExactly("GET");
    assertThat(sf.queries())
        .containsExactly("SELECT Id, Name FROM Contact WHERE Phone = '+1 555 0100' LIMIT 1");
  }

  @Test
  void anUnknownCallerGetsExactlyOneCaseThroughTheSameSession() throws Exception {
    sf.seed("Contact", Map.of("Name", "Ada Lovelace", "Phone", "+1 555 0100"));

    DeliveryRecord delivered = awaitState(post("+1 555 0199"), DeliveryState.DELIVERED);

    assertThat(delivered.attempts()).isEqualTo(1);
    assertThat(sf.records("Case"))
        .singleElement()
        .satisfies(
            c ->
                assertThat(c)
                    .containsEntry("Subject", "Call from an unknown number")
                    .containsEntry("SuppliedPhone", "+1 555 0199"));
    assertThat(sf.dataCalls())
        .extracting(c -> c.method() + " " + c.status())
        .containsExactly("GET 200", "POST 201");
    // the enricher and the destination share the client: one token for both
    assertThat(sf.tokensIssued()).hasSize(1);
  }

  @Test
  void aPhoneThatTriesToWidenTheQueryIsOneLiteral() throws Exception {
    sf.seed("Contact", Map.of("Name", "Ada Lovelace", "Phone", "+1 555 0100"));

    // unescaped, "Phone = '' OR Name != ''" would match Ada and skip the create
    awaitState(post("' OR Name != '"), DeliveryState.DELIVERED);

    assertThat(sf.records("Case")).hasSize(1);
    assertThat(sf.queries())
        .containsExactly("SELECT Id, Name FROM Contact WHERE Phone = '\\' OR Name != \\'' LIMIT 1");
  }
}
