package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import java.time.Duration;
import java.time.Instant;

/**
 * Per destination: closed while it works; open after {@code failures} retryable failures in a row,
 * admitting nothing for {@code openFor}; then half-open, admitting one probe, whose success closes
 * it and whose failure opens it again. Refusals (4xx) say the destination is up and count as
 * success. Not thread-safe: the dispatcher's loop owns it.
 */
final class CircuitBreaker {
  enum State {
    CLOSED,
    OPEN,
    HALF_OPEN
  }

  private final int threshold;
  private final Duration openFor;
  private State state = State.CLOSED;
  private int failures;
  private Instant openUntil = Instant.MIN;
  private boolean probing;

  CircuitBreaker(DestinationConfig.Breaker config) {
    this.threshold = config.failures();
    this.openFor = config.openFor();
  }

  /** Whether an attempt may start now (moves open to half-open once its time is up). */
  boolean allows(Instant now) {
    if (state == State.OPEN && !now.isBefore(openUntil)) {
      state = State.HALF_OPEN;
      probing = false;
    }
    return state == State.CLOSED || (state == State.HALF_OPEN && !probing);
  }

  /** An attempt was admitted; in half-open it is the probe. */
  void admitted() {
    if (state == State.HALF_OPEN) {
      probing = true;
    }
  }

  void succeeded() {
    state = State.CLOSED;
    failures = 0;
    probing = false;
  }

  void failed(Instant now) {
    failures++;
    if (state == State.HALF_OPEN || (state == State.CLOSED && failures >= threshold)) {
      state = State.OPEN;
      openUntil = now.plus(openFor);
      probing = false;
    }
  }

  /**
   * Another node's breaker for the destination is open (or its probe runs) until {@code until}:
   * open here too until then (docs/adr/0009-cluster-limits.md).
   */
  void openUntil(Instant until) {
    state = State.OPEN;
    openUntil = until;
    probing = false;
  }

  /** The admitted attempt made no request after all (stale, transform error, lost claim). */
  void noAttempt() {
    probing = false;
  }

  State state() {
    return state;
  }

  /** When an open breaker lets a probe through. */
  Instant openUntil() {
    return openUntil;
  }
}
