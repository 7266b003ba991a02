package dev.switchboard.destination.jira;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/** The {@code jira} connector: one issue per delivery in Jira Cloud (docs/connectors.md). */
public final class JiraConnector implements ConnectorDescriptor<JiraDestinationSettings> {
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  @Override
  public String name() {
    return "jira";
  }

  @Override
  public List<String> keys() {
    return List.of("base_url", "email", "api_token", "project", "issue_type", "search_lag");
  }

  @Override
  public JiraDestinationSettings read(SettingsReader node, Common common) {
    String base = node.httpUrl("base_url", true);
    String email = node.required("email");
    String token = node.required("api_token");
    String project = node.required("project");
    Duration searchLag = node.duration("search_lag", JiraDestinationSettings.DEFAULT_SEARCH_LAG);
    if (base == null || email == null || token == null || project == null) {
      return null;
    }
    base = base.trim();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    Duration connect = common.connectTimeout();
    return new JiraDestinationSettings(
        URI.create(base),
        email,
        token,
        project,
        node.string("issue_type", "Task"),
        searchLag,
        common.timeout(),
        connect == null ? DEFAULT_CONNECT_TIMEOUT : connect);
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new JiraDestination(config, context.clock());
  }
}
