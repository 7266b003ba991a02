package dev.switchboard.ingest.verify;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * HTTP basic authentication, as a Genesys data action or an EventBridge API destination sends it.
 * Secrets are {@code user:password}; the decoded header is compared whole, so a right user with a
 * wrong password and a wrong user are indistinguishable.
 */
public final class BasicAuthVerifier implements SignatureVerifier {

  public static final String SCHEME = "basic";
  private static final String HEADER = "authorization";
  private static final String AUTH_SCHEME = "Basic ";

  private final AcceptedCredentials accepted;

  public BasicAuthVerifier(List<String> secrets) {
    secrets.forEach(BasicAuthVerifier::requireUserAndPassword);
    this.accepted = new AcceptedCredentials(secrets);
  }

  @Override
  public Verdict verify(HeaderLookup headers, byte[] rawBody, Instant now) {
    String value = headers.get(HEADER);
    if (value == null || value.isBlank()) {
      return new Verdict.Rejected(
          Verdict.CREDENTIALS_MISSING, "the Authorization header is missing");
    }
    value = value.strip();
    if (!value.regionMatches(true, 0, AUTH_SCHEME, 0, AUTH_SCHEME.length())) {
      return new Verdict.Rejected(
          Verdict.CREDENTIALS_INVALID, "the Authorization header is not Basic");
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(value.substring(AUTH_SCHEME.length()).strip());
    } catch (IllegalArgumentException e) {
      return new Verdict.Rejected(
          Verdict.CREDENTIALS_INVALID, "the Basic credentials are not base64");
    }
    if (accepted.matches(decoded)) {
      return Verdict.OK;
    }
    return new Verdict.Rejected(Verdict.CREDENTIALS_INVALID, "the Basic credentials are wrong");
  }

  @Override
  public Map<String, String> sign(byte[] body, String secret, Instant now, String messageId) {
    requireUserAndPassword(secret);
    String encoded = Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8));
    return Map.of("Authorization", AUTH_SCHEME + encoded);
  }

  @Override
  public String schemeName() {
    return SCHEME;
  }

  @Override
  public Set<String> secretHeaders() {
    return Set.of(HEADER);
  }

  private static void requireUserAndPassword(String secret) {
    if (secret == null || secret.indexOf(':') < 1) {
      throw new IllegalArgumentException("a basic secret must look like user:password");
    }
  }
}
