package dev.switchboard.tls;

import java.nio.file.Path;

/**
 * A PEM file that cannot be used, and why. The message names the file and never contains its
 * content (a key file holds a secret).
 */
public final class PemFileException extends Exception {
  private final Path file;

  PemFileException(Path file, String message) {
    super(message, null, false, false);
    this.file = file;
  }

  /** The file at fault: the certificate or the key file. */
  public Path file() {
    return file;
  }
}
