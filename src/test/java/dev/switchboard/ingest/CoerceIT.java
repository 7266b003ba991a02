package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A source's {@code coerce:} converts the drift the guides warn of ({@code call.durationSeconds}
 * sent as {@code "45"}) before the schema sees it; the converted value is stored and delivered, and
 * each conversion is counted by source and path.
 */
class CoerceIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void aNumberSentAsTextPassesTheSchemaAsANumberAndIsCountedWhileNonNumericTextIsQuarantined()
      throws Exception {
    Files.writeString(
        dir.resolve("disposition.schema.json"),
        """
        {"type": "object",
         "required": ["interactionId", "call"],
         "properties": {
           "call": {"type": "object", "required": ["durationSeconds"],
                    "properties": {"durationSeconds": {"type": "number"}}},
           "wrapUpCode": {"type": "string"}}}
        """);
    String yaml =
        """
        sources:
          genesys-dispositions:
            verify: { scheme: none }
            idempotency: { key: interactionId }
            schema: disposition.schema.json
            coerce:
              call.durationSeconds: number
              wrapUpCode: string
        routes:
          to-crm:
            from: genesys-dispositions
            to: crm
        destinations:
          crm:
            type: http
            url: ${CRM}
        """;
    Logger log = (Logger) LoggerFactory.getLogger(IngestService.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    log.addAppender(logs);
    try (FakeDestination crm = new FakeDestination();
        GatewayFixture gw =
            GatewayFixture.start(
                dir,
                yaml,
                Map.of("CRM", crm.uri("/in").toString()),
                new MutableClock(Instant.parse("2026-10-27T14:30:05Z")))) {
      HttpResponse<String> drifted =
          post(
              gw,
              "{\"interactionId\":\"i-1\",\"call\":{\"durationSeconds\":\"45\"},\"wrapUpCode\":7}");
      assertThat(drifted.statusCode()).as(drifted.body()).isEqualTo(202);
      assertThat(JSON.readTree(drifted.body()).path("status").asText()).isEqualTo("accepted");
      Event stored = stored(gw, drifted);
      assertThat(stored.status()).isEqualTo(EventStatus.ACCEPTED);
      JsonNode payload = JSON.readTree(stored.payload());
      assertThat(payload.path("call").path("durationSeconds").isNumber()).isTrue();
      assertThat(payload.path("call").path("durationSeconds").asInt()).isEqualTo(45);
      assertThat(payload.path("wrapUpCode").isTextual()).isTrue();
      assertThat(payload.path("wrapUpCode").asText()).isEqualTo("7");

      await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
      JsonNode delivered = JSON.readTree(crm.requests().get(0).bodyText());
      assertThat(delivered.path("call").path("durationSeconds").isNumber()).isTrue();
      assertThat(delivered.path("call").path("durationSeconds").asInt()).isEqualTo(45);

      HttpResponse<String> asSent =
          post(gw, "{\"interactionId\":\"i-2\",\"call\":{\"durationSeconds\":12.5}}");
      assertThat(asSent.statusCode()).isEqualTo(202);
      assertThat(stored(gw, asSent).payload())
          .as("a body with nothing to coerce is stored as received")
          .isEqualTo("{\"interactionId\":\"i-2\",\"call\":{\"durationSeconds\":12.5}}");

      HttpResponse<String> notANumber =
          post(gw, "{\"interactionId\":\"i-3\",\"call\":{\"durationSeconds\":\"45 s\"}}");
      assertThat(notANumber.statusCode()).isEqualTo(202);
      assertThat(JSON.readTree(notANumber.body()).path("quarantined").asBoolean()).isTrue();
      Event quarantined = stored(gw, notANumber);
      assertThat(quarantined.status()).isEqualTo(EventStatus.QUARANTINED);
      assertThat(JSON.readTree(quarantined.payload()).path("call").path("durationSeconds").asText())
          .isEqualTo("45 s");

      String metrics = gw.get("/metrics").body();
      assertThat(metrics)
          .contains(
              "switchboard_ingest_coerced_total{path=\"call.durationSeconds\","
                  + "source=\"genesys-dispositions\"} 1.0")
          .contains(
              "switchboard_ingest_coerced_total{path=\"wrapUpCode\","
                  + "source=\"genesys-dispositions\"} 1.0");
      List<String> lines;
      synchronized (logs) {
        lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      }
      assertThat(lines)
          .filteredOn(l -> l.startsWith("coerced"))
          .containsExactly(
              "coerced a value at call.durationSeconds to the configured type",
              "coerced a value at wrapUpCode to the configured type");
    } finally {
      log.detachAppender(logs);
    }
  }

  static HttpResponse<String> post(GatewayFixture gw, String body) throws Exception {
    return gw.post("genesys-dispositions", utf8(body), Map.of());
  }

  static Event stored(GatewayFixture gw, HttpResponse<String> response) throws Exception {
    String id = JSON.readTree(response.body()).path("eventId").asText();
    return gw.gateway().store().findEvent(new EventId(id)).orElseThrow();
  }
}
