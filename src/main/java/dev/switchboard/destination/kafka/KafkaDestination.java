package dev.switchboard.destination.kafka;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.expr.Expression;
import dev.switchboard.expr.ExpressionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.BrokerNotAvailableException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequiredAcksException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.ThrottlingQuotaExceededException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedCompressionTypeException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code kafka} connector: each attempt produces one record to the configured topic and waits
 * for the broker's acknowledgement. The producer is idempotent with {@code acks=all}, so a delivery
 * counts only once every in-sync replica has the record, and the client's own resends never write
 * it twice. One producer per destination, shared by all attempts (it is thread-safe and batches
 * concurrent sends), closed in {@link #close()}.
 *
 * <p>The record's key is the {@code key} expression over the outbound body, or the event's
 * partition key; equal keys land on one partition, in order. Its headers carry the delivery's
 * idempotency key and the event id, so consumers can drop the duplicates that a retry after a lost
 * acknowledgement, or a replay, produces: the producer's idempotence covers only its own resends.
 *
 * <p>Failure policy: a retriable Kafka error (timeouts, no leader, broker unavailable, not enough
 * replicas) is {@link RetryLater}; a refusal that will not change on a retry (record too large,
 * invalid topic, not authorised, bad credentials) is {@link Rejected}; an error of no known kind is
 * retried, since a retry cannot lose an event and the destination's {@code retry.max_age} bounds
 * it. Produce quotas need no handling here: the client itself holds back for the throttle time the
 * broker names, so a throttled destination only answers slower.
 */
public final class KafkaDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaDestination.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String IDEMPOTENCY_KEY_HEADER = "idempotency-key";
  static final String EVENT_ID_HEADER = "event-id";

  /**
   * Waiting this much past {@code timeout} lets the producer's own verdict (which names the cause)
   * arrive before ours, when the metadata was at hand and the record expired in the producer.
   */
  static final Duration GRACE = Duration.ofSeconds(1);

  private final String name;
  private final KafkaDestinationSettings settings;
  private final Producer<String, byte[]> producer;

  /**
   * Builds the producer; it connects lazily, so a broker that is down does not stop the gateway.
   *
   * @throws IllegalArgumentException when a setting is missing or contradicts the connector's
   *     guarantees, or the producer refuses its properties
   */
  public KafkaDestination(DestinationConfig config) {
    this.name = config.name();
    this.settings = KafkaDestinationSettings.of(config);
    try {
      this.producer =
          new KafkaProducer<>(
              settings.producerProperties("switchboard-" + name),
              new StringSerializer(),
              new ByteArraySerializer());
    } catch (KafkaException e) {
      throw new IllegalArgumentException(
          "destination " + name + ": the Kafka producer refused its properties: " + describe(e));
    }
    LOG.info(
        "kafka destination {} produces to topic {} on {}",
        name,
        settings.topic(),
        settings.bootstrapServers());
  }

  public KafkaDestinationSettings settings() {
    return settings;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    long started = System.nanoTime();
    String key;
    try {
      key = key(delivery);
    } catch (KeyFailure e) {
      return new Rejected(e.getMessage(), 0, null);
    }
    ProducerRecord<String, byte[]> record =
        new ProducerRecord<>(settings.topic(), null, key, delivery.body(), headers(delivery));
    try {
      Future<RecordMetadata> ack = producer.send(record);
      long waitNanos = settings.timeout().plus(GRACE).toNanos() - (System.nanoTime() - started);
      RecordMetadata written = ack.get(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
      return new Delivered(
          0, "partition " + written.partition() + " offset " + written.offset(), null);
    } catch (ExecutionException e) {
      return outcome(e.getCause());
    } catch (KafkaException e) {
      return outcome(e);
    } catch (java.util.concurrent.TimeoutException e) {
      // The record may still be written later: consumers drop the duplicate by its header.
      return RetryLater.noAnswer(
          ErrorClass.TIMEOUT,
          "timeout: no acknowledgement within " + settings.timeout().toMillis() + " ms",
          null,
          null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new RetryLater("interrupted while waiting for the acknowledgement", 0, null, null);
    }
  }

  @Override
  public void close() {
    // No attempt is running, so whatever the producer still holds belongs to attempts that already
    // timed out and were recorded as retries: dropping it at once loses nothing, and a broker that
    // is down does not hold up the gateway's shutdown.
    producer.close(Duration.ZERO);
  }

  /** Classifies what the producer reported for one record. */
  DeliveryResult outcome(Throwable failure) {
    String what = describe(failure);
    LOG.debug("kafka destination {}: {}", name, what);
    return switch (failure) {
      case ThrottlingQuotaExceededException throttled ->
          new RetryLater(
              "throttled: " + what, 0, Duration.ofMillis(throttled.throttleTimeMs()), null);
      case TimeoutException timeout ->
          RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout: " + what, null, null);
      case NetworkException broken ->
          RetryLater.noAnswer(ErrorClass.CONNECTION, "connection: " + what, null, null);
      case BrokerNotAvailableException down ->
          RetryLater.noAnswer(ErrorClass.CONNECTION, "connection: " + what, null, null);
      case RetriableException retriable -> new RetryLater("kafka: " + what, 0, null, null);
      case InterruptException interrupted -> new RetryLater("interrupted: " + what, 0, null, null);
      default ->
          permanent(failure)
              ? new Rejected("kafka: " + what, 0, null)
              : new RetryLater("kafka: " + what, 0, null, null);
    };
  }

  /** Refusals a retry would meet again: the record, the topic or the credentials are wrong. */
  private static boolean permanent(Throwable failure) {
    return List.of(
            RecordTooLargeException.class,
            RecordBatchTooLargeException.class,
            InvalidTopicException.class,
            AuthorizationException.class,
            AuthenticationException.class,
            SerializationException.class,
            InvalidRecordException.class,
            InvalidTimestampException.class,
            InvalidRequiredAcksException.class,
            InvalidConfigurationException.class,
            PolicyViolationException.class,
            UnsupportedCompressionTypeException.class,
            UnsupportedVersionException.class)
        .stream()
        .anyMatch(kind -> kind.isInstance(failure));
  }

  private String key(OutboundDelivery delivery) throws KeyFailure {
    Expression expression = settings.key();
    if (expression == null) {
      return delivery.partitionKey();
    }
    Object body;
    try {
      body = JSON.readValue(delivery.body(), Object.class);
    } catch (IOException e) {
      throw new KeyFailure("key: the body is not JSON, so `" + expression + "` cannot read it");
    }
    Object value;
    try {
      value = expression.evaluate(body, Map.of("eventId", delivery.eventId()));
    } catch (ExpressionException e) {
      throw new KeyFailure("key: `" + expression + "` failed on this body: " + e.getMessage());
    }
    return switch (value) {
      case null -> throw new KeyFailure("key: `" + expression + "` gave nothing for this body");
      case String text -> text;
      case Double d when d == Math.rint(d) && Math.abs(d) < 0x1p53 -> Long.toString(d.longValue());
      case Number number -> number.toString();
      case Boolean flag -> flag.toString();
      default ->
          throw new KeyFailure(
              "key: `" + expression + "` gave a list or an object; expected text or a number");
    };
  }

  private static List<Header> headers(OutboundDelivery delivery) {
    List<Header> headers = new ArrayList<>(2);
    if (delivery.idempotencyKey() != null) {
      headers.add(new RecordHeader(IDEMPOTENCY_KEY_HEADER, utf8(delivery.idempotencyKey())));
    }
    if (delivery.eventId() != null) {
      headers.add(new RecordHeader(EVENT_ID_HEADER, utf8(delivery.eventId())));
    }
    return headers;
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private String describe(Throwable failure) {
    String message = settings.redact(failure.getMessage());
    String kind = failure.getClass().getSimpleName();
    return message == null || message.isBlank() ? kind : kind + ": " + message;
  }

  /** Why a record key could not be made; the delivery is rejected with this message. */
  private static final class KeyFailure extends Exception {
    KeyFailure(String message) {
      super(message, null, false, false);
    }
  }
}
