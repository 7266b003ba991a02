package dev.switchboard.destination.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.KafkaBroker;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kafka connector through a whole gateway: signed events posted over HTTP, routed, transformed
 * and produced to a real KRaft broker in this JVM, then read back by a real consumer.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KafkaDeliveryIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "whk-test-secret";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  KafkaBroker broker;
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  void startGateway(String destinationExtras) throws Exception {
    String yaml =
        """
        sources:
          genesys:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: id }
            partition_key: detail.eventBody.conversationId
        routes:
          acw-to-kafka:
            from: genesys
            to: kafka-acw
            transform: |
              {
                "conversationId": detail.eventBody.conversationId,
                "wrapupCode": detail.eventBody.wrapupCode
              }
        destinations:
          kafka-acw:
            type: kafka
            bootstrap_servers: ${KAFKA_BOOTSTRAP_SERVERS}
            topic: genesys.acw
            key: conversationId
            properties:
              compression.type: zstd
        """
            + destinationExtras;
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of("SECRET", SECRET, "KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()),
            clock);
  }

  String post(String id, String conversationId) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            """
            {"id":"%s","detail-type":"v2.detail.events.conversation.{id}.acw",
             "detail":{"eventBody":{"conversationId":"%s","wrapupCode":"RESOLVED"}}}"""
                .formatted(id, conversationId));
    HttpResponse<String> r =
        gw.post("genesys", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord only(String eventId) {
    List<DeliveryRecord> all = gw.gateway().deliveries().deliveriesOf(new EventId(eventId));
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  @Test
  void theExampleConfigurationProducesASignedEventWithItsKeyAndDeduplicationHeaders()
      throws Exception {
    broker = KafkaBroker.start(dir);
    broker.createTopic("genesys.acw", Map.of());
    gw =
        GatewayFixture.start(
            dir,
            Files.readString(Path.of("examples/kafka.yaml")),
            Map.of(
                "ACW_WEBHOOK_SECRET", SECRET, "KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()),
            clock);
    byte[] body =
        GatewayFixture.utf8(
            """
            {"id":"evb-1","detail-type":"v2.detail.events.conversation.{id}.acw",
             "detail":{"eventBody":{"conversationId":"conv-1","userId":"agent-9",
               "wrapupCode":"RESOLVED","eventTime":1793111405000}}}""");
    HttpResponse<String> r =
        gw.post("acw", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    String eventId = JSON.readTree(r.body()).path("eventId").asText();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> only(eventId).state() == DeliveryState.DELIVERED);
    DeliveryRecord delivery = only(eventId);
    List<ConsumerRecord<String, byte[]>> records =
        broker.read("genesys.acw", 1, Duration.ofSeconds(10));
    assertThat(records).hasSize(1);
    ConsumerRecord<String, byte[]> record = records.get(0);
    assertThat(record.key()).isEqualTo("conv-1");
    JsonNode value = JSON.readTree(record.value());
    assertThat(value.path("conversationId").asText()).isEqualTo("conv-1");
    assertThat(value.path("agentId").asText()).isEqualTo("agent-9");
    assertThat(value.path("wrapupCode").asText()).isEqualTo("RESOLVED");
    assertThat(value.path("endedAt").asText()).isEqualTo("2026-10-27T14:30:05.000Z");
    assertThat(KafkaBroker.header(record, "idempotency-key")).isEqualTo(delivery.id().value());
    assertThat(KafkaBroker.header(record, "event-id")).isEqualTo(eventId);
    assertThat(gw.gateway().deliveries().attempts(delivery.id()))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.outcome()).isEqualTo("delivered");
              assertThat(a.excerpt()).isEqualTo("partition 0 offset 0");
            });
  }

  @Test
  void eventsWaitForABrokerThatIsDownAndAreProducedOnceItIsUp() throws Exception {
    broker = KafkaBroker.create(dir, Map.of()); // its port is closed until start()
    startGateway("    timeout: 2s\n    retry: { initial: 1s, max_delay: 2s }\n");

    String eventId = post("evb-2", "conv-2");

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> only(eventId).state() == DeliveryState.RETRY_SCHEDULED);
    DeliveryRecord waiting = only(eventId);
    assertThat(waiting.errorClass()).isEqualTo("timeout");
    assertThat(gw.gateway().deliveries().attempts(waiting.id()))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.outcome()).isEqualTo("retry");
              assertThat(a.error()).startsWith("timeout: ");
              assertThat(a.duration()).isLessThan(Duration.ofSeconds(4));
            });

    broker.start();
    broker.createTopic("genesys.acw", Map.of());
    // the gateway's clock moves only here: each step makes the next retry due
    await()
        .atMost(Duration.ofSeconds(45))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              clock.advance(Duration.ofSeconds(3));
              return only(eventId).state() == DeliveryState.DELIVERED;
            });
    List<ConsumerRecord<String, byte[]>> records =
        broker.read("genesys.acw", 1, Duration.ofSeconds(10));
    // At least once: an attempt whose 2 s deadline passed while the producer was still waiting
    // for the broker (a slow restart on a busy machine) may land anyway, and the retry then
    // produces a second copy. Every copy carries the same idempotency-key header, which is how a
    // consumer drops the repeat.
    assertThat(records).isNotEmpty().extracting(ConsumerRecord::key).containsOnly("conv-2");
    List<AttemptRecord> attempts = gw.gateway().deliveries().attempts(waiting.id());
    assertThat(attempts.size()).isGreaterThanOrEqualTo(2);
    assertThat(attempts.get(attempts.size() - 1).outcome()).isEqualTo("delivered");
    assertThat(records)
        .extracting(r -> KafkaBroker.header(r, "idempotency-key"))
        .containsOnly(waiting.id().value());
    assertThat(records.size())
        .as("copies produced: at most one per attempt")
        .isLessThanOrEqualTo(attempts.size());
  }
}
