package dev.switchboard.store;

import java.util.Map;

/**
 * What an event's body and headers hold on the heap, reckoned from their lengths: two bytes a
 * character (a string that is not Latin-1 takes two), plus a fixed cost per object. The in-memory
 * queues are bounded by it as well as by count (docs/adr/0011), so a few large bodies weigh as much
 * as many small ones.
 */
public final class HeldBytes {
  /** The record around the body, its ids and times. */
  private static final long RECORD = 256;

  /** One header's map entry and strings, besides their characters. */
  private static final long HEADER = 96;

  private HeldBytes() {}

  public static long of(String payload, Map<String, String> headers) {
    long bytes = RECORD + 2L * (payload == null ? 0 : payload.length());
    if (headers != null) {
      for (Map.Entry<String, String> h : headers.entrySet()) {
        bytes +=
            HEADER
                + 2L * (h.getKey().length() + (h.getValue() == null ? 0 : h.getValue().length()));
      }
    }
    return bytes;
  }
}
