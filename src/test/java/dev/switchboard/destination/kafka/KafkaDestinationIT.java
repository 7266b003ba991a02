package dev.switchboard.destination.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The connector against a real single-node KRaft broker in this JVM: records are read back by a
 * real consumer; refusals come from the real client and broker.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KafkaDestinationIT {
  static final Duration READ = Duration.ofSeconds(10);
  static Path dir;
  static KafkaBroker broker;

  final List<KafkaDestination> opened = new ArrayList<>();

  @BeforeAll
  static void startBroker() throws Exception {
    dir = Files.createTempDirectory("kafka-destination-it");
    broker = KafkaBroker.start(dir);
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @AfterEach
  void closeDestinations() {
    opened.forEach(KafkaDestination::close);
  }

  static String newTopic() throws Exception {
    return newTopic(Map.of());
  }

  static String newTopic(Map<String, String> topicConfig) throws Exception {
    String topic = "t-" + UUID.randomUUID();
    broker.createTopic(topic, topicConfig);
    return topic;
  }

  KafkaDestination destination(
      String servers, String topic, String key, Map<String, String> properties, Duration timeout) {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("bootstrap_servers", servers);
    settings.put("topic", topic);
    if (key != null) {
      settings.put("key", key);
    }
    settings.put("properties", properties);
    KafkaDestination destination =
        new KafkaDestination(DestinationConfigs.load("events", "kafka", settings, timeout, 4));
    opened.add(destination);
    return destination;
  }

  KafkaDestination destination(String topic, String key) {
    return destination(broker.bootstrapServers(), topic, key, Map.of(), Duration.ofSeconds(10));
  }

  static OutboundDelivery delivery(String id, String partitionKey, String body) {
    return new OutboundDelivery(
        id, "evt-" + id, id, partitionKey, body.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }

  static long endOffset(String topic) throws Exception {
    TopicPartition partition = new TopicPartition(topic, 0);
    try (var admin = broker.admin()) {
      return admin
          .listOffsets(Map.of(partition, OffsetSpec.latest()))
          .partitionResult(partition)
          .get(10, TimeUnit.SECONDS)
          .offset();
    }
  }

  @Test
  void anAcknowledgedRecordCarriesTheKeyTheBodyAndTheDeduplicationHeaders() throws Exception {
    String topic = newTopic();
    KafkaDestination kafka = destination(topic, "conversationId");
    String body = "{\"conversationId\":\"c-42\",\"wrapupCode\":\"RESOLVED\"}";

    DeliveryResult result = kafka.send(delivery("d-1", "other-key", body));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(result.excerpt()).isEqualTo("partition 0 offset 0");
    List<ConsumerRecord<String, byte[]>> records = broker.read(topic, 1, READ);
    assertThat(records).hasSize(1);
    ConsumerRecord<String, byte[]> record = records.get(0);
    assertThat(record.key()).isEqualTo("c-42");
    assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo(body);
    assertThat(KafkaBroker.header(record, "idempotency-key")).isEqualTo("d-1");
    assertThat(KafkaBroker.header(record, "event-id")).isEqualTo("evt-d-1");
  }

  @Test
  void withoutAKeyExpressionTheKeyIsTheEventsPartitionKey() throws Exception {
    String topic = newTopic();
    KafkaDestination kafka = destination(topic, null);

    assertThat(kafka.send(delivery("d-1", "conv-7", "{\"a\":1}"))).isInstanceOf(Delivered.class);
    assertThat(kafka.send(delivery("d-2", null, "not even JSON"))).isInstanceOf(Delivered.class);

    List<ConsumerRecord<String, byte[]>> records = broker.read(topic, 2, READ);
    assertThat(records).extracting(ConsumerRecord::key).containsExactly("conv-7", null);
    assertThat(new String(records.get(1).value(), StandardCharsets.UTF_8))
        .isEqualTo("not even JSON");
  }

  @Test
  void aNumericKeyIsWrittenAsText() throws Exception {
    String topic = newTopic();
    KafkaDestination kafka = destination(topic, "queue.id");

    assertThat(kafka.send(delivery("d-1", null, "{\"queue\":{\"id\":1234}}")))
        .isInstanceOf(Delivered.class);

    assertThat(broker.read(topic, 1, READ)).extracting(ConsumerRecord::key).containsExactly("1234");
  }

  @Test
  void aKeyExpressionThatFailsOnTheBodyIsRejectedAndNothingIsWritten() throws Exception {
    String topic = newTopic();
    KafkaDestination kafka = destination(topic, "conversationId");

    DeliveryResult missing = kafka.send(delivery("d-1", "k", "{\"other\":1}"));
    DeliveryResult notJson = kafka.send(delivery("d-2", "k", "<xml/>"));
    DeliveryResult object = kafka.send(delivery("d-3", "k", "{\"conversationId\":{\"a\":1}}"));

    assertThat(missing)
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error())
                    .isEqualTo("key: `conversationId` gave nothing for this body"));
    assertThat(notJson)
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.error()).contains("the body is not JSON"));
    assertThat(object)
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.error()).contains("expected text or a number"));
    assertThat(endOffset(topic)).isZero();
  }

  @Test
  void aRecordOverTheProducersMaxRequestSizeIsRejected() throws Exception {
    String topic = newTopic();
    KafkaDestination kafka =
        destination(
            broker.bootstrapServers(),
            topic,
            null,
            Map.of("max.request.size", "10000"),
            Duration.ofSeconds(10));
    String big = "{\"text\":\"" + "x".repeat(20_000) + "\"}";

    DeliveryResult result = kafka.send(delivery("d-1", "k", big));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.error()).startsWith("kafka: RecordTooLargeException");
              assertThat(r.error()).contains("max.request.size");
            });
    assertThat(kafka.send(delivery("d-2", "k", "{\"small\":true}"))).isInstanceOf(Delivered.class);
    assertThat(endOffset(topic)).isEqualTo(1);
  }

  @Test
  void aRecordOverTheTopicsMaxMessageBytesIsRejectedByTheBroker() throws Exception {
    String topic = newTopic(Map.of("max.message.bytes", "2000"));
    KafkaDestination kafka = destination(topic, null);

    DeliveryResult result = kafka.send(delivery("d-1", "k", "\"" + "y".repeat(5_000) + "\""));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> assertThat(r.error()).startsWith("kafka: RecordTooLargeException"));
    assertThat(endOffset(topic)).isZero();
  }

  @Test
  void anInvalidTopicNameIsRejected() {
    KafkaDestination kafka = destination("not a valid topic!", null);

    DeliveryResult result = kafka.send(delivery("d-1", "k", "{}"));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.error()).startsWith("kafka: InvalidTopicException"));
  }

  @Test
  void aTopicThatDoesNotExistIsRetriedLaterOnceTheTimeoutPassed() {
    KafkaDestination kafka =
        destination(
            broker.bootstrapServers(),
            "missing-" + UUID.randomUUID(),
            null,
            Map.of(),
            Duration.ofSeconds(2));

    long started = System.nanoTime();
    DeliveryResult result = kafka.send(delivery("d-1", "k", "{}"));
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.error()).startsWith("timeout: TimeoutException");
              assertThat(r.error()).contains("not present in metadata");
              assertThat(r.status()).isZero();
            });
    assertThat(took).isBetween(Duration.ofMillis(1_900), Duration.ofSeconds(4));
  }

  @Test
  void aBrokerThatIsNotThereIsRetriedLaterWithinTheTimeout() throws Exception {
    KafkaBroker absent = KafkaBroker.create(dir, Map.of()); // formatted, never started
    KafkaDestination kafka =
        destination(absent.bootstrapServers(), "events", null, Map.of(), Duration.ofSeconds(2));

    long started = System.nanoTime();
    DeliveryResult result = kafka.send(delivery("d-1", "k", "{}"));
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class, r -> assertThat(r.error()).startsWith("timeout: "));
    assertThat(took).isLessThan(Duration.ofSeconds(2).plus(KafkaDestination.GRACE).plusSeconds(1));
  }

  @Test
  void aBrokerThatGoesAwayIsRetriedLaterAndDeliveredToOnceItIsBack() throws Exception {
    try (KafkaBroker own = KafkaBroker.start(dir)) {
      own.createTopic("acw", Map.of());
      KafkaDestination kafka =
          destination(own.bootstrapServers(), "acw", null, Map.of(), Duration.ofSeconds(3));
      assertThat(kafka.send(delivery("d-1", "k", "{\"n\":1}"))).isInstanceOf(Delivered.class);

      own.stop();
      long started = System.nanoTime();
      DeliveryResult whileDown = kafka.send(delivery("d-2", "k", "{\"n\":2}"));
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertThat(whileDown)
          .isInstanceOfSatisfying(
              RetryLater.class, r -> assertThat(r.error()).startsWith("timeout: "));
      assertThat(took)
          .isLessThan(Duration.ofSeconds(3).plus(KafkaDestination.GRACE).plusSeconds(1));

      own.start();
      // as the dispatcher would: the same delivery again until it is acknowledged
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> kafka.send(delivery("d-3", "k", "{\"n\":3}")) instanceof Delivered);
      List<String> written =
          own.read("acw", 2, READ).stream()
              .map(r -> KafkaBroker.header(r, "idempotency-key"))
              .toList();
      assertThat(written).startsWith("d-1").endsWith("d-3").doesNotContain("d-2");
    }
  }
}
