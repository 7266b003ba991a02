package dev.switchboard.ingest;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Reads an event time from an expression's result: ISO-8601 text or epoch milliseconds. */
public final class EventTimes {
  private EventTimes() {}

  /** Returns the instant in UTC, or null when the value is neither form. */
  public static Instant parse(Object value) {
    if (value instanceof Number n) {
      return Instant.ofEpochMilli(n.longValue());
    }
    if (!(value instanceof String text) || text.isBlank()) {
      return null;
    }
    String t = text.trim();
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
}
