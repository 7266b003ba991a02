package dev.switchboard.ingest.verify;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A static token in {@code Authorization: Bearer <token>}. */
public final class BearerTokenVerifier implements SignatureVerifier {

  public static final String SCHEME = "bearer";
  private static final String HEADER = "authorization";
  private static final String AUTH_SCHEME = "Bearer ";

  private final AcceptedCredentials accepted;

  public BearerTokenVerifier(List<String> secrets) {
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
          Verdict.CREDENTIALS_INVALID, "the Authorization header is not Bearer");
    }
    if (accepted.matches(value.substring(AUTH_SCHEME.length()).strip())) {
      return Verdict.OK;
    }
    return new Verdict.Rejected(Verdict.CREDENTIALS_INVALID, "the bearer token is wrong");
  }

  @Override
  public Map<String, String> sign(byte[] body, String secret, Instant now, String messageId) {
    return Map.of("Authorization", AUTH_SCHEME + secret);
  }

  @Override
  public String schemeName() {
    return SCHEME;
  }

  @Override
  public Set<String> secretHeaders() {
    return Set.of(HEADER);
  }
}
