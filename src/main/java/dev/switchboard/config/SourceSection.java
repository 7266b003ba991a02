package dev.switchboard.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SourceConfig.Idempotency;
import dev.switchboard.config.SourceConfig.OnInvalid;
import dev.switchboard.config.SourceConfig.Redact;
import dev.switchboard.config.YamlNodeReader.Scalar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Reads {@code sources.<name>}: one inbound endpoint each. */
final class SourceSection {
  static final List<String> KEYS =
      List.of(
          "type",
          "verify",
          "allow_ips",
          "max_body",
          "idempotency",
          "event_time",
          "partition_key",
          "redact",
          "schema",
          "on_invalid",
          "rate_limit",
          "aliases",
          "accepted_status",
          "duplicate_status",
          "keep_headers",
          "coerce");

  /** What a pulled source shares with webhook sources: the rules applied to each event. */
  static final List<String> PULLED_KEYS =
      java.util.stream.Stream.concat(
              PullSection.KEYS.stream(),
              java.util.stream.Stream.of(
                  "idempotency",
                  "event_time",
                  "partition_key",
                  "redact",
                  "schema",
                  "on_invalid",
                  "aliases",
                  "coerce"))
          .toList();

  static final List<String> TYPES = List.of("http", PullSection.GENESYS_NOTIFICATIONS);

  static final List<String> VERIFY_KEYS =
      List.of("scheme", "preset", "header", "prefix", "secrets", "tolerance");
  static final List<String> IDEMPOTENCY_KEYS = List.of("key", "ttl", "required");
  static final List<String> REDACT_KEYS = List.of("remove", "mask", "max_field_chars");

  /** Part of the URL {@code /hooks/{name}}, so kept to characters that need no escaping. */
  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

  static final long DEFAULT_MAX_BODY_BYTES = 1L << 20;
  static final Duration DEFAULT_IDEMPOTENCY_TTL = Duration.ofHours(48);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path baseDir;

  /**
   * @param baseDir the configuration file's directory, which schema paths are relative to
   */
  SourceSection(Path baseDir) {
    this.baseDir = baseDir;
  }

  Map<String, SourceConfig> read(YamlNodeReader sources) {
    Map<String, SourceConfig> result = new LinkedHashMap<>();
    sources.namedMappings().forEach((name, node) -> result.put(name, readSource(name, node)));
    return result;
  }

  private SourceConfig readSource(String name, YamlNodeReader source) {
    if (!NAME.matcher(name).matches()) {
      source.problem(
          "source name \""
              + name
              + "\" must match [a-z0-9][a-z0-9_-]*"
              + " (it is part of the URL /hooks/"
              + name
              + ")");
    }
    String type = source.oneOf("type", "source type", TYPES, "http");
    if (PullSection.GENESYS_NOTIFICATIONS.equals(type)) {
      return readPulled(name, source);
    }
    source.checkKeys(KEYS);
    return new SourceConfig(
        name,
        readVerify(source),
        cidrs(source, "allow_ips"),
        positiveSize(source, "max_body", DEFAULT_MAX_BODY_BYTES),
        readIdempotency(source.mapping("idempotency")),
        source.expression("event_time"),
        source.expression("partition_key"),
        readRedact(source.mapping("redact")),
        readSchema(source),
        readOnInvalid(source),
        source.rateLimit("rate_limit"),
        source.stringMap("aliases"),
        status(source, "accepted_status", 202),
        status(source, "duplicate_status", 200),
        source.strings("keep_headers").stream().map(h -> h.toLowerCase(Locale.ROOT)).toList(),
        readCoerce(source.mapping("coerce")),
        null);
  }

  /**
   * A source the gateway pulls from: no endpoint, so none of the request's checks (signature,
   * allow-list, body size, answers); the event's rules as for any source. Without {@code
   * idempotency:} the key is the one the source computes for each message, without {@code
   * event_time:} the time it reads from the message.
   */
  private SourceConfig readPulled(String name, YamlNodeReader source) {
    source.checkKeys(PULLED_KEYS);
    PullConfig pull = PullSection.read(source);
    Idempotency idempotency = readIdempotency(source.mapping("idempotency"));
    if (idempotency == null) {
      idempotency =
          new Idempotency(
              dev.switchboard.expr.Expression.compile("$headers.'" + PullConfig.KEY_HEADER + "'"),
              DEFAULT_IDEMPOTENCY_TTL,
              true);
    }
    dev.switchboard.expr.Expression eventTime = source.expression("event_time");
    if (eventTime == null && !source.has("event_time")) {
      eventTime =
          dev.switchboard.expr.Expression.compile("$headers.'" + PullConfig.TIME_HEADER + "'");
    }
    return new SourceConfig(
        name,
        new VerifyConfig("none", null, null, null, List.of(), VerifyConfig.DEFAULT_TOLERANCE),
        List.of(),
        DEFAULT_MAX_BODY_BYTES * 8,
        idempotency,
        eventTime,
        source.expression("partition_key"),
        readRedact(source.mapping("redact")),
        readSchema(source),
        readOnInvalid(source),
        null,
        source.stringMap("aliases"),
        202,
        200,
        List.of(),
        readCoerce(source.mapping("coerce")),
        pull);
  }

  static final List<String> COERCE_TYPES =
      java.util.Arrays.stream(SourceConfig.Coerce.values())
          .map(SourceConfig.Coerce::yamlName)
          .toList();

  /** {@code coerce:} a mapping of dotted paths to one of {@link #COERCE_TYPES}. */
  private static Map<String, SourceConfig.Coerce> readCoerce(YamlNodeReader coerce) {
    Map<String, SourceConfig.Coerce> result = new LinkedHashMap<>();
    for (Map.Entry<String, YamlNodeReader> entry : coerce.entries().entrySet()) {
      String path = entry.getKey();
      if (path.isBlank() || java.util.Arrays.asList(path.split("\\.", -1)).contains("")) {
        entry.getValue().problem("a coerce path is dotted field names, e.g. call.durationSeconds");
        continue;
      }
      if (entry.getValue().scalar() == null) {
        entry
            .getValue()
            .problem("give the type to coerce to: one of " + String.join(", ", COERCE_TYPES));
        continue;
      }
      String type = coerce.oneOf(path, "coerce type", COERCE_TYPES, null);
      if (type != null) {
        result.put(path, SourceConfig.Coerce.valueOf(type.toUpperCase(Locale.ROOT)));
      }
    }
    return result;
  }

  private VerifyConfig readVerify(YamlNodeReader source) {
    YamlNodeReader verify = source.mapping("verify");
    if (!verify.present()) {
      verify.problem("verify is required; use scheme: none to accept unsigned requests");
      return null;
    }
    verify.checkKeys(VERIFY_KEYS);
    String scheme = verify.oneOf("scheme", "verify scheme", VerifyConfig.SCHEMES, null);
    String preset = verify.oneOf("preset", "verify preset", VerifyConfig.PRESETS, null);
    if (verify.has("scheme") && verify.has("preset")) {
      verify.problem("preset", "give either scheme or preset, not both");
    } else if (!verify.has("scheme") && !verify.has("preset")) {
      verify.problem(
          "verify needs a scheme ("
              + String.join(", ", VerifyConfig.SCHEMES)
              + ") or a preset ("
              + String.join(", ", VerifyConfig.PRESETS)
              + ")");
    }
    return new VerifyConfig(
        scheme,
        preset,
        verify.string("header"),
        verify.string("prefix"),
        readSecrets(verify, scheme),
        verify.duration("tolerance", VerifyConfig.DEFAULT_TOLERANCE));
  }

  /** Messages name the entry, never its value. */
  private static List<String> readSecrets(YamlNodeReader verify, String scheme) {
    boolean unsigned = "none".equals(scheme);
    boolean userPassword = "basic".equals(scheme);
    if (!verify.has("secrets") && !unsigned) {
      verify.problem("secrets", "secrets is required (a list; several entries for rotation)");
      return List.of();
    }
    YamlNodeReader list = verify.child("secrets");
    List<YamlNodeReader> items = list.items();
    List<String> secrets = new ArrayList<>();
    for (YamlNodeReader item : items) {
      Scalar secret = item.scalar();
      // blank counts as empty: an HMAC keyed by whitespace is as guessable as no key at all
      if (secret == null || (secret.value() != null && secret.value().isBlank())) {
        item.problem("a secret must not be empty");
      } else if (secret.value() != null) {
        if (userPassword && !secret.value().contains(":")) {
          item.problem("a basic secret must be written user:password");
        }
        if ("standard-webhooks".equals(scheme)) {
          String wrong = standardWebhooksSecretProblem(secret.value());
          if (wrong != null) {
            item.problem(wrong);
          }
        }
        secrets.add(secret.value());
      }
    }
    if (items.isEmpty() && list.isList() && !unsigned) {
      verify.problem("secrets", "secrets must list at least one secret");
    }
    return List.copyOf(secrets);
  }

  /**
   * What is wrong with a {@code whsec_<base64>} secret, or null; checked here so that {@code
   * switchboard validate} and a reload name the entry, rather than the gateway failing at start.
   */
  static String standardWebhooksSecretProblem(String secret) {
    if (!secret.startsWith("whsec_")) {
      return "a standard-webhooks secret must look like whsec_<base64>";
    }
    byte[] key;
    try {
      key = java.util.Base64.getDecoder().decode(secret.substring("whsec_".length()));
    } catch (IllegalArgumentException e) {
      return "a standard-webhooks secret must be base64 after whsec_";
    }
    return key.length == 0 ? "a standard-webhooks secret must not be empty after whsec_" : null;
  }

  private static Idempotency readIdempotency(YamlNodeReader idempotency) {
    if (!idempotency.present()) {
      return null;
    }
    idempotency.checkKeys(IDEMPOTENCY_KEYS);
    if (!idempotency.has("key")) {
      idempotency.problem("key", "key is required: an expression giving the idempotency key");
    }
    return new Idempotency(
        idempotency.expression("key"),
        idempotency.duration("ttl", DEFAULT_IDEMPOTENCY_TTL),
        idempotency.bool("required", true));
  }

  private static Redact readRedact(YamlNodeReader redact) {
    if (!redact.present()) {
      return Redact.NONE;
    }
    redact.checkKeys(REDACT_KEYS);
    return new Redact(
        redact.strings("remove"),
        redact.strings("mask"),
        redact.integer("max_field_chars", 0, 0, Integer.MAX_VALUE));
  }

  /** Resolved against the configuration file's directory; must exist and be JSON. */
  private Path readSchema(YamlNodeReader source) {
    String text = source.string("schema");
    if (text == null) {
      return null;
    }
    Path schema;
    try {
      schema = baseDir.resolve(text.trim()).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      source.problem("schema", "bad schema path: " + e.getReason());
      return null;
    }
    if (!Files.isRegularFile(schema)) {
      source.problem("schema", "schema file " + schema + " does not exist");
      return schema;
    }
    try {
      JSON.readTree(schema.toFile());
    } catch (JacksonException e) {
      source.problem(
          "schema", "schema file " + schema + " is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      source.problem("schema", "schema file " + schema + " cannot be read: " + e.getMessage());
    }
    return schema;
  }

  private static OnInvalid readOnInvalid(YamlNodeReader source) {
    String value =
        source.oneOf("on_invalid", "on_invalid", List.of("quarantine", "reject"), "quarantine");
    return value.equals("reject") ? OnInvalid.REJECT : OnInvalid.QUARANTINE;
  }

  private static int status(YamlNodeReader source, String key, int defaultValue) {
    return source.parse(key, defaultValue, key, SourceSection::successStatus);
  }

  private static int successStatus(String text) {
    if (!text.trim().matches("2\\d\\d")) {
      throw new IllegalArgumentException("expected a 2xx status code, e.g. 202");
    }
    return Integer.parseInt(text.trim());
  }

  private static long positiveSize(YamlNodeReader node, String key, long defaultValue) {
    long size = node.sizeBytes(key, defaultValue);
    if (size <= 0) {
      node.problem(key, key + " must be larger than 0");
      return defaultValue;
    }
    return size;
  }

  /** A list of CIDRs or plain addresses, each checked; also used for trusted proxies. */
  static List<String> cidrs(YamlNodeReader node, String key) {
    List<String> cidrs = new ArrayList<>();
    for (Scalar scalar : node.scalars(key)) {
      String cidr = node.convert(scalar, null, "CIDR", SourceSection::checkedCidr);
      if (cidr != null) {
        cidrs.add(cidr);
      }
    }
    return List.copyOf(cidrs);
  }

  private static String checkedCidr(String text) {
    ConfigValues.checkCidr(text);
    return text.trim();
  }
}
