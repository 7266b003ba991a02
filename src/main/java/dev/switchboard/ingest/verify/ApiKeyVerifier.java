package dev.switchboard.ingest.verify;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** A static key in one header, optionally after a prefix; what a Genesys data action can send. */
public final class ApiKeyVerifier implements SignatureVerifier {

  public static final String SCHEME = "api-key";
  public static final String DEFAULT_HEADER = "X-Api-Key";

  private final String header;
  private final String headerKey;
  private final String prefix;
  private final AcceptedCredentials accepted;

  /**
   * @param header the header name, or null for {@value #DEFAULT_HEADER}
   * @param prefix text before the key, or null or empty for none
   */
  public ApiKeyVerifier(String header, String prefix, List<String> secrets) {
    this.header = header == null ? DEFAULT_HEADER : header;
    this.headerKey = this.header.toLowerCase(Locale.ROOT);
    this.prefix = prefix == null ? "" : prefix;
    this.accepted = new AcceptedCredentials(secrets);
  }

  @Override
  public Verdict verify(HeaderLookup headers, byte[] rawBody, Instant now) {
    String value = headers.get(headerKey);
    if (value == null || value.isBlank()) {
      return new Verdict.Rejected(
          Verdict.CREDENTIALS_MISSING, "the " + header + " header is missing");
    }
    value = value.strip();
    if (!value.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return new Verdict.Rejected(
          Verdict.CREDENTIALS_INVALID, "the " + header + " header does not start with " + prefix);
    }
    if (accepted.matches(value.substring(prefix.length()))) {
      return Verdict.OK;
    }
    return new Verdict.Rejected(
        Verdict.CREDENTIALS_INVALID, "the key in the " + header + " header is wrong");
  }

  @Override
  public Map<String, String> sign(byte[] body, String secret, Instant now, String messageId) {
    return Map.of(header, prefix + secret);
  }

  @Override
  public String schemeName() {
    return SCHEME;
  }

  @Override
  public Set<String> secretHeaders() {
    return Set.of(headerKey);
  }
}
