package dev.switchboard.config;

import java.util.Collection;
import java.util.Optional;

/**
 * Suggests the known name a misspelt one was probably meant to be. A candidate matches when it is
 * within a small edit distance (2, or a third of the word for longer words, so {@code retries}
 * still finds {@code retry}) or when one name is a prefix of the other ({@code hmac-sha256} finds
 * {@code hmac-sha256-hex}); the closest match wins, ties going to the earlier candidate.
 */
final class DidYouMean {
  private static final int MIN_PREFIX = 3;

  private DidYouMean() {}

  static Optional<String> suggest(String given, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int distance = distance(given, candidate);
      if (isClose(given, candidate, distance) && distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return Optional.ofNullable(best);
  }

  /** {@code "; did you mean \"x\"?"}, or an empty string when nothing is close. */
  static String hint(String given, Collection<String> candidates) {
    return suggest(given, candidates).map(s -> "; did you mean \"" + s + "\"?").orElse("");
  }

  private static boolean isClose(String given, String candidate, int distance) {
    if (given.equals(candidate)) {
      return false;
    }
    int allowed = Math.max(2, (given.length() + 2) / 3);
    if (distance <= allowed) {
      return true;
    }
    String shorter = given.length() <= candidate.length() ? given : candidate;
    String longer = shorter == given ? candidate : given;
    return shorter.length() >= MIN_PREFIX && longer.startsWith(shorter);
  }

  /** Levenshtein distance, case-insensitive. */
  static int distance(String a, String b) {
    String x = a.toLowerCase(java.util.Locale.ROOT);
    String y = b.toLowerCase(java.util.Locale.ROOT);
    int[] previous = new int[y.length() + 1];
    int[] current = new int[y.length() + 1];
    for (int j = 0; j <= y.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= x.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= y.length(); j++) {
        int cost = x.charAt(i - 1) == y.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[y.length()];
  }
}
