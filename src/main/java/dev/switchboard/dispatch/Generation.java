package dev.switchboard.dispatch;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts started under one configuration. A reload retires the generation with the connectors
 * and enrichers it replaced; they are closed once the last attempt of the generation has ended, so
 * a delivery in flight on a replaced connector finishes on it. Thread-safe.
 */
final class Generation {
  private static final Logger LOG = LoggerFactory.getLogger(Generation.class);

  private int running;
  private boolean retired;
  private final List<Runnable> toClose = new ArrayList<>();

  synchronized void enter() {
    running++;
  }

  void leave() {
    List<Runnable> closing;
    synchronized (this) {
      running--;
      closing = retired && running == 0 ? drain() : List.of();
    }
    closing.forEach(Generation::closeQuietly);
  }

  /** No more attempts start in this generation; {@code replaced} closes when the last one ends. */
  void retire(List<Runnable> replaced) {
    List<Runnable> closing;
    synchronized (this) {
      retired = true;
      toClose.addAll(replaced);
      closing = running == 0 ? drain() : List.of();
    }
    closing.forEach(Generation::closeQuietly);
  }

  /** Retired, and everything it had to close is closed. */
  synchronized boolean finished() {
    return retired && running == 0 && toClose.isEmpty();
  }

  /** At shutdown, after the grace: whatever still runs is abandoned to the store's lease. */
  void closeNow() {
    List<Runnable> closing;
    synchronized (this) {
      closing = drain();
    }
    closing.forEach(Generation::closeQuietly);
  }

  private List<Runnable> drain() {
    List<Runnable> all = List.copyOf(toClose);
    toClose.clear();
    return all;
  }

  private static void closeQuietly(Runnable close) {
    try {
      close.run();
    } catch (RuntimeException e) {
      LOG.warn("closing a replaced connector failed: {}", e.toString());
    }
  }
}
