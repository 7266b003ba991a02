package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code telemetry:} section: off by default, its keys and their defaults, headers by env. */
class TelemetrySectionTest {
  static final String SOURCES = "sources:\n  calls:\n    verify: { scheme: none }\n";

  @TempDir Path dir;

  SwitchboardConfig load(String yaml, Map<String, String> env) throws Exception {
    Path file = dir.resolve("switchboard.yaml");
    Files.writeString(file, yaml + SOURCES);
    return ConfigLoader.load(file, env);
  }

  @Test
  void noSectionIsNoTracing() throws Exception {
    TelemetryConfig telemetry = load("", Map.of()).telemetry();
    assertThat(telemetry).isEqualTo(TelemetryConfig.OFF);
    assertThat(telemetry.enabled()).isFalse();
  }

  @Test
  void anEmptyEndpointLeavesTracingOff() throws Exception {
    assertThat(
            load("telemetry: { otlp_endpoint: \"${OTLP_ENDPOINT:-}\" }\n", Map.of())
                .telemetry()
                .enabled())
        .isFalse();
  }

  @Test
  void everyKeyIsRead() throws Exception {
    TelemetryConfig telemetry =
        load(
                """
                telemetry:
                  otlp_endpoint: http://127.0.0.1:4318
                  service_name: switchboard-eu
                  sample_ratio: 0.25
                  export_interval: 2s
                  headers:
                    x-api-key: ${OTLP_KEY}
                """,
                Map.of("OTLP_KEY", "k-123"))
            .telemetry();
    assertThat(telemetry.enabled()).isTrue();
    assertThat(telemetry.otlpEndpoint()).isEqualTo(URI.create("http://127.0.0.1:4318"));
    assertThat(telemetry.serviceName()).isEqualTo("switchboard-eu");
    assertThat(telemetry.sampleRatio()).isEqualTo(0.25);
    assertThat(telemetry.exportInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(telemetry.headers()).containsExactly(Map.entry("x-api-key", "k-123"));
    assertThat(telemetry.toString()).doesNotContain("k-123");
  }

  @Test
  void defaults() throws Exception {
    TelemetryConfig telemetry =
        load("telemetry: { otlp_endpoint: \"https://otel.example.com\" }\n", Map.of()).telemetry();
    assertThat(telemetry.serviceName()).isEqualTo("switchboard");
    assertThat(telemetry.sampleRatio()).isEqualTo(1.0);
    assertThat(telemetry.exportInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(telemetry.headers()).isEmpty();
  }

  @Test
  void aReloadKeepsTheRunningTelemetryAndSaysARestartTakesTheNewOne() throws Exception {
    SwitchboardConfig running = load("", Map.of());
    SwitchboardConfig loaded =
        load("telemetry: { otlp_endpoint: \"http://127.0.0.1:4318\" }\n", Map.of());
    assertThat(ReloadResult.between(running, loaded).warnings())
        .contains("telemetry changed: takes effect after a restart");
    assertThat(ReloadResult.applicable(running, loaded).telemetry()).isEqualTo(TelemetryConfig.OFF);
  }

  @Test
  void aDestinationSendsTraceparentUnlessItSaysNot() throws Exception {
    SwitchboardConfig config =
        load(
            """
            routes:
              a: { from: calls, to: on }
              b: { from: calls, to: quiet }
            destinations:
              on: { type: http, url: "http://127.0.0.1:9/a" }
              quiet: { type: http, url: "http://127.0.0.1:9/b", traceparent: false }
            """,
            Map.of());
    assertThat(config.destinations().get("on").traceparent()).isTrue();
    assertThat(config.destinations().get("quiet").traceparent()).isFalse();
  }
}
