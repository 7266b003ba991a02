package dev.switchboard.ingest.verify;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An HMAC of the raw body in one header, optionally after a prefix such as {@code sha256=} (GitHub
 * style, also what Genesys Open Messaging and Multicloud send). The secret's UTF-8 bytes are the
 * key.
 */
public final class HmacVerifier implements SignatureVerifier {

  public static final String DEFAULT_HEADER = "X-Signature";

  /** How the MAC is written in the header. */
  public enum Encoding {
    HEX,
    BASE64;

    String encode(byte[] mac) {
      return this == HEX ? HexFormat.of().formatHex(mac) : Base64.getEncoder().encodeToString(mac);
    }

    /** Hex is decoded case-insensitively, so {@code AB} and {@code ab} are the same signature. */
    byte[] decode(String text) {
      return this == HEX ? HexFormat.of().parseHex(text) : Base64.getDecoder().decode(text);
    }
  }

  private final String schemeName;
  private final String algorithm;
  private final Encoding encoding;
  private final String header;
  private final String headerKey;
  private final String prefix;
  private final List<HmacKey> keys;

  /**
   * @param algorithm a JCA MAC name, {@code HmacSHA256} or {@code HmacSHA1}
   * @param header the header name, or null for {@value #DEFAULT_HEADER}
   * @param prefix text before the signature, or null or empty for none
   */
  public HmacVerifier(
      String schemeName,
      String algorithm,
      Encoding encoding,
      String header,
      String prefix,
      List<String> secrets) {
    this.schemeName = schemeName;
    this.algorithm = algorithm;
    this.encoding = encoding;
    this.header = header == null ? DEFAULT_HEADER : header;
    this.headerKey = this.header.toLowerCase(Locale.ROOT);
    this.prefix = prefix == null ? "" : prefix;
    this.keys = secrets.stream().map(this::key).toList();
  }

  @Override
  public Verdict verify(HeaderLookup headers, byte[] rawBody, Instant now) {
    String value = headers.get(headerKey);
    if (value == null || value.isBlank()) {
      return new Verdict.Rejected(
          Verdict.SIGNATURE_MISSING, "the " + header + " header is missing");
    }
    value = value.strip();
    if (!value.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return new Verdict.Rejected(
          Verdict.SIGNATURE_INVALID, "the " + header + " header does not start with " + prefix);
    }
    byte[] received;
    try {
      received = encoding.decode(value.substring(prefix.length()));
    } catch (IllegalArgumentException e) {
      return new Verdict.Rejected(
          Verdict.SIGNATURE_INVALID,
          "the " + header + " header is not " + encoding.name().toLowerCase(Locale.ROOT));
    }
    if (HmacKey.anyMatches(keys, List.of(received), rawBody)) {
      return Verdict.OK;
    }
    return new Verdict.Rejected(
        Verdict.SIGNATURE_INVALID, "the " + header + " signature does not match the body");
  }

  @Override
  public Map<String, String> sign(byte[] body, String secret, Instant now, String messageId) {
    return Map.of(header, prefix + encoding.encode(key(secret).sign(body)));
  }

  @Override
  public String schemeName() {
    return schemeName;
  }

  @Override
  public Set<String> secretHeaders() {
    return Set.of(headerKey);
  }

  private HmacKey key(String secret) {
    return new HmacKey(algorithm, secret.getBytes(StandardCharsets.UTF_8));
  }
}
