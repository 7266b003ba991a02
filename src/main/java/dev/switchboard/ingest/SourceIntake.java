package dev.switchboard.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.switchboard.config.RateLimit;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.expr.ExpressionException;
import dev.switchboard.ingest.verify.SignatureVerifier;
import dev.switchboard.ingest.verify.SignatureVerifiers;
import dev.switchboard.route.RoutePlan;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Everything one source needs at request time, built once from its configuration: verifier,
 * allow-list, rate limit, schema, payload shaping and the routes its events start deliveries on.
 */
final class SourceIntake {
  private static final Set<String> ALWAYS_KEPT_HEADERS = Set.of("content-type", "user-agent");

  final SourceConfig config;
  final SignatureVerifier verifier;
  final IpAllowList allowList;
  final PayloadShaper shaper;

  /** The routes from this source, in configuration order. */
  final List<RoutePlan> routes;

  private final Bucket rateLimit;
  private final JsonSchema schema;
  private final Set<String> keptHeaders;
  private final String keyOfEmptyBody;

  SourceIntake(SourceConfig config, List<String> trustedProxies, List<RoutePlan> routes) {
    this.config = config;
    this.verifier = SignatureVerifiers.create(config.verify());
    this.allowList = new IpAllowList(config.allowIps(), trustedProxies);
    this.shaper = new PayloadShaper(config.aliases(), config.redact(), config.coerce());
    this.routes = List.copyOf(routes);
    this.rateLimit = config.rateLimit() == null ? null : bucket(config.rateLimit());
    this.schema = config.schema() == null ? null : loadSchema(config);
    Set<String> kept = new HashSet<>(ALWAYS_KEPT_HEADERS);
    kept.addAll(config.keepHeaders());
    kept.removeAll(verifier.secretHeaders());
    kept.remove("authorization");
    this.keptHeaders = Set.copyOf(kept);
    this.keyOfEmptyBody =
        config.idempotency() == null ? null : keyOf(Map.of(), Map.of("headers", Map.of()));
  }

  /**
   * The idempotency key for a body, or null when it cannot be derived: the expression fails, yields
   * nothing, or yields what it yields for an empty body (such as {@code "|"} for {@code
   * interactionId & '|' & timestamp}), which would make every such request a duplicate.
   */
  String idempotencyKey(Object body, Map<String, Object> bindings) {
    String key = keyOf(body, bindings);
    return key == null || key.equals(keyOfEmptyBody) ? null : key;
  }

  private String keyOf(Object body, Map<String, ?> bindings) {
    try {
      String value = config.idempotency().key().evaluateToString(body, bindings);
      return value == null || value.isEmpty() ? null : value;
    } catch (ExpressionException e) {
      return null;
    }
  }

  /** Seconds to wait before retrying, or 0 when a permit was taken. */
  long tryAcquire() {
    if (rateLimit == null) {
      return 0;
    }
    ConsumptionProbe probe = rateLimit.tryConsumeAndReturnRemaining(1);
    return probe.isConsumed()
        ? 0
        : Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
  }

  /** Schema violations as short texts, empty when valid or when the source has no schema. */
  List<String> violations(Object body, ObjectMapper json) {
    if (schema == null) {
      return List.of();
    }
    JsonNode node = json.valueToTree(body);
    Set<ValidationMessage> messages = schema.validate(node);
    return messages.stream()
        .map(ValidationMessage::getMessage)
        .sorted()
        .collect(Collectors.toList());
  }

  boolean keepsHeader(String lowerCaseName) {
    return keptHeaders.contains(lowerCaseName);
  }

  private static Bucket bucket(RateLimit limit) {
    return Bucket.builder()
        .addLimit(
            Bandwidth.builder()
                .capacity(limit.count())
                .refillGreedy(limit.count(), limit.per())
                .build())
        .build();
  }

  private static JsonSchema loadSchema(SourceConfig config) {
    try {
      JsonNode node = new ObjectMapper().readTree(Files.readAllBytes(config.schema()));
      return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(node);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema " + config.schema(), e);
    }
  }
}
