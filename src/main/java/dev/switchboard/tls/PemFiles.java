package dev.switchboard.tls;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads certificates and private keys from PEM files with BouncyCastle's parser: {@code BEGIN
 * CERTIFICATE} blocks, and {@code BEGIN PRIVATE KEY} (PKCS#8), {@code BEGIN RSA PRIVATE KEY}
 * (PKCS#1) or {@code BEGIN EC PRIVATE KEY} (SEC1) keys. A certificate file may also hold the key
 * and a key file the certificates (one combined file serves as both). The keys are converted by the
 * JDK's own providers; BouncyCastle is not registered as a security provider.
 *
 * <p>Failure policy: anything unusable is a {@link PemFileException} naming the file and saying
 * what to do. A key's parse errors are reported by type only, never with the parser's text, so no
 * part of a key reaches a message or a log.
 */
final class PemFiles {
  private PemFiles() {}

  /** Every certificate in the file, in file order; at least one. */
  static List<X509Certificate> certificates(Path file) throws PemFileException {
    List<Object> objects = read(file, "certificate");
    List<X509Certificate> certificates = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    for (Object object : objects) {
      if (object instanceof X509CertificateHolder holder) {
        try {
          certificates.add(converter.getCertificate(holder));
        } catch (CertificateException e) {
          throw new PemFileException(
              file,
              "certificate "
                  + (certificates.size() + 1)
                  + " in "
                  + file
                  + " cannot be read: "
                  + e.getMessage());
        }
      }
    }
    if (certificates.isEmpty()) {
      throw new PemFileException(
          file,
          "certificate file "
              + file
              + " holds no certificate ("
              + found(objects)
              + "): expected -----BEGIN CERTIFICATE-----");
    }
    return List.copyOf(certificates);
  }

  /** The one private key in the file. */
  static PrivateKey privateKey(Path file) throws PemFileException {
    List<Object> objects = read(file, "key");
    List<PrivateKey> keys = new ArrayList<>();
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    for (Object object : objects) {
      try {
        switch (object) {
          case PrivateKeyInfo info -> keys.add(converter.getPrivateKey(info));
          // only the private half: a SEC1 EC key may come without its public key
          case PEMKeyPair pair -> keys.add(converter.getPrivateKey(pair.getPrivateKeyInfo()));
          case PKCS8EncryptedPrivateKeyInfo ignored -> throw encrypted(file);
          case PEMEncryptedKeyPair ignored -> throw encrypted(file);
          default -> {
            // certificates (a combined file) and EC PARAMETERS blocks are not keys
          }
        }
      } catch (IOException e) {
        // the converter's message may quote the key's structure: name the failure's type only
        throw new PemFileException(
            file,
            "the private key in "
                + file
                + " cannot be read ("
                + e.getClass().getSimpleName()
                + "): expected an unencrypted RSA or EC key");
      }
    }
    if (keys.isEmpty()) {
      throw new PemFileException(
          file,
          "key file "
              + file
              + " holds no private key ("
              + found(objects)
              + "): expected -----BEGIN PRIVATE KEY-----");
    }
    if (keys.size() > 1) {
      throw new PemFileException(
          file, "key file " + file + " holds " + keys.size() + " private keys: keep only one");
    }
    return keys.get(0);
  }

  private static PemFileException encrypted(Path file) {
    return new PemFileException(
        file,
        "the private key in "
            + file
            + " is encrypted: give it unencrypted (openssl pkey -in KEY -out PLAIN.key)"
            + " and protect the file by its permissions");
  }

  /** The PEM objects of the file; a problem when it cannot be read or has none. */
  private static List<Object> read(Path file, String what) throws PemFileException {
    if (Files.isDirectory(file)) {
      throw new PemFileException(file, what + " file " + file + " is a directory, not a file");
    }
    String text;
    try {
      // PEM is ASCII; Latin-1 never fails, so binary (DER) content reaches the "not PEM" answer
      text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw new PemFileException(file, what + " file " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw new PemFileException(
          file, what + " file " + file + " cannot be read: permission denied");
    } catch (IOException e) {
      throw new PemFileException(
          file, what + " file " + file + " cannot be read: " + e.getClass().getSimpleName());
    }
    List<Object> objects = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(text))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        objects.add(o);
      }
    } catch (IOException | RuntimeException e) {
      // a key file's broken block could be echoed by the parser: say where, not what
      throw new PemFileException(
          file,
          what
              + " file "
              + file
              + " is not valid PEM (a block after "
              + objects.size()
              + " readable one(s) is damaged or of an unknown type)");
    }
    if (objects.isEmpty()) {
      throw new PemFileException(
          file,
          what
              + " file "
              + file
              + " is not PEM: it has no -----BEGIN ...----- block"
              + (what.equals("certificate")
                  ? " (a DER file converts with openssl x509 -inform der -in FILE -out FILE.pem)"
                  : ""));
    }
    return objects;
  }

  /** What a file held instead, by PEM type, e.g. "found a certificate". */
  private static String found(List<Object> objects) {
    Set<String> kinds = new TreeSet<>();
    for (Object o : objects) {
      kinds.add(
          switch (o) {
            case X509CertificateHolder ignored -> "a certificate";
            case PrivateKeyInfo ignored -> "a private key";
            case PEMKeyPair ignored -> "a private key";
            case PKCS8EncryptedPrivateKeyInfo ignored -> "an encrypted private key";
            case PEMEncryptedKeyPair ignored -> "an encrypted private key";
            case ASN1ObjectIdentifier ignored -> "EC parameters";
            default -> "a " + o.getClass().getSimpleName().replaceAll("(Holder|Info)$", "");
          });
    }
    return "found " + String.join(", ", kinds);
  }
}
