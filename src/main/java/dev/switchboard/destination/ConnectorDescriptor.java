package dev.switchboard.destination;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.ConnectorType;
import dev.switchboard.config.DestinationConfig;

/**
 * One connector, whole: its {@code type} name, its keys, their checks and defaults and its typed
 * settings ({@link ConnectorType}), and how it is built. One per connector package, listed once in
 * {@link ConnectorTypes}.
 *
 * @param <S> the connector's settings record
 */
public interface ConnectorDescriptor<S extends ConnectorSettings> extends ConnectorType<S> {

  /**
   * Builds the connector of a destination whose settings this type read.
   *
   * <p>Lifecycle: called when the gateway starts, and on a reload for a destination whose
   * configuration changed; the connector is closed when it is replaced or the gateway stops.
   *
   * @throws IllegalArgumentException when a setting is unusable although the file was valid (a
   *     header the HTTP client sets itself, a JDBC URL no driver serves, …); the message never
   *     holds a URL or a credential
   */
  Destination create(DestinationConfig config, ConnectorContext context);

  /**
   * The typed settings of {@code config}, as its type's descriptor read them.
   *
   * @throws IllegalArgumentException when the configuration was not read by that type
   */
  static <S extends ConnectorSettings> S settingsOf(DestinationConfig config, Class<S> type) {
    if (!type.isInstance(config.settings())) {
      throw new IllegalArgumentException(
          "destination " + config.name() + " has no " + type.getSimpleName());
    }
    return type.cast(config.settings());
  }

  /** A base URL as configured, without the slashes it may end with (paths are appended to it). */
  static String withoutTrailingSlash(String url) {
    String stripped = url;
    while (stripped.endsWith("/")) {
      stripped = stripped.substring(0, stripped.length() - 1);
    }
    return stripped;
  }
}
