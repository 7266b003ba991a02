package dev.switchboard.ingest;

import dev.switchboard.config.SourceConfig;

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
  private static final String TOO_LONG = "is longer than " + MAX_BYTES + " bytes";

  private DerivedKeys() {}

  /**
   * A 400 for a derived key the store could not write or index, or null; refused here, it cannot
   * fail the group commit of the requests written beside it.
   */
  static IngestResponse refusal(SourceConfig config, String key, String partitionKey) {
    String problem = key == null ? null : problem(key);
    if (problem != null) {
      return IngestResponse.reject(
          Rejection.IDEMPOTENCY_KEY_INVALID,
          "the idempotency key "
              + IngestService.quote(config.idempotency().key().text())
              + " gave a value that "
              + problem);
    }
    problem = partitionKey == null ? null : problem(partitionKey);
    if (problem != null) {
      return IngestResponse.reject(
          Rejection.PARTITION_KEY_INVALID,
          "the partition key "
              + IngestService.quote(config.partitionKey().text())
              + " gave a value that "
              + problem);
    }
    return null;
  }

  /**
   * The rule {@code key} breaks, said without quoting it, or null when it is fine. One pass over
   * the characters, counting their UTF-8 bytes as it goes (no copy of the key on every request).
   */
  static String problem(String key) {
    if (key.length() > MAX_BYTES) {
      return TOO_LONG;
    }
    int bytes = 0;
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isISOControl(c)) {
        return "contains a control character (U+%04X)".formatted((int) c);
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < key.length()
          && Character.isLowSurrogate(key.charAt(i + 1))) {
        i++;
        bytes += 4;
      } else if (Character.isSurrogate(c)) {
        return "contains an unpaired surrogate (not valid Unicode)";
      } else {
        bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
    }
    return bytes > MAX_BYTES ? TOO_LONG : null;
  }
}
