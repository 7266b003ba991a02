package dev.switchboard.testing;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.RateLimit;
import dev.switchboard.config.SwitchboardConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A destination's or enricher's configuration as the loader reads it: the keys are written to a
 * file and loaded, so a connector under test gets the settings its type's descriptor typed, with
 * its defaults.
 */
public final class DestinationConfigs {
  private DestinationConfigs() {}

  /**
   * @param keys the connector's own keys (and {@code connect_timeout}), as plain values
   * @param timeout the destination's {@code timeout}, or null for the default
   * @throws IllegalArgumentException with the problems' messages (joined by "; ") when the loader
   *     refuses the keys
   */
  public static DestinationConfig load(
      String name, String type, Map<String, ?> keys, Duration timeout, int concurrency) {
    Map<String, Object> destination = new LinkedHashMap<>();
    destination.put("type", type);
    if (timeout != null) {
      destination.put("timeout", timeout.toMillis() + "ms");
    }
    destination.put("concurrency", Integer.toString(concurrency));
    keys.forEach((key, value) -> destination.put(key, literal(value)));
    return load(Map.of("destinations", Map.of(name, destination))).destinations().get(name);
  }

  private static SwitchboardConfig load(Map<String, Object> sections) {
    Map<String, Object> file = new LinkedHashMap<>();
    file.put("sources", Map.of("calls", Map.of("verify", Map.of("scheme", "none"))));
    file.putAll(sections);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    try {
      Path path = Files.createTempFile("switchboard", ".yaml");
      try {
        Files.writeString(path, new Yaml(options).dump(file));
        return ConfigLoader.load(path, Map.of());
      } finally {
        Files.deleteIfExists(path);
      }
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          e.problems().stream().map(ConfigProblem::message).collect(Collectors.joining("; ")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * An enricher's configuration as the loader reads it.
   *
   * @param keys the enricher's own keys, as plain values
   * @param rate its {@code rate_limit}, or null
   * @throws IllegalArgumentException with the problems' messages when the loader refuses the keys
   */
  public static EnricherConfig enricher(
      String name, String type, Map<String, ?> keys, RateLimit rate) {
    Map<String, Object> enricher = new LinkedHashMap<>();
    enricher.put("type", type);
    if (rate != null) {
      String unit =
          switch ((int) rate.per().toSeconds()) {
            case 1 -> "second";
            case 60 -> "minute";
            default -> "hour";
          };
      enricher.put("rate_limit", rate.count() + "/" + unit);
    }
    keys.forEach((key, value) -> enricher.put(key, literal(value)));
    return load(Map.of("enrichers", Map.of(name, enricher))).enrichers().get(name);
  }

  /** Text as written, never read as a {@code ${…}} reference. */
  private static Object literal(Object value) {
    return switch (value) {
      case String text -> text.replace("${", "$${");
      case List<?> list -> list.stream().map(DestinationConfigs::literal).toList();
      case Map<?, ?> map -> {
        Map<Object, Object> copy = new LinkedHashMap<>();
        map.forEach((k, v) -> copy.put(k, literal(v)));
        yield copy;
      }
      default -> value;
    };
  }
}
