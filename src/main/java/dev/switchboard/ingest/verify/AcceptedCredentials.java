package dev.switchboard.ingest.verify;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The static credentials a source accepts (passwords, tokens, API keys), kept as SHA-256 digests.
 * Comparing digests makes every comparison the same length, so the timing leaks neither the content
 * nor the length of a secret.
 */
final class AcceptedCredentials {

  private final List<byte[]> digests;

  AcceptedCredentials(List<String> secrets) {
    this.digests = secrets.stream().map(s -> sha256(s.getBytes(StandardCharsets.UTF_8))).toList();
  }

  /** Whether the received value equals any accepted one; all are compared, none skipped. */
  boolean matches(byte[] received) {
    byte[] digest = sha256(received);
    boolean matched = false;
    for (byte[] accepted : digests) {
      matched |= MessageDigest.isEqual(accepted, digest);
    }
    return matched;
  }

  boolean matches(String received) {
    return matches(received.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] sha256(byte[] value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }
}
