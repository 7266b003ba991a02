package dev.switchboard.ingest.verify;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One precomputed HMAC key. A {@link Mac} is not thread-safe, so each call takes a fresh one; the
 * key spec is shared because it is immutable.
 */
final class HmacKey {

  private final SecretKeySpec key;

  HmacKey(String algorithm, byte[] keyBytes) {
    if (keyBytes.length == 0) {
      throw new IllegalArgumentException("an HMAC secret must not be empty");
    }
    this.key = new SecretKeySpec(keyBytes, algorithm);
    sign(new byte[0]); // fail at config load, not on the first request, if the JDK lacks it
  }

  /** The MAC of the concatenated parts. */
  byte[] sign(byte[]... parts) {
    try {
      Mac mac = Mac.getInstance(key.getAlgorithm());
      mac.init(key);
      for (byte[] part : parts) {
        mac.update(part);
      }
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC " + key.getAlgorithm() + " is unavailable", e);
    }
  }

  /**
   * Whether any received signature equals the MAC under any key. Every pair is compared, in
   * constant time, so the timing reveals neither the matching key nor how much of a guess is right.
   */
  static boolean anyMatches(List<HmacKey> keys, List<byte[]> received, byte[]... parts) {
    boolean matched = false;
    for (HmacKey key : keys) {
      byte[] expected = key.sign(parts);
      for (byte[] candidate : received) {
        matched |= MessageDigest.isEqual(expected, candidate);
      }
    }
    return matched;
  }
}
