package dev.switchboard.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * The whole validated configuration, as loaded from one YAML file by {@link ConfigLoader}. Maps
 * keep the file's order. Every expression in it has compiled; every reference resolves. The
 * built-in source {@code switchboard} ({@link OperationalSource}) is not in {@link #sources()}.
 */
public record SwitchboardConfig(
    Path file,
    ServerConfig server,
    StoreConfig store,
    AdminConfig admin,
    Map<String, SourceConfig> sources,
    Map<String, EnricherConfig> enrichers,
    Map<String, RouteConfig> routes,
    Map<String, DestinationConfig> destinations,
    TelemetryConfig telemetry,
    AlertsConfig alerts) {

  public SwitchboardConfig {
    telemetry = telemetry == null ? TelemetryConfig.OFF : telemetry;
    alerts = alerts == null ? AlertsConfig.defaultConfig() : alerts;
  }

  /** A configuration without a {@code telemetry:} or {@code alerts:} section. */
  public SwitchboardConfig(
      Path file,
      ServerConfig server,
      StoreConfig store,
      AdminConfig admin,
      Map<String, SourceConfig> sources,
      Map<String, EnricherConfig> enrichers,
      Map<String, RouteConfig> routes,
      Map<String, DestinationConfig> destinations) {
    this(
        file,
        server,
        store,
        admin,
        sources,
        enrichers,
        routes,
        destinations,
        TelemetryConfig.OFF,
        AlertsConfig.defaultConfig());
  }
}
