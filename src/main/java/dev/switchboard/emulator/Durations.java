package dev.switchboard.emulator;

import java.time.Duration;

/** Parses short durations such as {@code 500ms}, {@code 30s}, {@code 2m}. */
public final class Durations {
  private Durations() {}

  public static Duration parse(String text) {
    String t = text.strip();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (t.charAt(t.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException("bad duration " + text);
      };
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("bad duration " + text + " (e.g. 500ms, 30s, 2m)", e);
    }
  }
}
