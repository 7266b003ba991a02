package dev.switchboard.ingest;

import java.nio.charset.StandardCharsets;

/**
 * What a key derived from a request (its idempotency key, its partition key) may hold, so that the
 * store can always write and index it: at most {@link #MAX_BYTES} bytes of UTF-8, no control
 * characters (PostgreSQL refuses NUL in text; the rest are never part of a real id) and no unpaired
 * surrogate (it has no UTF-8 form, so two different keys would be stored as the same one). The
 * limit is well under PostgreSQL's largest index entry (about 2,700 bytes), which also holds the
 * source or route name beside the key.
 */
final class DerivedKeys {
  static final int MAX_BYTES = 1024;

  private DerivedKeys() {}

  /** The rule {@code key} breaks, said without quoting it, or null when it is fine. */
  static String problem(String key) {
    if (key.length() > MAX_BYTES || key.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      return "is longer than " + MAX_BYTES + " bytes";
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isISOControl(c)) {
        return "contains a control character (U+%04X)".formatted((int) c);
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < key.length()
          && Character.isLowSurrogate(key.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return "contains an unpaired surrogate (not valid Unicode)";
      }
    }
    return null;
  }
}
