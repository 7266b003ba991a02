package dev.switchboard.config;

import dev.switchboard.config.DestinationConfig.Retry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code destinations.<name>}. The keys every connector has are typed into {@link
 * DestinationConfig}; the connector's own keys are checked here (required, syntax, defaults) and
 * handed on in {@code settings} as plain values (see {@link PlainValues}), with the defaults below
 * filled in, so a connector only converts text it knows to be well-formed.
 */
final class DestinationSection {
  static final List<String> TYPES = List.of("http", "salesforce", "slack", "jira", "kafka", "jdbc");

  /** Typed into the record, so left out of {@code settings}. */
  static final Set<String> TYPED_KEYS =
      Set.of("type", "retry", "rate_limit", "concurrency", "timeout", "circuit_breaker");

  /** Common to every type but kept in {@code settings}. */
  static final List<String> SETTINGS_KEYS = List.of("connect_timeout");

  static final Map<String, List<String>> TYPE_KEYS =
      Map.of(
          "http", List.of("method", "url", "headers", "preset", "sign"),
          "salesforce",
              List.of(
                  "login_url",
                  "client_id",
                  "client_secret",
                  "api_version",
                  "operation",
                  "object",
                  "external_id_field",
                  "batch_size"),
          "slack", List.of("url"),
          "jira", List.of("base_url", "email", "api_token", "project", "issue_type", "search_lag"),
          "kafka", List.of("bootstrap_servers", "topic", "key", "properties"),
          "jdbc", List.of("url", "user", "password", "table", "key_columns"));

  static final List<String> RETRY_KEYS =
      List.of("initial", "max_delay", "max_attempts", "max_age", "retry_on", "max_server_delay");
  static final List<String> BREAKER_KEYS = List.of("failures", "open_for");

  /**
   * Slack posts about one message a second per incoming webhook and answers 429 beyond a short
   * burst (docs/connectors.md), so a {@code slack} destination without a {@code rate_limit} keeps
   * to that instead of learning it from 429s.
   */
  static final RateLimit SLACK_DEFAULT_RATE = new RateLimit(1, Duration.ofSeconds(1));

  /**
   * The request rates the {@code http} presets' targets document (README, examples/http.yaml),
   * applied when the destination writes no {@code rate_limit}: a Zapier catch hook takes about 30
   * requests a second; a Power Automate HTTP trigger 4,500 invokes per 5 minutes (15 a second) on
   * the lowest licence profile and 45,000 on the others, for which {@code rate_limit: 150/second}
   * may be written.
   */
  static final Map<String, RateLimit> HTTP_PRESET_RATES =
      Map.of(
          "zapier", new RateLimit(30, Duration.ofSeconds(1)),
          "power-automate", new RateLimit(15, Duration.ofSeconds(1)));

  static final int DEFAULT_CONCURRENCY = 16;
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  Map<String, DestinationConfig> read(YamlNodeReader destinations) {
    Map<String, DestinationConfig> result = new LinkedHashMap<>();
    destinations
        .namedMappings()
        .forEach((name, node) -> result.put(name, readDestination(name, node)));
    return result;
  }

  private DestinationConfig readDestination(String name, YamlNodeReader node) {
    String type = node.has("type") ? node.oneOf("type", "destination type", TYPES, null) : null;
    if (!node.has("type")) {
      node.problem("type", "type is required: one of " + String.join(", ", TYPES));
    }
    Map<String, Object> settings = PlainValues.mapOf(node, TYPED_KEYS);
    if (type != null) {
      List<String> known = new ArrayList<>(TYPED_KEYS);
      known.addAll(SETTINGS_KEYS);
      known.addAll(TYPE_KEYS.get(type));
      node.checkKeys(known);
      ConnectorSettings.check(type, node, settings);
    }
    node.duration("connect_timeout", null);
    RateLimit rateLimit = node.rateLimit("rate_limit");
    if (rateLimit == null && "slack".equals(type) && !node.has("rate_limit")) {
      rateLimit = SLACK_DEFAULT_RATE;
    }
    if (rateLimit == null
        && "http".equals(type)
        && !node.has("rate_limit")
        && settings.get("preset") instanceof String preset) {
      rateLimit = HTTP_PRESET_RATES.get(preset);
    }
    return new DestinationConfig(
        name,
        type,
        Collections.unmodifiableMap(settings),
        readRetry(node.mapping("retry")),
        rateLimit,
        node.integer("concurrency", DEFAULT_CONCURRENCY, 1, 10_000),
        positive(node, "timeout", DEFAULT_TIMEOUT),
        readBreaker(node.mapping("circuit_breaker")));
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
