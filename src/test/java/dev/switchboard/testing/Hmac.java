package dev.switchboard.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Computes signatures independently of the code under test. */
public final class Hmac {
  private Hmac() {}

  public static byte[] mac(String algorithm, byte[] key, byte[] content) {
    try {
      Mac mac = Mac.getInstance(algorithm);
      mac.init(new SecretKeySpec(key, algorithm));
      return mac.doFinal(content);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String sha256Hex(String secret, byte[] body) {
    return HexFormat.of()
        .formatHex(mac("HmacSHA256", secret.getBytes(StandardCharsets.UTF_8), body));
  }

  public static String sha256Base64(String secret, byte[] body) {
    return Base64.getEncoder()
        .encodeToString(mac("HmacSHA256", secret.getBytes(StandardCharsets.UTF_8), body));
  }
}
