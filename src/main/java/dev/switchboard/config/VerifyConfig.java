package dev.switchboard.config;

import java.time.Duration;
import java.util.List;

/**
 * How a source authenticates requests, as written in YAML. Either {@code scheme} or {@code preset}
 * is given (the loader checks that exactly one is); a preset fills in scheme, header and prefix
 * when the verifier is built.
 *
 * @param scheme one of {@link #SCHEMES}, or null when a preset is given
 * @param preset one of {@link #PRESETS}, or null
 * @param header the header carrying the signature or credential, or null for the scheme default
 * @param prefix text before the signature in the header, such as {@code sha256=}, or null for the
 *     scheme default
 * @param secrets accepted secrets, several for rotation; for basic, {@code user:password}
 * @param tolerance allowed clock skew for schemes with a timestamp (default 5m)
 */
public record VerifyConfig(
    String scheme,
    String preset,
    String header,
    String prefix,
    List<String> secrets,
    Duration tolerance) {

  public static final List<String> SCHEMES =
      List.of(
          "hmac-sha256-hex",
          "hmac-sha256-base64",
          "hmac-sha1-hex",
          "standard-webhooks",
          "basic",
          "bearer",
          "api-key",
          "none");

  public static final List<String> PRESETS =
      List.of("genesys-open-messaging", "genesys-multicloud", "genesys-data-action");

  public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);
}
