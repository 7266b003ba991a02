package dev.switchboard.dispatch;

/**
 * The bytes the destinations' {@link LaneMemory}s may hold, besides each one's count: bodies of any
 * size then fit the heap the launcher gives the gateway (docs/adr/0011). Each lane may hold an
 * equal share, so a destination that holds what it has (paused, its breaker open) never takes the
 * room of the others. What does not fit stays in the store and is read in later. Only the
 * dispatcher's loop thread touches it.
 */
final class LaneBytes {
  private final long limit;
  private int lanes = 1;
  private long used;

  LaneBytes(long limit) {
    this.limit = limit;
  }

  static LaneBytes unbounded() {
    return new LaneBytes(Long.MAX_VALUE);
  }

  /** A quarter of the heap: the lanes' part of it by default. */
  static long defaultLimit() {
    return Runtime.getRuntime().maxMemory() / 4;
  }

  /** How many lanes share the limit (the destinations configured, and those withdrawn). */
  void shareAmong(int count) {
    this.lanes = Math.max(1, count);
  }

  /** What one lane may hold. */
  long share() {
    return limit / lanes;
  }

  void take(long bytes) {
    used += bytes;
  }

  void give(long bytes) {
    used -= bytes;
  }

  /** What all lanes hold together. */
  long used() {
    return used;
  }
}
