package dev.switchboard.config;

import java.util.Set;

/**
 * A connector's own settings, typed once by its {@link ConnectorType} when the file is loaded and
 * carried in {@link DestinationConfig#settings()}: a record per connector, beside its connector
 * (e.g. {@code HttpDestinationSettings}). Compared by value, so a reload that leaves a
 * destination's keys alone keeps its running connector. Its {@code toString} never shows a URL or a
 * credential.
 */
public interface ConnectorSettings {

  /**
   * The rate limit the destination keeps when it writes no {@code rate_limit}: what its target
   * documents (Slack's one message a second, an {@code http} preset's rate); null for none.
   */
  default RateLimit defaultRateLimit() {
    return null;
  }

  /**
   * The {@code $variables} the connector's templates read from a delivery's bindings (an {@code
   * http} destination's {@code url:} and {@code headers:} placeholders): the loader checks that
   * every route to the destination gives each of them. Empty for a connector without templates.
   */
  default Set<String> templateVariables() {
    return Set.of();
  }

  /**
   * Whether a route's {@code method:} changes this destination's requests (an {@code http}
   * destination, a {@code genesys-cloud} {@code request}); the loader refuses the key on a route to
   * any other, where it would do nothing.
   */
  default boolean takesRouteMethod() {
    return false;
  }
}
