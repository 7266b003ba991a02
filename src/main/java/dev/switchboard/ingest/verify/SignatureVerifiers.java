package dev.switchboard.ingest.verify;

import dev.switchboard.config.VerifyConfig;
import dev.switchboard.ingest.verify.HmacVerifier.Encoding;
import java.time.Duration;
import java.util.List;

/**
 * Builds the verifier for a source's {@link VerifyConfig}, resolving Genesys presets into the
 * schemes they stand for. Called once per source at config load; every problem is an {@link
 * IllegalArgumentException} whose message names the problem but never a secret.
 */
public final class SignatureVerifiers {

  private SignatureVerifiers() {}

  public static SignatureVerifier create(VerifyConfig config) {
    if (config == null) {
      throw new IllegalArgumentException(
          "verify is required; use scheme: none to accept unsigned requests");
    }
    if (config.scheme() != null && config.preset() != null) {
      throw new IllegalArgumentException("verify takes a scheme or a preset, not both");
    }
    if (config.preset() != null) {
      return preset(config);
    }
    if (config.scheme() == null) {
      throw new IllegalArgumentException(
          "verify needs a scheme (one of " + VerifyConfig.SCHEMES + ") or a preset");
    }
    return scheme(config.scheme(), config.header(), config.prefix(), config);
  }

  private static SignatureVerifier preset(VerifyConfig config) {
    String header = config.header();
    String prefix = config.prefix();
    return switch (config.preset()) {
      case "genesys-open-messaging" ->
          scheme(
              "hmac-sha256-base64",
              header == null ? "X-Hub-Signature-256" : header,
              prefix == null ? "sha256=" : prefix,
              config);
      case "genesys-multicloud" ->
          scheme(
              "hmac-sha1-hex",
              header == null ? "X-Hub-Signature" : header,
              prefix == null ? "sha1=" : prefix,
              config);
      // A data action can only send static credentials (no HMAC macro exists): an API key when
      // the user named its header, otherwise the Basic Auth credential type.
      case "genesys-data-action" ->
          header == null
              ? scheme(BasicAuthVerifier.SCHEME, null, null, config)
              : scheme(ApiKeyVerifier.SCHEME, header, prefix, config);
      default ->
          throw new IllegalArgumentException(
              "unknown verify preset '"
                  + config.preset()
                  + "'; expected one of "
                  + VerifyConfig.PRESETS);
    };
  }

  private static SignatureVerifier scheme(
      String scheme, String header, String prefix, VerifyConfig config) {
    if (scheme.equals(NoVerification.SCHEME)) {
      return new NoVerification();
    }
    if (!VerifyConfig.SCHEMES.contains(scheme)) {
      throw new IllegalArgumentException(
          "unknown verify scheme '" + scheme + "'; expected one of " + VerifyConfig.SCHEMES);
    }
    List<String> secrets = secrets(scheme, config.secrets());
    return switch (scheme) {
      case "hmac-sha256-hex" ->
          new HmacVerifier(scheme, "HmacSHA256", Encoding.HEX, header, prefix, secrets);
      case "hmac-sha256-base64" ->
          new HmacVerifier(scheme, "HmacSHA256", Encoding.BASE64, header, prefix, secrets);
      case "hmac-sha1-hex" ->
          new HmacVerifier(scheme, "HmacSHA1", Encoding.HEX, header, prefix, secrets);
      case "standard-webhooks" -> new StandardWebhooksVerifier(secrets, tolerance(config));
      case "basic" -> new BasicAuthVerifier(secrets);
      case "bearer" -> new BearerTokenVerifier(secrets);
      case "api-key" -> new ApiKeyVerifier(header, prefix, secrets);
      default -> throw new IllegalStateException("scheme listed but not built: " + scheme);
    };
  }

  private static List<String> secrets(String scheme, List<String> secrets) {
    if (secrets == null || secrets.isEmpty()) {
      throw new IllegalArgumentException("verify scheme " + scheme + " needs at least one secret");
    }
    for (int i = 0; i < secrets.size(); i++) {
      if (secrets.get(i) == null || secrets.get(i).isBlank()) {
        throw new IllegalArgumentException("verify secret #" + (i + 1) + " is empty");
      }
    }
    return List.copyOf(secrets);
  }

  private static Duration tolerance(VerifyConfig config) {
    Duration tolerance = config.tolerance();
    if (tolerance == null) {
      return VerifyConfig.DEFAULT_TOLERANCE;
    }
    if (tolerance.isNegative()) {
      throw new IllegalArgumentException("verify tolerance must not be negative");
    }
    return tolerance;
  }
}
