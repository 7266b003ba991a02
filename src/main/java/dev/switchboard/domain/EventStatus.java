package dev.switchboard.domain;

/** An event is either accepted for delivery or quarantined (failed its source's JSON Schema). */
public enum EventStatus {
  ACCEPTED,
  QUARANTINED;

  public String dbValue() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static EventStatus fromDb(String value) {
    return valueOf(value.toUpperCase(java.util.Locale.ROOT));
  }
}
