package dev.switchboard.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The HTTPS listener's identity: the certificate chain (the gateway's own certificate first, then
 * intermediates) and its private key, read from PEM files.
 *
 * <p>{@link #load} refuses what a sender's TLS stack would refuse at the first handshake anyway: a
 * missing or unreadable file, a file that is not PEM, an encrypted key, a key that does not belong
 * to the first certificate. An expired (or not yet valid) certificate is not refused here — the
 * operator may be about to replace it — but {@link #validityWarning} says so. {@link #toString}
 * names the certificate only; the key is never printed.
 */
public final class ServerCertificate {
  /** Warn this long before the certificate expires. */
  static final Duration EXPIRY_NOTICE = Duration.ofDays(14);

  private static final byte[] CHALLENGE =
      "switchboard: does this key belong to this certificate?".getBytes(StandardCharsets.UTF_8);

  private final List<X509Certificate> chain;
  private final PrivateKey key;

  private ServerCertificate(List<X509Certificate> chain, PrivateKey key) {
    this.chain = chain;
    this.key = key;
  }

  /**
   * Reads and cross-checks both files.
   *
   * @throws PemFileException naming the file at fault ({@code certFile} or {@code keyFile})
   */
  public static ServerCertificate load(Path certFile, Path keyFile) throws PemFileException {
    List<X509Certificate> chain = PemFiles.certificates(certFile);
    PrivateKey key = PemFiles.privateKey(keyFile);
    checkKeyMatches(key, keyFile, chain, certFile);
    return new ServerCertificate(chain, key);
  }

  /** The certificates of a certificate file (for validation without the key). */
  public static List<X509Certificate> readCertificates(Path certFile) throws PemFileException {
    return PemFiles.certificates(certFile);
  }

  /** The private key of a key file (for validation); never print it. */
  public static PrivateKey readPrivateKey(Path keyFile) throws PemFileException {
    return PemFiles.privateKey(keyFile);
  }

  /**
   * Proves that {@code key} belongs to the first certificate by signing a challenge with it and
   * verifying with the certificate's public key — one check that works for RSA, EC and EdDSA alike.
   */
  public static void checkKeyMatches(
      PrivateKey key, Path keyFile, List<X509Certificate> chain, Path certFile)
      throws PemFileException {
    if (belongsTo(key, chain.get(0).getPublicKey())) {
      return;
    }
    for (int i = 1; i < chain.size(); i++) {
      if (belongsTo(key, chain.get(i).getPublicKey())) {
        throw new PemFileException(
            keyFile,
            "the private key in "
                + keyFile
                + " belongs to certificate "
                + (i + 1)
                + " in "
                + certFile
                + ", not to the first: put the gateway's own certificate first, then the"
                + " intermediates");
      }
    }
    throw new PemFileException(
        keyFile,
        "the private key in "
            + keyFile
            + " ("
            + key.getAlgorithm()
            + ") does not match the certificate "
            + subject(chain.get(0))
            + " in "
            + certFile
            + " ("
            + chain.get(0).getPublicKey().getAlgorithm()
            + ")");
  }

  private static boolean belongsTo(PrivateKey key, PublicKey publicKey) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
          default -> null;
        };
    if (algorithm == null || !key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(CHALLENGE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(CHALLENGE);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      // e.g. an EC key on another curve than the certificate's: not a match
      return false;
    }
  }

  /** The gateway's own certificate. */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  public List<X509Certificate> chain() {
    return chain;
  }

  /**
   * An in-memory key store holding the key and the chain under {@code password}, for the TLS
   * listener's key manager.
   */
  public KeyStore keyStore(char[] password) throws GeneralSecurityException {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("switchboard", key, password, chain.toArray(Certificate[]::new));
      return store;
    } catch (java.io.IOException e) {
      throw new GeneralSecurityException("cannot create an in-memory key store", e);
    }
  }

  /**
   * Why HTTPS senders would refuse (or soon refuse) this certificate at {@code now}: expired, not
   * yet valid, or expiring within two weeks; empty when it is fine.
   */
  public Optional<String> validityWarning(Instant now) {
    return validityWarning(leaf(), now);
  }

  /** As above, for the first certificate of a file read with {@link #readCertificates}. */
  public static Optional<String> validityWarning(X509Certificate leaf, Instant now) {
    Instant notBefore = leaf.getNotBefore().toInstant();
    Instant notAfter = leaf.getNotAfter().toInstant();
    if (now.isAfter(notAfter)) {
      return Optional.of(
          "the certificate "
              + subject(leaf)
              + " expired on "
              + notAfter
              + ": HTTPS senders will refuse it until it is replaced");
    }
    if (now.isBefore(notBefore)) {
      return Optional.of(
          "the certificate "
              + subject(leaf)
              + " is not valid until "
              + notBefore
              + ": HTTPS senders will refuse it until then (is the clock right?)");
    }
    if (now.plus(EXPIRY_NOTICE).isAfter(notAfter)) {
      return Optional.of(
          "the certificate " + subject(leaf) + " expires on " + notAfter + ": replace it soon");
    }
    return Optional.empty();
  }

  /** e.g. "CN=hooks.example.com, valid until 2027-01-31T00:00:00Z". */
  public String describe() {
    return subject(leaf()) + ", valid until " + leaf().getNotAfter().toInstant();
  }

  private static String subject(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName();
  }

  @Override
  public String toString() {
    return "ServerCertificate[" + describe() + "]";
  }
}
