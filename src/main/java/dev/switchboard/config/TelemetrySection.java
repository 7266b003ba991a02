package dev.switchboard.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code telemetry:} into a {@link TelemetryConfig}; absent is {@link TelemetryConfig#OFF}.
 */
final class TelemetrySection {
  static final List<String> KEYS =
      List.of("otlp_endpoint", "service_name", "sample_ratio", "headers", "export_interval");

  private TelemetrySection() {}

  static TelemetryConfig read(YamlNodeReader telemetry) {
    if (!telemetry.present()) {
      return TelemetryConfig.OFF;
    }
    telemetry.checkKeys(KEYS);
    URI endpoint = endpoint(telemetry);
    String serviceName = telemetry.string("service_name", TelemetryConfig.DEFAULT_SERVICE_NAME);
    if (serviceName == null || serviceName.isBlank()) {
      telemetry.problem("service_name", "service_name must not be empty");
      serviceName = TelemetryConfig.DEFAULT_SERVICE_NAME;
    }
    double ratio = ratio(telemetry);
    Map<String, String> headers = telemetry.stringMap("headers");
    headers.forEach(
        (name, value) -> {
          if (value.isEmpty() || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            // never the value: it is usually a key
            telemetry
                .mapping("headers")
                .problem(name, "header " + name + " is empty or holds a line break");
          }
        });
    Duration interval =
        telemetry.duration("export_interval", TelemetryConfig.DEFAULT_EXPORT_INTERVAL);
    if (interval.isZero()) {
      telemetry.problem("export_interval", "export_interval must be longer than 0");
      interval = TelemetryConfig.DEFAULT_EXPORT_INTERVAL;
    }
    return new TelemetryConfig(endpoint, serviceName, ratio, headers, interval);
  }

  /** An empty value (e.g. {@code ${OTLP_ENDPOINT:-}}) leaves tracing off, like an absent one. */
  private static URI endpoint(YamlNodeReader telemetry) {
    String text = telemetry.string("otlp_endpoint");
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      URI uri = new URI(text.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        telemetry.problem(
            "otlp_endpoint",
            "otlp_endpoint must be an http:// or https:// URL, e.g. http://127.0.0.1:4318");
        return null;
      }
      return uri;
    } catch (URISyntaxException e) {
      telemetry.problem("otlp_endpoint", "otlp_endpoint is not a URL");
      return null;
    }
  }

  private static double ratio(YamlNodeReader telemetry) {
    String text = telemetry.string("sample_ratio");
    if (text == null) {
      return 1.0;
    }
    try {
      double ratio = Double.parseDouble(text.trim());
      if (ratio >= 0 && ratio <= 1) {
        return ratio;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    telemetry.problem("sample_ratio", "sample_ratio must be a number from 0 to 1, e.g. 0.1");
    return 1.0;
  }
}
