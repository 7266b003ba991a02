package dev.switchboard.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code alerts:}: which operational events the gateway emits into its built-in {@code switchboard}
 * source, and how often (docs/operational-events.md). Every kind has a default; a file without
 * {@code alerts:} gets them all.
 *
 * @param kinds the settings of each kind, by its name ({@code delivery.dead}, …); every kind of
 *     {@link #KINDS} is present
 */
public record AlertsConfig(Map<String, Kind> kinds) {

  /**
   * One kind's settings.
   *
   * @param enabled whether it is emitted at all
   * @param quiet after one is emitted for a subject (a destination, a source), how long more of the
   *     kind for that subject are held back and counted, then summed up in one summary event
   * @param threshold what makes it an event: rejections a minute for {@code
   *     source.rejections_spike}, deliveries waiting for {@code backlog.high}, dead letters a
   *     minute sent one by one for {@code delivery.dead} (the rest are batched); unused by other
   *     kinds
   */
  public record Kind(boolean enabled, Duration quiet, long threshold) {}

  /** Every kind the gateway emits, with its defaults. */
  public static final Map<String, Kind> KINDS = defaults();

  public AlertsConfig {
    kinds = Map.copyOf(kinds);
  }

  /** The defaults, as with no {@code alerts:} section. */
  public static AlertsConfig defaultConfig() {
    return new AlertsConfig(KINDS);
  }

  public Kind kind(String name) {
    Kind kind = kinds.get(name);
    if (kind == null) {
      throw new IllegalArgumentException("no operational event kind " + name);
    }
    return kind;
  }

  private static Map<String, Kind> defaults() {
    Duration quarter = Duration.ofMinutes(15);
    Map<String, Kind> kinds = new LinkedHashMap<>();
    kinds.put("delivery.dead", new Kind(true, Duration.ZERO, 10));
    kinds.put("destination.breaker_opened", new Kind(true, quarter, 0));
    kinds.put("destination.held", new Kind(true, quarter, 0));
    kinds.put("destination.credentials_refused", new Kind(true, Duration.ofHours(1), 0));
    kinds.put("source.refusing", new Kind(true, quarter, 0));
    kinds.put("source.rejections_spike", new Kind(true, quarter, 20));
    kinds.put("quarantine.added", new Kind(true, Duration.ofMinutes(5), 0));
    kinds.put("backlog.high", new Kind(true, quarter, 10_000));
    kinds.put("store.unwritable", new Kind(true, quarter, 0));
    kinds.put("source.disconnected", new Kind(true, quarter, 0));
    return Map.copyOf(kinds);
  }

  /** The kinds as written under {@code alerts:}, in the documented order. */
  static final List<String> NAMES =
      List.of(
          "delivery.dead",
          "destination.breaker_opened",
          "destination.held",
          "destination.credentials_refused",
          "source.refusing",
          "source.rejections_spike",
          "quarantine.added",
          "backlog.high",
          "store.unwritable",
          "source.disconnected");

  static final List<String> KIND_KEYS = List.of("enabled", "quiet", "threshold");

  /** Reads {@code alerts:}; every problem is reported on the reader. */
  static AlertsConfig read(YamlNodeReader alerts) {
    if (!alerts.present()) {
      return defaultConfig();
    }
    alerts.checkKeys(NAMES);
    Map<String, Kind> kinds = new LinkedHashMap<>(KINDS);
    alerts
        .entries()
        .forEach(
            (name, node) -> {
              Kind d = KINDS.get(name);
              if (d == null) {
                return; // reported by checkKeys
              }
              node.checkKeys(KIND_KEYS);
              boolean enabled = node.bool("enabled", d.enabled());
              Duration quiet = node.duration("quiet", d.quiet());
              long threshold = node.number("threshold", d.threshold(), 0, 100_000_000);
              kinds.put(name, new Kind(enabled, quiet == null ? d.quiet() : quiet, threshold));
            });
    return new AlertsConfig(kinds);
  }
}
