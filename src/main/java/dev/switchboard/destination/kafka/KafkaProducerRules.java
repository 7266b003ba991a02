package dev.switchboard.destination.kafka;

import java.util.Locale;
import java.util.Map;

/**
 * What a {@code kafka} destination's {@code properties} may not say: the connector's guarantees
 * ({@code enable.idempotence=true}, {@code acks=all}) and the settings it derives itself. Checked
 * when the file is loaded ({@link KafkaConnector}), with the file, line and key.
 */
final class KafkaProducerRules {
  private static final Map<String, String> OWNED =
      Map.of(
          "bootstrap.servers", "bootstrap_servers",
          "key.serializer", "key (the key is text)",
          "value.serializer", "the route's transform (the value is JSON)",
          "delivery.timeout.ms", "the destination's timeout",
          "request.timeout.ms", "the destination's timeout",
          "max.block.ms", "the destination's timeout",
          "transactional.id", "nothing: the connector does not use transactions");

  private KafkaProducerRules() {}

  /** Why the property may not be set so, or null when it may. */
  static String contradiction(String name, String value) {
    String normalised = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    if (name.equals("enable.idempotence") && !normalised.equals("true")) {
      return "properties: enable.idempotence must stay true: without it a retried send may write"
          + " the record twice or out of order";
    }
    if (name.equals("acks") && !normalised.equals("all") && !normalised.equals("-1")) {
      return "properties: acks must stay all: a delivery counts only once every in-sync replica"
          + " has the record";
    }
    String instead = OWNED.get(name);
    return instead == null
        ? null
        : "properties: " + name + " is set by the connector; configure " + instead;
  }
}
