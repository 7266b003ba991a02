package dev.switchboard.destination.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.errors.BrokerNotAvailableException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.ThrottlingQuotaExceededException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/** Settings, failure mapping and secrecy of the kafka connector, without a broker. */
class KafkaDestinationTest {

  static DestinationConfig config(Map<String, String> properties, Duration timeout) {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("bootstrap_servers", "127.0.0.1:" + closedPort());
    settings.put("topic", "genesys.acw");
    settings.put("key", "conversationId");
    settings.put("properties", properties);
    return DestinationConfigs.load("kafka-acw", "kafka", settings, timeout, 4);
  }

  static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void propertiesGoToTheProducerWithTheSafetySettingsAndTimeoutsOnTop() {
    KafkaDestinationSettings settings =
        ((KafkaDestinationSettings)
            config(Map.of("compression.type", "zstd", "linger.ms", "20"), Duration.ofSeconds(10))
                .settings());

    Map<String, Object> producer = settings.producerProperties("switchboard-kafka-acw");

    assertThat(producer)
        .containsEntry("compression.type", "zstd")
        .containsEntry("linger.ms", "20")
        .containsEntry("enable.idempotence", "true")
        .containsEntry("acks", "all")
        .containsEntry("client.id", "switchboard-kafka-acw")
        .containsEntry("max.block.ms", "10000")
        .containsEntry("delivery.timeout.ms", "10000")
        .containsEntry("request.timeout.ms", "9980");
    assertThat(settings.key().text()).isEqualTo("conversationId");
  }

  @Test
  void aLongTimeoutKeepsKafkasRequestTimeout() {
    Map<String, Object> producer =
        ((KafkaDestinationSettings) config(Map.of(), Duration.ofMinutes(2)).settings())
            .producerProperties("c");

    assertThat(producer)
        .containsEntry("delivery.timeout.ms", "120000")
        .containsEntry("request.timeout.ms", "30000");
  }

  @Test
  void explicitlySafeValuesAreAccepted() {
    Map<String, String> safe = Map.of("acks", "-1", "enable.idempotence", "true");

    assertThat(
            ((KafkaDestinationSettings) config(safe, Duration.ofSeconds(5)).settings())
                .properties())
        .containsAllEntriesOf(safe);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "acks|1|acks must stay all",
        "acks|0|acks must stay all",
        "enable.idempotence|false|enable.idempotence must stay true",
        "delivery.timeout.ms|120000|configure the destination's timeout",
        "request.timeout.ms|5000|configure the destination's timeout",
        "max.block.ms|1000|configure the destination's timeout",
        "transactional.id|tx-1|does not use transactions",
        "bootstrap.servers|other:9092|configure bootstrap_servers",
        "value.serializer|org.example.Avro|set by the connector",
        "linger.ms|soon|linger.ms must be a whole number"
      })
  void aPropertyThatContradictsTheConnectorIsRefused(String name, String value, String message) {
    // refused by the loader (with its line and key), or when the connector is built (linger.ms)
    assertThatThrownBy(
            () -> new KafkaDestination(config(Map.of(name, value), Duration.ofSeconds(5))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message)
        .hasMessageNotContaining(value.length() > 3 ? value : "\u0000");
  }

  @Test
  void aPropertyTheProducerRefusesFailsTheDestinationAtStartup() {
    DestinationConfig config = config(Map.of("compression.type", "brotli"), Duration.ofSeconds(5));

    assertThatThrownBy(() -> new KafkaDestination(config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("destination kafka-acw: the Kafka producer refused its properties")
        .hasMessageContaining("compression.type");
  }

  @Test
  void aTimeoutNoLongerThanLingerIsRefused() {
    DestinationConfig config = config(Map.of("linger.ms", "5000"), Duration.ofSeconds(5));

    assertThatThrownBy(() -> new KafkaDestination(config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout must be longer than linger.ms");
  }

  @Test
  void kafkaFailuresAreClassified() {
    try (KafkaDestination kafka = new KafkaDestination(config(Map.of(), Duration.ofSeconds(1)))) {
      assertThat(kafka.outcome(new ThrottlingQuotaExceededException(1500, "quota")))
          .isEqualTo(
              new RetryLater(
                  "throttled: ThrottlingQuotaExceededException: quota",
                  0,
                  Duration.ofMillis(1500),
                  null));
      assertThat(kafka.outcome(new TimeoutException("Expiring 1 record(s)")))
          .isEqualTo(
              RetryLater.noAnswer(
                  ErrorClass.TIMEOUT,
                  "timeout: TimeoutException: Expiring 1 record(s)",
                  null,
                  null));
      assertThat(kafka.outcome(new BrokerNotAvailableException("gone")))
          .isEqualTo(
              RetryLater.noAnswer(
                  ErrorClass.CONNECTION,
                  "connection: BrokerNotAvailableException: gone",
                  null,
                  null));
      assertThat(kafka.outcome(new NotEnoughReplicasException("isr 1 < 2")))
          .isInstanceOf(RetryLater.class);
      assertThat(kafka.outcome(new UnknownServerException("broker bug")))
          .isInstanceOf(RetryLater.class);
      assertThat(kafka.outcome(new RecordTooLargeException("too large")))
          .isEqualTo(new Rejected("kafka: RecordTooLargeException: too large", 0, null));
      assertThat(kafka.outcome(new TopicAuthorizationException("no ACL")))
          .isInstanceOf(Rejected.class);
      assertThat(kafka.outcome(new SaslAuthenticationException("bad password")))
          .isInstanceOf(Rejected.class);
      assertThat(kafka.outcome(new SerializationException("cannot serialise")))
          .isInstanceOf(Rejected.class);
    }
  }

  @Test
  void saslSecretsInPropertiesAreNeverLoggedNorPutInAResult() {
    String password = "s3cr3t-Pa55word-0451";
    Map<String, String> sasl =
        Map.of(
            "security.protocol",
            "SASL_PLAINTEXT",
            "sasl.mechanism",
            "PLAIN",
            "sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"switchboard\" password=\""
                + password
                + "\";",
            "ssl.truststore.password",
            password);
    Logger kafkaLogs = (Logger) LoggerFactory.getLogger("org.apache.kafka");
    Logger ours = (Logger) LoggerFactory.getLogger("dev.switchboard.destination.kafka");
    Level kafkaLevel = kafkaLogs.getLevel();
    Level ourLevel = ours.getLevel();
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    kafkaLogs.addAppender(logs);
    ours.addAppender(logs);
    kafkaLogs.setLevel(Level.DEBUG);
    ours.setLevel(Level.DEBUG);
    DeliveryResult result;
    KafkaDestinationSettings settings;
    try (KafkaDestination kafka = new KafkaDestination(config(sasl, Duration.ofSeconds(1)))) {
      settings = kafka.settings();
      result =
          kafka.send(
              new OutboundDelivery(
                  "d-1",
                  "e-1",
                  "d-1",
                  null,
                  "{\"conversationId\":\"c-1\"}".getBytes(StandardCharsets.UTF_8),
                  Map.of(),
                  1));
    } finally {
      kafkaLogs.detachAppender(logs);
      ours.detachAppender(logs);
      kafkaLogs.setLevel(kafkaLevel);
      ours.setLevel(ourLevel);
    }

    assertThat(result).isInstanceOf(RetryLater.class);
    assertThat(result.toString()).doesNotContain(password);
    assertThat(settings.toString()).doesNotContain(password).contains("sasl.jaas.config");
    assertThat(logs.list).isNotEmpty();
    assertThat(logs.list)
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("ProducerConfig values"));
    for (ILoggingEvent event : logs.list) {
      assertThat(event.getFormattedMessage()).doesNotContain(password);
      if (event.getThrowableProxy() != null) {
        assertThat(ThrowableProxyUtil.asString(event.getThrowableProxy())).doesNotContain(password);
      }
    }
  }

  @Test
  void messagesAreRedactedOfSecretPropertyValues() {
    KafkaDestinationSettings settings =
        ((KafkaDestinationSettings)
            config(
                    Map.of(
                        "sasl.jaas.config", "x password=\"hunter22\";", "client.rack", "rack-one"),
                    Duration.ofSeconds(5))
                .settings());

    assertThat(settings.redact("parse error in x password=\"hunter22\"; near rack-one"))
        .isEqualTo("parse error in [redacted] near rack-one");
    assertThat(settings.redact("unexpected token hunter22"))
        .isEqualTo("unexpected token [redacted]");
  }
}
