package dev.switchboard.dispatch;

/**
 * The bytes every destination's {@link LaneMemory} may hold together, besides each one's count:
 * bodies of any size then fit the heap the launcher gives the gateway (docs/adr/0011). What does
 * not fit stays in the store and is read in later. Only the dispatcher's loop thread touches it.
 */
final class LaneBytes {
  /** The lanes' share of the heap by default. */
  static final long DEFAULT_LIMIT = 48L << 20;

  private final long limit;
  private long used;

  LaneBytes(long limit) {
    this.limit = limit;
  }

  static LaneBytes unbounded() {
    return new LaneBytes(Long.MAX_VALUE);
  }

  boolean fits(long bytes) {
    return used + bytes <= limit;
  }

  /** Less than half is used: worth reading more in from the store. */
  boolean roomy() {
    return used < limit / 2;
  }

  void take(long bytes) {
    used += bytes;
  }

  void give(long bytes) {
    used -= bytes;
  }

  long used() {
    return used;
  }
}
