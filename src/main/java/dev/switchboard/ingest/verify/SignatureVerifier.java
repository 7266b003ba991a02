package dev.switchboard.ingest.verify;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a request to a source comes from its legitimate sender.
 *
 * <p>Lifecycle: {@link SignatureVerifiers#create} builds one verifier per source when the
 * configuration is loaded; a malformed secret or unknown scheme fails there, never per request.
 * After that, {@link #verify} is called concurrently from many request threads, on the raw body
 * bytes before anything parses them, so implementations are immutable and thread-safe. {@code
 * verify} never throws for anything a sender controls: bad input is a {@link Verdict.Rejected}.
 *
 * <p>Every received signature or credential is compared in constant time against every configured
 * secret, so several secrets can be accepted at once while one is rotated.
 */
public interface SignatureVerifier {

  /**
   * Checks one request.
   *
   * @param headers the request headers
   * @param rawBody the body exactly as received; never parsed or re-serialised
   * @param now the receive time, for schemes that carry a timestamp
   */
  Verdict verify(HeaderLookup headers, byte[] rawBody, Instant now);

  /**
   * The headers a legitimate sender of this scheme attaches to {@code body}; used by {@code
   * switchboard send}, the emulator and tests.
   *
   * @param secret the secret to sign with, in the same form as a configured secret
   * @param now the signing time, for schemes that carry a timestamp
   * @param messageId the {@code webhook-id} for standard-webhooks; ignored by other schemes
   * @throws IllegalArgumentException when the secret is malformed for this scheme
   */
  Map<String, String> sign(byte[] body, String secret, Instant now, String messageId);

  /** The scheme's name, one of {@code VerifyConfig.SCHEMES}. */
  String schemeName();

  /**
   * The lower-case names of the headers that carry signatures or credentials, which the caller must
   * never store or log.
   */
  Set<String> secretHeaders();
}
