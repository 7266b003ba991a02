package dev.switchboard.destination.slack;

import dev.switchboard.config.ConfigValues;
import dev.switchboard.config.DestinationConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * The {@code slack} connector's settings, read from a checked {@link DestinationConfig}.
 *
 * <p>An incoming webhook's URL is its only credential ({@code /services/T…/B…/<secret>}): nothing
 * here puts {@link #url()} into a message; {@link #safeTarget()} keeps the host only.
 *
 * @param timeout request timeout: from the sending of the request to the end of the answer
 */
public record SlackDestinationSettings(URI url, Duration timeout, Duration connectTimeout) {

  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Reads the settings the loader checked; also accepts a hand-built config (tests).
   *
   * @throws IllegalArgumentException when the URL is missing or malformed; the message never holds
   *     it
   */
  public static SlackDestinationSettings from(DestinationConfig config) {
    Object url = config.settings().get("url");
    if (!(url instanceof String text)) {
      throw new IllegalArgumentException("url is required");
    }
    ConfigValues.checkHttpUrl(text);
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("url: expected an http:// or https:// URL with a host");
    }
    Duration connectTimeout =
        config.settings().get("connect_timeout") instanceof String value
            ? ConfigValues.duration(value)
            : DEFAULT_CONNECT_TIMEOUT;
    Duration timeout = config.timeout() == null ? DEFAULT_TIMEOUT : config.timeout();
    return new SlackDestinationSettings(uri, timeout, connectTimeout);
  }

  /**
   * {@code scheme://host[:port]/…}: the path and query are the credential, so both are left out.
   */
  public String safeTarget() {
    String port = url.getPort() < 0 ? "" : ":" + url.getPort();
    return url.getScheme() + "://" + url.getHost() + port + "/…";
  }

  /** Never the URL: a record's default would print it. */
  @Override
  public String toString() {
    return "SlackDestinationSettings[" + safeTarget() + ", timeout=" + timeout + "]";
  }
}
