package dev.switchboard.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's own troubles as events of its built-in {@code switchboard} source
 * (docs/operational-events.md), routed over real HTTP to a sink like any event: dead letters, a
 * breaker that opens and closes, a flapping destination paging once, and a route from {@code
 * switchboard} to a failing destination that cannot feed itself.
 */
class OperationalEventsIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  final FakeDestination crm = new FakeDestination();
  final FakeDestination sink = new FakeDestination();
  final FakeDestination pager = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
    sink.close();
    pager.close();
  }

  void start(String alerts) throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
          ops-to-sink: { from: switchboard, to: sink }
          ops-to-pager: { from: switchboard, to: pager }
          ops-to-crm: { from: switchboard, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
            retry: { initial: 50ms, max_delay: 50ms, max_attempts: 2 }
            circuit_breaker: { failures: 3, open_for: 300ms }
          sink:
            type: http
            url: ${SINK}
          pager:
            type: http
            url: ${PAGER}
            retry: { initial: 50ms, max_delay: 50ms, max_attempts: 2 }
        %s
        """
            .formatted(alerts);
    gw =
        GatewayFixture.start(
            dir,
            "",
            "",
            yaml,
            Map.of(
                "CRM", crm.uri("/crm").toString(),
                "SINK", sink.uri("/ops").toString(),
                "PAGER", pager.uri("/page").toString()),
            Clock.systemUTC());
  }

  String post(String id) throws Exception {
    HttpResponse<String> r =
        gw.post(
            "calls",
            GatewayFixture.utf8("{\"interactionId\":\"" + id + "\"}"),
            Map.of("Content-Type", "application/json"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  /** Every event the sink received is valid against the documented schema. */
  void allMatchTheDocumentedSchema() throws Exception {
    com.networknt.schema.JsonSchema schema =
        com.networknt.schema.JsonSchemaFactory.getInstance(
                com.networknt.schema.SpecVersion.VersionFlag.V202012)
            .getSchema(JSON.readTree(Path.of("docs/operational-events.schema.json").toFile()));
    assertThat(sink.requests()).isNotEmpty();
    for (FakeDestination.Request r : sink.requests()) {
      assertThat(schema.validate(JSON.readTree(r.bodyText()))).as(r.bodyText()).isEmpty();
    }
  }

  List<JsonNode> received(String type) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    for (FakeDestination.Request r : sink.requests()) {
      JsonNode e = JSON.readTree(r.bodyText());
      if (e.path("type").asText().equals(type)) {
        events.add(e);
      }
    }
    return events;
  }

  DeliveryRecord delivery(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void deadLettersAndABreakerThatOpensAndClosesAreRoutedWithoutFeedingThemselves()
      throws Exception {
    start("");
    crm.answerByDefault(Answer.status(500));
    pager.answerByDefault(Answer.status(500)); // the pager is down too: its own failures stay quiet
    List<String> events = List.of(post("c-1"), post("c-2"), post("c-3"));
    await("every delivery to crm dead")
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                events.stream().allMatch(e -> delivery(e, "to-crm").state() == DeliveryState.DEAD));

    Set<String> dead = new TreeSet<>();
    events.forEach(e -> dead.add(delivery(e, "to-crm").id().value()));
    await("one delivery.dead per dead letter at the sink")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Set<String> reported = new TreeSet<>();
              for (JsonNode e : received("delivery.dead")) {
                if (e.path("subject").path("destination").asText().equals("crm")) {
                  reported.add(e.path("data").path("deliveryId").asText());
                }
              }
              assertThat(reported).isEqualTo(dead);
            });
    await("the breaker opened, once")
        .atMost(Duration.ofSeconds(10))
        .until(() -> received("destination.breaker_opened").size() >= 1);

    // the crm answers again: the breaker's probe closes it
    crm.answerByDefault(Answer.status(200));
    String healed = post("c-4");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> delivery(healed, "to-crm").state() == DeliveryState.DELIVERED);
    await("the breaker closed, once")
        .atMost(Duration.ofSeconds(10))
        .until(() -> received("destination.breaker_closed").size() == 1);

    // nothing is reported twice, and no event of the operational source's own dead letters (the
    // pager's) ever arrives: the route from switchboard cannot feed itself
    await("exactly three dead-letter events, staying three")
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> received("delivery.dead").size() == 3);
    List<JsonNode> deadReports = received("delivery.dead");
    assertThat(deadReports)
        .as("one per dead letter, none about an operational event's own delivery")
        .hasSize(3)
        .allSatisfy(e -> assertThat(e.path("subject").path("source").asText()).isEqualTo("calls"));
    assertThat(
            received("destination.breaker_opened").stream()
                .filter(e -> e.path("subject").path("destination").asText().equals("crm")))
        .hasSize(1);
    for (JsonNode e : received("delivery.dead")) {
      assertThat(e.path("id").asText()).startsWith("op_");
      assertThat(e.path("severity").asText()).isEqualTo("error");
      assertThat(e.path("link").asText()).startsWith("/ui/#/");
    }
    // the events about crm went nowhere near crm: skipped as a loop on the route to it
    for (FakeDestination.Request r : crm.requests()) {
      JsonNode sent = JSON.readTree(r.bodyText());
      assertThat(sent.path("subject").path("destination").asText()).isNotEqualTo("crm");
    }
    assertThat(events.stream().map(e -> delivery(e, "to-crm")).map(d -> d.state()).toList())
        .containsOnly(DeliveryState.DEAD);
    allMatchTheDocumentedSchema();
    long pagerRequests = pager.requests().size();
    await("no growth: dead operational deliveries make no new events")
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(3))
        .until(() -> pager.requests().size() == pagerRequests);
  }

  @Test
  void refusedCredentialsAQuarantinedEventAndASpikeOfBadSignaturesAreEvents() throws Exception {
    java.nio.file.Files.writeString(
        dir.resolve("form.schema.json"), "{\"type\":\"object\",\"required\":[\"formId\"]}");
    String yaml =
        """
        sources:
          forms:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["form-secret"] }
            idempotency: { key: id }
            schema: form.schema.json
        routes:
          forms-to-crm: { from: forms, to: crm }
          ops-to-sink: { from: switchboard, to: sink }
        destinations:
          crm: { type: http, url: "${CRM}" }
          sink: { type: http, url: "${SINK}" }
        alerts:
          source.rejections_spike: { threshold: 5 }
        """;
    gw =
        GatewayFixture.start(
            dir,
            "",
            "",
            yaml,
            Map.of("CRM", crm.uri("/crm").toString(), "SINK", sink.uri("/ops").toString()),
            Clock.systemUTC());
    crm.answerByDefault(Answer.status(401).body("{\"error\":\"invalid_token\"}"));
    byte[] invalid = GatewayFixture.utf8("{\"id\":\"f-1\"}");
    byte[] valid = GatewayFixture.utf8("{\"id\":\"f-2\",\"formId\":\"contact\"}");
    assertThat(
            gw.post(
                    "forms",
                    invalid,
                    Map.of(
                        "X-Signature",
                        dev.switchboard.testing.Hmac.sha256Hex("form-secret", invalid)))
                .body())
        .contains("quarantined");
    assertThat(
            gw.post(
                    "forms",
                    valid,
                    Map.of(
                        "X-Signature",
                        dev.switchboard.testing.Hmac.sha256Hex("form-secret", valid)))
                .statusCode())
        .isEqualTo(202);
    for (int i = 0; i < 6; i++) {
      assertThat(gw.post("forms", valid, Map.of("X-Signature", "00")).statusCode()).isEqualTo(401);
    }
    await("quarantine.added, credentials_refused and one rejections spike at the sink")
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(received("quarantine.added")).hasSize(1);
              assertThat(received("destination.credentials_refused")).hasSize(1);
              assertThat(received("source.rejections_spike")).hasSize(1);
            });
    JsonNode refused = received("destination.credentials_refused").get(0);
    assertThat(refused.path("subject").path("destination").asText()).isEqualTo("crm");
    assertThat(refused.path("data").path("status").asInt()).isEqualTo(401);
    JsonNode spike = received("source.rejections_spike").get(0);
    assertThat(spike.path("data").path("reason").asText()).isEqualTo("signature_rejected");
    assertThat(spike.path("data").path("count").asInt()).isEqualTo(5);
    allMatchTheDocumentedSchema();
  }

  @Test
  void aFlappingDestinationPagesOnceWithinItsQuietPeriod() throws Exception {
    start("alerts:\n  destination.breaker_opened: { quiet: 10m }\n");
    pager.answerByDefault(Answer.status(200));
    for (int round = 1; round <= 3; round++) {
      // three failures open the breaker; after open_for the probe succeeds and closes it
      crm.answer(Answer.status(500), Answer.status(500), Answer.status(500));
      crm.answerByDefault(Answer.status(200));
      List<String> events = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        events.add(post("f-" + round + "-" + i));
      }
      String probe = post("f-" + round + "-probe");
      await("round " + round + " delivered")
          .atMost(Duration.ofSeconds(20))
          .until(() -> delivery(probe, "to-crm").state() == DeliveryState.DELIVERED);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> events.stream().allMatch(e -> delivery(e, "to-crm").state().isFinal()));
    }
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> received("destination.breaker_opened").size() <= 1);
    assertThat(received("destination.breaker_opened")).hasSize(1);
    assertThat(received("destination.breaker_closed")).hasSize(1);
    allMatchTheDocumentedSchema();
  }
}
