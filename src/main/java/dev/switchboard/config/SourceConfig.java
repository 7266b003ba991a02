package dev.switchboard.config;

import dev.switchboard.expr.Expression;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One source of events: an inbound endpoint, {@code POST /hooks/{name}}, or a service the gateway
 * pulls from ({@code pull} set: it has no endpoint).
 *
 * @param allowIps CIDRs allowed to call (default: everyone)
 * @param maxBodyBytes largest body accepted (default 1 MiB)
 * @param idempotency key rule, or null when the source does not de-duplicate
 * @param eventTime expression for the event time, or null for the receive time
 * @param partitionKey expression for the partition key, or null
 * @param schema JSON Schema file, or null
 * @param rateLimit ingest rate limit, or null
 * @param aliases field renames applied before anything else reads the body (old path → new path)
 * @param keepHeaders request headers stored with the event (lower-case; signature headers never)
 * @param coerce lenient type conversions applied after the aliases, before anything else reads the
 *     body (dotted path → target type), in file order
 * @param pull where the gateway fetches this source's events, or null for a webhook source
 */
public record SourceConfig(
    String name,
    VerifyConfig verify,
    List<String> allowIps,
    long maxBodyBytes,
    Idempotency idempotency,
    Expression eventTime,
    Expression partitionKey,
    Redact redact,
    Path schema,
    OnInvalid onInvalid,
    RateLimit rateLimit,
    Map<String, String> aliases,
    int acceptedStatus,
    int duplicateStatus,
    List<String> keepHeaders,
    Map<String, Coerce> coerce,
    PullConfig pull) {

  /** Whether the gateway pulls this source's events (it has no {@code /hooks/} endpoint). */
  public boolean pulled() {
    return pull != null;
  }

  /**
   * @param key expression over the payload (and $headers)
   * @param ttl how long a key is remembered (default 48h)
   * @param required a request whose key evaluates to nothing is refused with 400 (default true)
   */
  public record Idempotency(Expression key, Duration ttl, boolean required) {}

  /**
   * @param remove paths deleted before storing
   * @param mask paths whose string values keep only their first and last characters
   * @param maxFieldChars longer string fields are truncated with a marker (0 = no limit; default 0)
   */
  public record Redact(List<String> remove, List<String> mask, int maxFieldChars) {
    public static final Redact NONE = new Redact(List.of(), List.of(), 0);
  }

  /**
   * A target type of {@code coerce}: a value of another type that converts cleanly (the text {@code
   * "45"} to a number, the number 45 to text) is converted; anything else is left as sent.
   */
  public enum Coerce {
    NUMBER,
    INTEGER,
    STRING,
    BOOLEAN;

    /** As written in the configuration. */
    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public enum OnInvalid {
    QUARANTINE,
    REJECT
  }
}
