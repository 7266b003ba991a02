package dev.switchboard.destination.jira;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

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
  public Function<Common, JiraDestinationSettings> read(SettingsReader node) {
    String base = node.httpUrl("base_url", true);
    String email = node.required("email");
    String token = node.required("api_token");
    String project = node.required("project");
    Duration searchLag = node.duration("search_lag", JiraDestinationSettings.DEFAULT_SEARCH_LAG);
    String issueType = node.string("issue_type", "Task");
    if (base == null || email == null || token == null || project == null) {
      return null;
    }
    URI baseUrl = URI.create(ConnectorDescriptor.withoutTrailingSlash(base.trim()));
    return common ->
        new JiraDestinationSettings(
            baseUrl,
            email,
            token,
            project,
            issueType,
            searchLag,
            common.timeout(),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout());
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new JiraDestination(config, context.clock());
  }
}
