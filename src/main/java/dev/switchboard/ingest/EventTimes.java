package dev.switchboard.ingest;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Reads an event time from an expression's result: ISO-8601 text or epoch milliseconds. */
public final class EventTimes {
  private EventTimes() {}

  // outside these years a time is garbage, and could not be stored as epoch milliseconds
  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

  /**
   * Returns the instant in UTC, or null when the value is neither form or lies outside the years
   * 1–9999 (the caller then uses the receive time).
   */
  public static Instant parse(Object value) {
    Instant instant;
    try {
      instant = parseAny(value);
    } catch (RuntimeException e) {
      return null;
    }
    return instant == null || instant.isBefore(EARLIEST) || instant.isAfter(LATEST)
        ? null
        : instant;
  }

  private static Instant parseAny(Object value) {
    if (value instanceof Number n) {
      return Instant.ofEpochMilli(n.longValue());
    }
    if (!(value instanceof String text) || text.isBlank()) {
      return null;
    }
    String t = text.trim();
    Instant fast = parseUtcFast(t);
    if (fast != null) {
      return fast;
    }
    try {
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException notOffset) {
      try {
        return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException notLocal) {
        if (t.chars().allMatch(Character::isDigit)) {
          return Instant.ofEpochMilli(Long.parseLong(t));
        }
        return null;
      }
    }
  }

  /**
   * The form nearly every sender uses, {@code 2026-10-27T14:30:00Z} or with a fraction, read
   * without the general formatter (which costs several microseconds on every request). Anything
   * else returns null and takes the general path.
   */
  static Instant parseUtcFast(String t) {
    int n = t.length();
    if (n < 20
        || t.charAt(n - 1) != 'Z'
        || t.charAt(4) != '-'
        || t.charAt(7) != '-'
        || t.charAt(10) != 'T'
        || t.charAt(13) != ':'
        || t.charAt(16) != ':') {
      return null;
    }
    int year = digits(t, 0, 4);
    int month = digits(t, 5, 2);
    int day = digits(t, 8, 2);
    int hour = digits(t, 11, 2);
    int minute = digits(t, 14, 2);
    int second = digits(t, 17, 2);
    int nanos = 0;
    if (n > 20) {
      int fractionDigits = n - 21;
      if (t.charAt(19) != '.' || fractionDigits < 1 || fractionDigits > 9) {
        return null;
      }
      int fraction = digits(t, 20, fractionDigits);
      if (fraction < 0) {
        return null;
      }
      nanos = fraction * (int) Math.pow(10, 9 - fractionDigits);
    } else if (n != 20) {
      return null;
    }
    if ((year | month | day | hour | minute | second) < 0) {
      return null;
    }
    try {
      return LocalDateTime.of(year, month, day, hour, minute, second, nanos)
          .toInstant(ZoneOffset.UTC);
    } catch (java.time.DateTimeException e) {
      return null;
    }
  }

  private static int digits(String t, int from, int count) {
    int value = 0;
    for (int i = from; i < from + count; i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}
