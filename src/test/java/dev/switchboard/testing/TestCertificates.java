package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Certificates and keys made at test time (no private key is ever committed): a test CA, server
 * certificates it issues for {@code localhost} and {@code 127.0.0.1}, and PEM files in the formats
 * operators bring — PKCS#8, or the traditional {@code RSA PRIVATE KEY} / {@code EC PRIVATE KEY}.
 */
public final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A key pair and the certificate for its public key. */
  public record Identity(KeyPair keys, X509Certificate certificate) {
    public PrivateKey privateKey() {
      return keys.getPrivate();
    }
  }

  private TestCertificates() {}

  /** "RSA" (2048 bits) or "EC" (P-256). */
  public static KeyPair keyPair(String type) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(type);
      if (type.equals("EC")) {
        generator.initialize(new ECGenParameterSpec("secp256r1"));
      } else {
        generator.initialize(2048);
      }
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A self-signed CA, valid from yesterday for 30 days. */
  public static Identity ca(String keyType) {
    KeyPair keys = keyPair(keyType);
    X500Name name = new X500Name("CN=Switchboard Test CA " + SERIAL.get());
    Instant now = Instant.now();
    return new Identity(
        keys,
        build(
            name,
            keys,
            name,
            keys,
            now.minus(Duration.ofDays(1)),
            now.plus(Duration.ofDays(30)),
            true));
  }

  /** A server certificate for localhost and 127.0.0.1, valid from yesterday for 30 days. */
  public static Identity server(Identity ca, String keyType) {
    Instant now = Instant.now();
    return server(ca, keyType, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)));
  }

  /** A server certificate for localhost and 127.0.0.1 with the given validity. */
  public static Identity server(Identity ca, String keyType, Instant notBefore, Instant notAfter) {
    KeyPair keys = keyPair(keyType);
    X500Name issuer = X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
    return new Identity(
        keys,
        build(new X500Name("CN=localhost"), keys, issuer, ca.keys(), notBefore, notAfter, false));
  }

  private static X509Certificate build(
      X500Name subject,
      KeyPair subjectKeys,
      X500Name issuer,
      KeyPair issuerKeys,
      Instant notBefore,
      Instant notAfter,
      boolean isCa) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  issuer,
                  BigInteger.valueOf(SERIAL.incrementAndGet()),
                  Date.from(notBefore),
                  Date.from(notAfter),
                  subject,
                  subjectKeys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(subjectKeys.getPublic()))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
      if (isCa) {
        builder.addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        builder
            .addExtension(
                Extension.keyUsage,
                true,
                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
            .addExtension(
                Extension.extendedKeyUsage,
                false,
                new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
            .addExtension(
                Extension.subjectAlternativeName,
                false,
                new GeneralNames(
                    new GeneralName[] {
                      new GeneralName(GeneralName.dNSName, "localhost"),
                      new GeneralName(GeneralName.iPAddress, "127.0.0.1")
                    }));
      }
      String algorithm =
          issuerKeys.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKeys.getPrivate())));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the certificates as PEM, in the given order. */
  public static Path writeCertificates(Path file, X509Certificate... certificates)
      throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      for (X509Certificate certificate : certificates) {
        pem.writeObject(certificate);
      }
    }
    return Files.writeString(file, text.toString());
  }

  /** {@code -----BEGIN PRIVATE KEY-----} (PKCS#8). */
  public static Path writePkcs8Key(Path file, PrivateKey key) throws IOException {
    return Files.writeString(file, pkcs8(key));
  }

  public static String pkcs8(PrivateKey key) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      pem.writeObject(new JcaPKCS8Generator(key, null));
    }
    return text.toString();
  }

  /**
   * {@code -----BEGIN RSA PRIVATE KEY-----} (PKCS#1) or {@code EC PRIVATE KEY} (SEC1, with its
   * curve and public key, as OpenSSL writes it).
   */
  public static Path writeTraditionalKey(Path file, KeyPair keys) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      if (keys.getPrivate() instanceof ECPrivateKey ec) {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(ec.getEncoded());
        byte[] point =
            SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded())
                .getPublicKeyData()
                .getBytes();
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 =
            new org.bouncycastle.asn1.sec.ECPrivateKey(
                ec.getParams().getOrder().bitLength(),
                ec.getS(),
                new DERBitString(point),
                info.getPrivateKeyAlgorithm().getParameters());
        pem.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
      } else {
        pem.writeObject(keys.getPrivate());
      }
    }
    return Files.writeString(file, text.toString());
  }

  /**
   * {@code -----BEGIN ENCRYPTED PRIVATE KEY-----} (PKCS#8), or with {@code pkcs8} false the
   * traditional OpenSSL form: {@code Proc-Type: 4,ENCRYPTED}. Encrypted with BouncyCastle's own
   * provider (the JDK names the ciphers differently), given here only, never registered.
   */
  public static Path writeEncryptedKey(Path file, PrivateKey key, char[] password, boolean pkcs8)
      throws IOException {
    try {
      StringWriter text = new StringWriter();
      if (!pkcs8) {
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
          pem.writeObject(
              key,
              new JcePEMEncryptorBuilder("AES-128-CBC")
                  .setProvider(new BouncyCastleProvider())
                  .build(password));
        }
        return Files.writeString(file, text.toString());
      }
      try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
        pem.writeObject(
            new JcaPKCS8Generator(
                key,
                new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                    .setProvider(new BouncyCastleProvider())
                    .setRandom(new SecureRandom())
                    .setPassword(password)
                    .build()));
      }
      return Files.writeString(file, text.toString());
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Fails if {@code text} holds any 16-character piece of the key file's base64 body: messages and
   * logs must never carry key material.
   */
  public static void assertNoKeyMaterial(String text, Path keyFile) {
    try {
      for (String line : Files.readAllLines(keyFile)) {
        if (line.startsWith("-----") || line.contains(":") || line.length() < 16) {
          continue;
        }
        for (int i = 0; i + 16 <= line.length(); i += 8) {
          assertThat(text).as("text quoting the key").doesNotContain(line.substring(i, i + 16));
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
