package dev.switchboard.config;

import dev.switchboard.config.DestinationConfig.Retry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads {@code destinations.<name>}. The keys every connector has are typed into {@link
 * DestinationConfig} here; the connector's own keys are read by its {@link ConnectorType} (keys,
 * checks, defaults) into its typed settings, once.
 */
final class DestinationSection {
  /** Typed into the record. */
  static final Set<String> TYPED_KEYS =
      Set.of(
          "type",
          "retry",
          "rate_limit",
          "concurrency",
          "timeout",
          "circuit_breaker",
          "traceparent");

  /** Common to every type, handed to the connector ({@link ConnectorType.Common}). */
  static final List<String> SETTINGS_KEYS = List.of("connect_timeout");

  static final List<String> RETRY_KEYS =
      List.of("initial", "max_delay", "max_attempts", "max_age", "retry_on", "max_server_delay");
  static final List<String> BREAKER_KEYS = List.of("failures", "open_for");

  static final int DEFAULT_CONCURRENCY = 16;
  static final Duration DEFAULT_TIMEOUT = DestinationConfig.DEFAULT_TIMEOUT;

  private final Map<String, ConnectorType<?>> types = new LinkedHashMap<>();

  DestinationSection(List<ConnectorType<?>> types) {
    types.forEach(type -> this.types.put(type.name(), type));
  }

  Map<String, DestinationConfig> read(YamlNodeReader destinations) {
    Map<String, DestinationConfig> result = new LinkedHashMap<>();
    destinations
        .namedMappings()
        .forEach((name, node) -> result.put(name, readDestination(name, node)));
    return result;
  }

  private DestinationConfig readDestination(String name, YamlNodeReader node) {
    List<String> names = List.copyOf(types.keySet());
    String typeName = node.has("type") ? node.oneOf("type", "destination type", names, null) : null;
    if (!node.has("type")) {
      node.problem("type", "type is required: one of " + String.join(", ", names));
    }
    ConnectorType<?> type = typeName == null ? null : types.get(typeName);
    // every value is substituted first, so that a variable that is not set is reported wherever
    // it is used, even under a key the type does not know or in a destination of no known type
    PlainValues.mapOf(node, TYPED_KEYS);
    if (type != null) {
      List<String> known = new ArrayList<>(TYPED_KEYS);
      known.addAll(SETTINGS_KEYS);
      known.addAll(type.keys());
      node.checkKeys(known);
    }
    Function<ConnectorType.Common, ? extends ConnectorSettings> finish =
        type == null ? null : type.read(new SettingsReader(node));
    Duration connectTimeout = node.duration("connect_timeout", null);
    RateLimit rateLimit = node.rateLimit("rate_limit");
    Retry retry = readRetry(node.mapping("retry"));
    int concurrency = node.integer("concurrency", DEFAULT_CONCURRENCY, 1, 10_000);
    Duration timeout = positive(node, "timeout", DEFAULT_TIMEOUT);
    DestinationConfig.Breaker breaker = readBreaker(node.mapping("circuit_breaker"));
    boolean traceparent = node.bool("traceparent", true);
    ConnectorSettings settings =
        finish == null
            ? null
            : finish.apply(new ConnectorType.Common(timeout, concurrency, connectTimeout));
    if (rateLimit == null && !node.has("rate_limit") && settings != null) {
      rateLimit = settings.defaultRateLimit();
    }
    return new DestinationConfig(
        name, typeName, settings, retry, rateLimit, concurrency, timeout, breaker, traceparent);
  }

  private static DestinationConfig.Breaker readBreaker(YamlNodeReader breaker) {
    DestinationConfig.Breaker defaults = DestinationConfig.Breaker.DEFAULT;
    if (!breaker.present()) {
      return defaults;
    }
    breaker.checkKeys(BREAKER_KEYS);
    return new DestinationConfig.Breaker(
        breaker.integer("failures", defaults.failures(), 1, 1_000_000),
        positive(breaker, "open_for", defaults.openFor()));
  }

  private static Retry readRetry(YamlNodeReader retry) {
    Retry defaults = Retry.DEFAULT;
    if (!retry.present()) {
      return defaults;
    }
    retry.checkKeys(RETRY_KEYS);
    Duration initial = positive(retry, "initial", defaults.initial());
    Duration maxDelay = positive(retry, "max_delay", defaults.maxDelay());
    if (maxDelay.compareTo(initial) < 0) {
      retry.problem("max_delay", "max_delay must not be shorter than initial");
    }
    // a Retry-After or rate-limit reset longer than this is cut to it (by default max_delay): a
    // destination that asks for years is tried again after this, and an operator can resume it
    Duration maxServerDelay = positive(retry, "max_server_delay", maxDelay);
    return new Retry(
        initial,
        maxDelay,
        retry.integer("max_attempts", defaults.maxAttempts(), 0, 1_000_000),
        positive(retry, "max_age", defaults.maxAge()),
        readStatuses(retry),
        maxServerDelay);
  }

  private static Set<Integer> readStatuses(YamlNodeReader retry) {
    Set<Integer> statuses = new java.util.TreeSet<>();
    for (String text : retry.strings("retry_on")) {
      try {
        int status = Integer.parseInt(text.trim());
        if (status < 400 || status > 499) {
          retry.problem(
              "retry_on", "retry_on lists 4xx statuses (5xx are retried anyway): " + text);
        } else {
          statuses.add(status);
        }
      } catch (NumberFormatException e) {
        retry.problem("retry_on", "bad status \"" + text + "\" in retry_on: expected e.g. 409");
      }
    }
    return statuses;
  }

  private static Duration positive(YamlNodeReader node, String key, Duration defaultValue) {
    Duration value = node.duration(key, defaultValue);
    if (value.isZero()) {
      node.problem(key, key + " must be longer than 0");
      return defaultValue;
    }
    return value;
  }
}
