package dev.switchboard.destination.kafka;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.expr.Expression;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

/**
 * The {@code kafka} connector's settings, read by {@link KafkaConnector} when the file is loaded.
 *
 * <p>{@code properties} go to the producer as they are, except the settings the connector's
 * guarantees rest on: the producer is always idempotent with {@code acks=all}, and its timeouts
 * follow the destination's {@code timeout}. A property that contradicts them is refused when the
 * file is loaded ({@link KafkaProducerRules}), rather than silently overridden: someone who wrote
 * {@code acks: 1} expects it to hold, and should learn that it does not.
 *
 * @param key JSONata over the outbound body giving the record key, or null for the event's
 *     partition key
 * @param properties the configured producer properties, in configuration order; may hold secrets
 *     ({@code sasl.jaas.config}), so never logged and left out of {@link #toString()}
 * @param timeout how long one attempt may take, from the send to the broker's acknowledgement
 */
public record KafkaDestinationSettings(
    String bootstrapServers,
    String topic,
    Expression key,
    Map<String, String> properties,
    Duration timeout)
    implements ConnectorSettings {

  /** Kafka's own default {@code linger.ms} (since 4.0). */
  private static final long DEFAULT_LINGER_MS = 5;

  /** Kafka's own default {@code request.timeout.ms}. */
  private static final long DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

  /** Property names that are credentials even where Kafka does not type them as passwords. */
  private static final Pattern SECRET_NAME =
      Pattern.compile(".*(password|secret|jaas|token|credential).*");

  private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");

  /** Values shorter than this are not searched for in messages: they are flags, not secrets. */
  private static final int MIN_SECRET_LENGTH = 4;

  /** What the connector sets itself, and where to configure it instead. */
  public KafkaDestinationSettings {
    properties = Map.copyOf(properties);
  }

  /**
   * The settings of a destination the loader read as {@code kafka}, refused when its timeout is no
   * longer than {@code linger.ms} (checked when the connector is built, as it always was).
   *
   * @throws IllegalArgumentException when the settings are unusable; the message never holds a
   *     property value
   */
  static KafkaDestinationSettings of(DestinationConfig config) {
    KafkaDestinationSettings settings =
        ConnectorDescriptor.settingsOf(config, KafkaDestinationSettings.class);
    long lingerMs = lingerMs(settings.properties);
    if (settings.timeout.toMillis() <= lingerMs) {
      throw new IllegalArgumentException(
          "timeout must be longer than linger.ms (" + lingerMs + " ms)");
    }
    return settings;
  }

  /**
   * What the producer is built from: the configured properties, then the connector's own settings.
   * The producer waits at most {@code timeout} for metadata ({@code max.block.ms}) and gives up on
   * a record {@code timeout} after the send ({@code delivery.timeout.ms}, which Kafka requires to
   * be at least {@code linger.ms + request.timeout.ms}).
   */
  public Map<String, Object> producerProperties(String clientId) {
    Map<String, Object> producer = new LinkedHashMap<>(properties);
    long timeoutMs = timeout.toMillis();
    producer.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    producer.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    producer.put(ProducerConfig.ACKS_CONFIG, "all");
    producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeoutMs));
    producer.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(timeoutMs));
    long requestMs = Math.min(DEFAULT_REQUEST_TIMEOUT_MS, timeoutMs - lingerMs(properties));
    producer.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(requestMs));
    return producer;
  }

  /**
   * Replaces the values of secret properties in {@code text} (an exception message from the client)
   * by {@code [redacted]}, and the quoted parts of them too ({@code password="..."} inside {@code
   * sasl.jaas.config}), since a parse error may quote only those.
   */
  public String redact(String text) {
    if (text == null) {
      return null;
    }
    String redacted = text;
    for (Map.Entry<String, String> property : properties.entrySet()) {
      if (!isSecret(property.getKey())) {
        continue;
      }
      List<String> secrets = new ArrayList<>();
      secrets.add(property.getValue());
      Matcher quoted = QUOTED.matcher(property.getValue());
      while (quoted.find()) {
        secrets.add(quoted.group(1));
      }
      for (String secret : secrets) {
        if (secret.length() >= MIN_SECRET_LENGTH) {
          redacted = redacted.replace(secret, "[redacted]");
        }
      }
    }
    return redacted;
  }

  /** Names only: property values may be credentials. */
  @Override
  public String toString() {
    return "KafkaDestinationSettings["
        + bootstrapServers
        + ", topic="
        + topic
        + ", key="
        + key
        + ", properties="
        + List.copyOf(properties.keySet())
        + ", timeout="
        + timeout
        + "]";
  }

  static boolean isSecret(String name) {
    ConfigDef.ConfigKey known = ProducerConfig.configDef().configKeys().get(name);
    return (known != null && known.type == ConfigDef.Type.PASSWORD)
        || SECRET_NAME.matcher(name.toLowerCase(Locale.ROOT)).matches();
  }

  private static long lingerMs(Map<String, String> properties) {
    String linger = properties.get(ProducerConfig.LINGER_MS_CONFIG);
    if (linger == null) {
      return DEFAULT_LINGER_MS;
    }
    try {
      return Math.max(0, Long.parseLong(linger.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("properties: linger.ms must be a whole number of ms");
    }
  }
}
