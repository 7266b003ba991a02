package dev.switchboard.config;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code telemetry:} section (docs/telemetry.md): where traces go. Tracing is off unless {@code
 * otlpEndpoint} is set.
 *
 * @param otlpEndpoint the collector's OTLP/HTTP base URL (spans go to {@code /v1/traces} under it,
 *     unless it already names that path); null turns tracing off
 * @param serviceName the {@code service.name} of every span
 * @param sampleRatio the share of new traces recorded, 0 to 1; a trace a sender started follows the
 *     sender's decision
 * @param headers sent with every export (a collector's API key: write it as {@code ${ENV}}); never
 *     logged
 * @param exportInterval how long finished spans wait to be sent in one batch
 */
public record TelemetryConfig(
    URI otlpEndpoint,
    String serviceName,
    double sampleRatio,
    Map<String, String> headers,
    Duration exportInterval) {

  public static final String DEFAULT_SERVICE_NAME = "switchboard";
  public static final Duration DEFAULT_EXPORT_INTERVAL = Duration.ofSeconds(5);

  /** No {@code telemetry:} section: no tracing. */
  public static final TelemetryConfig OFF =
      new TelemetryConfig(null, DEFAULT_SERVICE_NAME, 1.0, Map.of(), DEFAULT_EXPORT_INTERVAL);

  public TelemetryConfig {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  public boolean enabled() {
    return otlpEndpoint != null;
  }

  /** Names the header keys, never their values (an API key). */
  @Override
  public String toString() {
    String endpoint =
        otlpEndpoint == null
            ? "none"
            : otlpEndpoint.getScheme()
                + "://"
                + otlpEndpoint.getHost()
                + (otlpEndpoint.getPort() < 0 ? "" : ":" + otlpEndpoint.getPort())
                + (otlpEndpoint.getRawPath() == null ? "" : otlpEndpoint.getRawPath());
    // never the user info or the query: a collector may take its key there
    return "TelemetryConfig[otlpEndpoint="
        + endpoint
        + ", serviceName="
        + serviceName
        + ", sampleRatio="
        + sampleRatio
        + ", headers="
        + headers.keySet()
        + ", exportInterval="
        + exportInterval
        + "]";
  }
}
