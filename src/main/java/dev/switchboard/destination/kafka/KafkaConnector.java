package dev.switchboard.destination.kafka;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import dev.switchboard.expr.Expression;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The {@code kafka} connector: one record per delivery, idempotent (docs/connectors.md). */
public final class KafkaConnector implements ConnectorDescriptor<KafkaDestinationSettings> {

  @Override
  public String name() {
    return "kafka";
  }

  @Override
  public List<String> keys() {
    return List.of("bootstrap_servers", "topic", "key", "properties");
  }

  @Override
  public Function<Common, KafkaDestinationSettings> read(SettingsReader node) {
    String servers = node.required("bootstrap_servers");
    String topic = node.required("topic");
    Expression key = node.expression("key");
    boolean keyUsable = key != null || !node.has("key");
    SettingsReader propertiesNode = node.mapping("properties");
    Map<String, String> properties = node.stringMap("properties");
    boolean propertiesUsable = true;
    for (Map.Entry<String, String> property : properties.entrySet()) {
      String why = KafkaProducerRules.contradiction(property.getKey(), property.getValue());
      if (why != null) {
        propertiesNode.problem(property.getKey(), why);
        propertiesUsable = false;
      }
    }
    if (servers == null || topic == null || !keyUsable || !propertiesUsable) {
      return null;
    }
    return common ->
        new KafkaDestinationSettings(
            servers.trim(), topic.trim(), key, properties, common.timeout());
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new KafkaDestination(config);
  }
}
