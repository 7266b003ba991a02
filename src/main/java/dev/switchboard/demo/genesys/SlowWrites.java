package dev.switchboard.demo.genesys;

import java.time.Duration;

/**
 * The fake's writes, performed at once and answered at once, or, for the next few after {@link
 * #answerSlowly}, answered only after a delay: a client whose timeout is shorter sees no answer
 * although the write happened, which is what a retry after a lost answer meets.
 */
final class SlowWrites {
  private int slowWrites; // guarded by this
  private Duration slowBy = Duration.ZERO; // guarded by this

  synchronized void answerSlowly(int writes, Duration by) {
    this.slowWrites = writes;
    this.slowBy = by;
  }

  /** Performs a write, then, while the slow knob lasts, answers only after the delay. */
  void write(Runnable change) {
    change.run();
    Duration delay;
    synchronized (this) {
      delay = slowWrites > 0 ? slowBy : Duration.ZERO;
      slowWrites = Math.max(0, slowWrites - 1);
    }
    if (!delay.isZero()) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
