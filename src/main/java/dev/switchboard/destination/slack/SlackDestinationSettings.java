package dev.switchboard.destination.slack;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.RateLimit;
import java.net.URI;
import java.time.Duration;

/**
 * The {@code slack} connector's settings, read by {@link SlackConnector} when the file is loaded.
 *
 * <p>An incoming webhook's URL is its only credential ({@code /services/T…/B…/<secret>}): nothing
 * here puts {@link #url()} into a message; {@link #safeTarget()} keeps the host only.
 *
 * @param timeout request timeout: from the sending of the request to the end of the answer
 */
public record SlackDestinationSettings(URI url, Duration timeout, Duration connectTimeout)
    implements ConnectorSettings {

  /**
   * Slack posts about one message a second per incoming webhook and answers 429 beyond a short
   * burst (docs/connectors.md), so a {@code slack} destination without a {@code rate_limit} keeps
   * to that instead of learning it from 429s.
   */
  static final RateLimit DEFAULT_RATE = new RateLimit(1, Duration.ofSeconds(1));

  @Override
  public RateLimit defaultRateLimit() {
    return DEFAULT_RATE;
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
