package dev.switchboard.store;

/** What one retention run removed, per table. */
public record Purged(long events, long deliveries, long attempts, long keys) {
  public static final Purged NONE = new Purged(0, 0, 0, 0);

  public Purged plus(Purged other) {
    return new Purged(
        events + other.events,
        deliveries + other.deliveries,
        attempts + other.attempts,
        keys + other.keys);
  }

  public long rows() {
    return events + deliveries + attempts + keys;
  }
}
