package dev.switchboard.ingest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Reads a request body while counting, so an oversized body is refused mid-stream. */
final class BodyReader {
  private BodyReader() {}

  /** Thrown when more than the limit arrives; nothing read so far is kept. */
  static final class TooLarge extends Exception {
    TooLarge() {
      super(null, null, false, false);
    }
  }

  static byte[] read(InputStream in, long maxBytes, long declaredLength)
      throws IOException, TooLarge {
    int initial = (int) Math.min(Math.max(declaredLength, 1024), Math.min(maxBytes, 1 << 20));
    ByteArrayOutputStream out = new ByteArrayOutputStream(initial);
    byte[] buffer = new byte[8192];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) != -1) {
      total += n;
      if (total > maxBytes) {
        throw new TooLarge();
      }
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }
}
