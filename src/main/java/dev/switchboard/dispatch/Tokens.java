package dev.switchboard.dispatch;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;

/** Claim tokens, and the cause worth logging of a store's refusal. */
final class Tokens {
  private Tokens() {}

  /** A fresh claim token: 128 random bits in hex. */
  static String next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
  }

  /** The error under the wrappers a future adds. */
  static String rootMessage(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t.toString();
  }
}
