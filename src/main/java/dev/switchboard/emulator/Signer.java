package dev.switchboard.emulator;

import dev.switchboard.config.VerifyConfig;
import dev.switchboard.ingest.verify.SignatureVerifier;
import dev.switchboard.ingest.verify.SignatureVerifiers;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** Signs bodies exactly as a configured source verifies them, with the source's first secret. */
public final class Signer {
  private final SignatureVerifier scheme;
  private final String secret;

  private Signer(SignatureVerifier scheme, String secret) {
    this.scheme = scheme;
    this.secret = secret;
  }

  /** A signer for a source's {@code verify} section (null or scheme none: no headers). */
  public static Signer forSource(VerifyConfig verify) {
    if (verify == null || ("none".equals(verify.scheme()) && verify.preset() == null)) {
      return new Signer(null, null);
    }
    if (verify.secrets() == null || verify.secrets().isEmpty()) {
      throw new IllegalArgumentException("the source's verify section has no secret to sign with");
    }
    return new Signer(SignatureVerifiers.create(verify), verify.secrets().get(0));
  }

  /** The headers for one attempt; standard-webhooks gets a fresh timestamp, same message id. */
  public Map<String, String> headers(byte[] body, Instant now, String messageId) {
    return scheme == null ? Map.of() : scheme.sign(body, secret, now, messageId);
  }

  /** The scheme's name, for the progress line. */
  public String describe() {
    return scheme == null ? "unsigned" : scheme.schemeName();
  }

  static String newMessageId() {
    return "msg_" + UUID.randomUUID().toString().replace("-", "");
  }
}
