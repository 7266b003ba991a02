package dev.switchboard.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A fuzz input shaped like a small HTTP message, so that seed files stay readable: a first line,
 * then {@code name: value} lines, then an empty line and the body as raw bytes.
 */
record FuzzInput(String firstLine, Map<String, String> headers, byte[] body) {

  static FuzzInput parse(byte[] data) {
    int end = indexOf(data, new byte[] {'\n', '\n'});
    byte[] head = end < 0 ? data : Arrays.copyOfRange(data, 0, end);
    byte[] body = end < 0 ? new byte[0] : Arrays.copyOfRange(data, end + 2, data.length);
    String[] lines = new String(head, StandardCharsets.UTF_8).split("\n", -1);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        // what the HTTP layer hands on: lower-case names, first value wins
        headers.putIfAbsent(
            lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
    }
    return new FuzzInput(lines[0], headers, body);
  }

  private static int indexOf(byte[] data, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= data.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
