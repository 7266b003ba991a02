package dev.switchboard.ingest.verify;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/** Scheme {@code none}: accepts every request. Only ever chosen explicitly in configuration. */
public final class NoVerification implements SignatureVerifier {

  public static final String SCHEME = "none";

  @Override
  public Verdict verify(HeaderLookup headers, byte[] rawBody, Instant now) {
    return Verdict.OK;
  }

  @Override
  public Map<String, String> sign(byte[] body, String secret, Instant now, String messageId) {
    return Map.of();
  }

  @Override
  public String schemeName() {
    return SCHEME;
  }

  @Override
  public Set<String> secretHeaders() {
    return Set.of();
  }
}
