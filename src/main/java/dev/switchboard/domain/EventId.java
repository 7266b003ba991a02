package dev.switchboard.domain;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The gateway's id for an accepted event: {@code evt_} + a time-ordered 128-bit value (48 bits of
 * epoch milliseconds, then random bits), so ids sort by receive time in every store.
 */
public record EventId(String value) {
  private static final SecureRandom RANDOM = new SecureRandom();

  public EventId {
    Objects.requireNonNull(value, "value");
  }

  public static EventId generate(Instant now) {
    return new EventId("evt_" + timeOrdered(now));
  }

  static String timeOrdered(Instant now) {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    long ms = now.toEpochMilli();
    for (int i = 0; i < 6; i++) {
      bytes[i] = (byte) (ms >>> (40 - 8 * i));
    }
    return HexFormat.of().formatHex(bytes);
  }

  @Override
  public String toString() {
    return value;
  }
}
