package dev.switchboard.ingest.verify;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Standard Webhooks (standardwebhooks.com): {@code webhook-signature} holds space-separated {@code
 * v1,<base64 HMAC-SHA256>} entries over {@code {webhook-id}.{webhook-timestamp}.{body}}, keyed by
 * the base64 part of a {@code whsec_} secret. Any one matching entry is enough, which is how
 * senders rotate keys; {@code v1a,} (ed25519) entries are ignored.
 *
 * <p>Svix, and the many senders built on it, sign exactly the same way under {@code svix-id},
 * {@code svix-timestamp} and {@code svix-signature}: either complete set of three is accepted (the
 * {@code webhook-*} set when a request carries both).
 */
public final class StandardWebhooksVerifier implements SignatureVerifier {

  public static final String SCHEME = "standard-webhooks";
  public static final String ID_HEADER = "webhook-id";
  public static final String TIMESTAMP_HEADER = "webhook-timestamp";
  public static final String SIGNATURE_HEADER = "webhook-signature";
  public static final String SVIX_ID_HEADER = "svix-id";
  public static final String SVIX_TIMESTAMP_HEADER = "svix-timestamp";
  public static final String SVIX_SIGNATURE_HEADER = "svix-signature";

  private static final String SECRET_PREFIX = "whsec_";
  private static final String VERSION = "v1,";
  // Bounded so that Instant.ofEpochSecond can never overflow on a hostile value.
  private static final Pattern UNIX_SECONDS = Pattern.compile("[0-9]{1,12}");

  private final List<HmacKey> keys;
  private final Duration tolerance;

  /**
   * @param tolerance allowed clock skew either way between the sender's timestamp and now
   */
  public StandardWebhooksVerifier(List<String> secrets, Duration tolerance) {
    this.keys = secrets.stream().map(StandardWebhooksVerifier::key).toList();
    this.tolerance = tolerance;
  }

  @Override
  public Verdict verify(HeaderLookup headers, byte[] rawBody, Instant now) {
    String id = headers.get(ID_HEADER);
    String timestamp = headers.get(TIMESTAMP_HEADER);
    String signatures = headers.get(SIGNATURE_HEADER);
    String set = "webhook"; // which set of names the request used, for its refusal's message
    if (id == null || timestamp == null || signatures == null) {
      set = "svix";
      id = headers.get(SVIX_ID_HEADER);
      timestamp = headers.get(SVIX_TIMESTAMP_HEADER);
      signatures = headers.get(SVIX_SIGNATURE_HEADER);
    }
    if (id == null || timestamp == null || signatures == null) {
      return new Verdict.Rejected(
          Verdict.SIGNATURE_MISSING,
          "webhook-id, webhook-timestamp and webhook-signature headers (or svix-id, svix-timestamp"
              + " and svix-signature) are all required");
    }
    timestamp = timestamp.strip();
    if (!UNIX_SECONDS.matcher(timestamp).matches()) {
      return new Verdict.Rejected(
          Verdict.SIGNATURE_INVALID, set + "-timestamp is not a number of Unix seconds");
    }
    Instant sent = Instant.ofEpochSecond(Long.parseLong(timestamp));
    if (Duration.between(sent, now).abs().compareTo(tolerance) > 0) {
      return new Verdict.Rejected(
          Verdict.TIMESTAMP_OUT_OF_TOLERANCE,
          set + "-timestamp is more than " + tolerance.toSeconds() + " s away from now");
    }
    byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
    if (HmacKey.anyMatches(keys, v1Signatures(signatures), prefix, rawBody)) {
      return Verdict.OK;
    }
    return new Verdict.Rejected(
        Verdict.SIGNATURE_INVALID, "no " + set + "-signature entry matches the body");
  }

  @Override
  public Map<String, String> sign(byte[] body, String secret, Instant now, String messageId) {
    String id =
        messageId == null ? "msg_" + UUID.randomUUID().toString().replace("-", "") : messageId;
    String timestamp = Long.toString(now.getEpochSecond());
    byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
    String signature = Base64.getEncoder().encodeToString(key(secret).sign(prefix, body));
    return Map.of(
        ID_HEADER, id, TIMESTAMP_HEADER, timestamp, SIGNATURE_HEADER, VERSION + signature);
  }

  @Override
  public String schemeName() {
    return SCHEME;
  }

  @Override
  public Set<String> secretHeaders() {
    return Set.of(SIGNATURE_HEADER, SVIX_SIGNATURE_HEADER);
  }

  /** The decoded {@code v1,} entries; undecodable ones are skipped, as they can match nothing. */
  private static List<byte[]> v1Signatures(String header) {
    List<byte[]> decoded = new ArrayList<>();
    for (String entry : header.strip().split(" +")) {
      if (entry.startsWith(VERSION)) {
        try {
          decoded.add(Base64.getDecoder().decode(entry.substring(VERSION.length())));
        } catch (IllegalArgumentException e) {
          // not base64: cannot match any key
        }
      }
    }
    return decoded;
  }

  private static HmacKey key(String secret) {
    if (secret == null || !secret.startsWith(SECRET_PREFIX)) {
      throw new IllegalArgumentException(
          "a standard-webhooks secret must look like whsec_<base64>");
    }
    byte[] key;
    try {
      key = Base64.getDecoder().decode(secret.substring(SECRET_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "a standard-webhooks secret must be base64 after whsec_", e);
    }
    if (key.length == 0) {
      throw new IllegalArgumentException(
          "a standard-webhooks secret must not be empty after whsec_");
    }
    return new HmacKey("HmacSHA256", key);
  }
}
