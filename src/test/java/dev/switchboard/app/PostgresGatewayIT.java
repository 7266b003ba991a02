package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole gateway on PostgreSQL ({@code store.type: postgres}): signed events posted over HTTP are
 * stored in the database, duplicates absorbed, and every event delivered to a fake receiver.
 */
@Timeout(120)
class PostgresGatewayIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "pg-gateway-secret";
  static EmbeddedPostgres pg;

  @TempDir Path dir;

  @BeforeAll
  static void startServer() {
    pg = EmbeddedPostgres.start();
    pg.createDatabase("gateway");
  }

  @AfterAll
  static void stopServer() {
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void signedEventsAreStoredInPostgresOnceAndDelivered() throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify:
              scheme: hmac-sha256-hex
              header: X-Genesys-Signature
              secrets: ["${SECRET}"]
            idempotency: { key: interactionId & '|' & timestamp }
            event_time: timestamp
            partition_key: interactionId
        routes:
          to-crm:
            from: calls
            to: crm
        destinations:
          crm:
            type: http
            url: ${CRM}
        """;
    try (FakeDestination crm = new FakeDestination();
        GatewayFixture gw =
            GatewayFixture.startOnPostgres(
                dir,
                pg.jdbcUrl("gateway"),
                EmbeddedPostgres.USER,
                EmbeddedPostgres.PASSWORD,
                yaml,
                Map.of("SECRET", SECRET, "CRM", crm.uri("/in").toString()),
                new MutableClock(Instant.parse("2026-10-27T14:30:05Z")))) {
      assertThat(gw.gateway().store().deliveries().singleNode()).isFalse();
      List<String> eventIds = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        byte[] body =
            GatewayFixture.utf8(
                "{\"interactionId\":\"i-%d\",\"timestamp\":\"2026-10-27T14:30:00Z\"}".formatted(i));
        HttpResponse<String> r = post(gw, body, Hmac.sha256Hex(SECRET, body));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        eventIds.add(JSON.readTree(r.body()).path("eventId").asText());
      }
      byte[] again =
          GatewayFixture.utf8("{\"interactionId\":\"i-3\",\"timestamp\":\"2026-10-27T14:30:00Z\"}");
      JsonNode duplicate = JSON.readTree(post(gw, again, Hmac.sha256Hex(SECRET, again)).body());
      assertThat(duplicate.path("duplicate").asBoolean()).isTrue();
      assertThat(duplicate.path("eventId").asText()).isEqualTo(eventIds.get(3));
      assertThat(post(gw, again, Hmac.sha256Hex("wrong", again)).statusCode()).isEqualTo(401);

      await().atMost(Duration.ofSeconds(30)).until(() -> crm.requests().size() >= 20);
      Set<String> keys = new HashSet<>();
      crm.requests().forEach(r -> keys.add(r.header("Idempotency-Key")));
      assertThat(keys).hasSize(20);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                for (String id : eventIds) {
                  assertThat(gw.gateway().store().deliveries().deliveriesOf(new EventId(id)))
                      .singleElement()
                      .satisfies(d -> assertThat(d.state()).isEqualTo(DeliveryState.DELIVERED));
                }
              });
    }
    // the events are in PostgreSQL, not in a file beside the configuration
    try (Connection c = pg.connect("gateway");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM events")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(20);
    }
    assertThat(dir.resolve("switchboard.db")).doesNotExist();
  }

  @Test
  void aReleasedQuarantinedEventIsClaimedAndDeliveredOnASharedDatabase() throws Exception {
    pg.createDatabase("release");
    java.nio.file.Files.writeString(
        dir.resolve("form.schema.json"), "{\"type\":\"object\",\"required\":[\"formId\"]}");
    String yaml =
        """
        admin: { token: "pg-admin-token" }
        sources:
          forms:
            verify: { scheme: none }
            schema: form.schema.json
            partition_key: formId
        routes:
          to-crm: { from: forms, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
        """;
    Instant now = Instant.parse("2026-10-27T14:30:05Z");
    try (FakeDestination crm = new FakeDestination();
        GatewayFixture gw =
            GatewayFixture.startOnPostgres(
                dir,
                pg.jdbcUrl("release"),
                EmbeddedPostgres.USER,
                EmbeddedPostgres.PASSWORD,
                yaml,
                Map.of("CRM", crm.uri("/in").toString()),
                new MutableClock(now))) {
      assertThat(gw.gateway().store().deliveries().singleNode()).isFalse();
      // quarantined under an older schema; the one configured now accepts it
      EventId id =
          gw.gateway()
              .store()
              .ingest(
                  new dev.switchboard.store.NewEvent(
                      "forms",
                      null,
                      null,
                      now,
                      "f-1",
                      now,
                      "{\"formId\":\"f-1\"}",
                      Map.of(),
                      dev.switchboard.domain.EventStatus.QUARANTINED,
                      "$.formId: integer expected",
                      List.of()))
              .get()
              .eventId();
      HttpResponse<String> released =
          gw.send(
              java.net.http.HttpRequest.newBuilder(
                      gw.uri("/api/v1/events/" + id.value() + "/release"))
                  .header("Authorization", "Bearer pg-admin-token")
                  .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                  .build());
      assertThat(released.statusCode()).as(released.body()).isEqualTo(200);
      assertThat(JSON.readTree(released.body()).path("status").asText()).isEqualTo("accepted");
      await().atMost(Duration.ofSeconds(30)).until(() -> crm.requests().size() == 1);
      assertThat(crm.requests().get(0).bodyText()).contains("f-1");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  gw.gateway().store().deliveries().deliveriesOf(id).stream()
                      .allMatch(d -> d.state() == DeliveryState.DELIVERED));
    }
  }

  static HttpResponse<String> post(GatewayFixture gw, byte[] body, String signature)
      throws Exception {
    return gw.post("calls", body, Map.of("X-Genesys-Signature", signature));
  }
}
