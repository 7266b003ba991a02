package dev.switchboard.ingest;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the requests being ingested hold on the heap, from reading their bodies to their answer: the
 * bytes, the text, the parsed tree and the stored event, reckoned at four times the body's length
 * (its declared length, or the source's {@code max_body} when it declares none). Past a quarter of
 * the heap a new request is answered 503 before its body is read, so a burst of large bodies cannot
 * exhaust the heap the launcher gives the gateway (docs/adr/0011). A request alone is always
 * admitted, however large.
 */
final class BodiesInFlight {
  private static final int HELD_PER_BYTE = 4;

  private final long limit;
  private final AtomicLong held = new AtomicLong();

  BodiesInFlight(long limit) {
    this.limit = limit;
  }

  static BodiesInFlight ofHeap() {
    return new BodiesInFlight(Runtime.getRuntime().maxMemory() / 4);
  }

  /** What a request is reckoned to hold; 0 for an empty body. */
  static long reckon(long declaredLength, long maxBody) {
    long length = declaredLength >= 0 ? Math.min(declaredLength, maxBody) : maxBody;
    return HELD_PER_BYTE * Math.max(0, length);
  }

  /** Takes {@code bytes}, or returns false when they do not fit beside the requests in flight. */
  boolean reserve(long bytes) {
    long now = held.addAndGet(bytes);
    if (now > limit && now != bytes) {
      held.addAndGet(-bytes);
      return false;
    }
    return true;
  }

  void release(long bytes) {
    held.addAndGet(-bytes);
  }

  long held() {
    return held.get();
  }
}
