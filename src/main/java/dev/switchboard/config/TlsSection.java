package dev.switchboard.config;

import dev.switchboard.config.ServerConfig.TlsConfig;
import dev.switchboard.tls.PemFileException;
import dev.switchboard.tls.ServerCertificate;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Reads {@code server.tls} and checks its files the way the listener will use them, so {@code
 * switchboard validate} catches a missing file, a file that is not PEM or a key that does not
 * belong to the certificate, at the line of the key at fault. Paths are relative to the
 * configuration file's directory. The key's content is never part of a problem.
 */
final class TlsSection {
  private TlsSection() {}

  /** The resolved paths, or null when {@code tls} is absent (or unusable, with problems). */
  static TlsConfig read(YamlNodeReader tls, Path baseDir) {
    if (!tls.present()) {
      return null;
    }
    Path cert = resolve(tls, "cert", baseDir);
    Path key = resolve(tls, "key", baseDir);
    List<X509Certificate> chain = null;
    PrivateKey privateKey = null;
    if (cert != null) {
      try {
        chain = ServerCertificate.readCertificates(cert);
      } catch (PemFileException e) {
        tls.problem("cert", e.getMessage());
      }
    }
    if (key != null) {
      try {
        privateKey = ServerCertificate.readPrivateKey(key);
      } catch (PemFileException e) {
        tls.problem("key", e.getMessage());
      }
    }
    if (chain != null && privateKey != null) {
      try {
        ServerCertificate.checkKeyMatches(privateKey, key, chain, cert);
      } catch (PemFileException e) {
        tls.problem("key", e.getMessage());
      }
    }
    return cert == null || key == null ? null : new TlsConfig(cert.toString(), key.toString());
  }

  private static Path resolve(YamlNodeReader tls, String name, Path baseDir) {
    String text = tls.required(name);
    if (text == null) {
      return null;
    }
    try {
      return baseDir.resolve(text.trim()).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      tls.problem(name, "bad " + name + " path: " + e.getReason());
      return null;
    }
  }
}
