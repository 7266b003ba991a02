package dev.switchboard.destination.slack;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/** The {@code slack} connector: a message to an incoming webhook (docs/connectors.md). */
public final class SlackConnector implements ConnectorDescriptor<SlackDestinationSettings> {
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  @Override
  public String name() {
    return "slack";
  }

  @Override
  public List<String> keys() {
    return List.of("url");
  }

  @Override
  public Function<Common, SlackDestinationSettings> read(SettingsReader node) {
    String url = node.httpUrl("url", true);
    if (url == null) {
      return null;
    }
    URI uri = URI.create(url.trim());
    return common ->
        new SlackDestinationSettings(
            uri,
            common.timeout(),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout());
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new SlackDestination(config, context.clock());
  }
}
