package dev.switchboard.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Collects every {@link ConfigProblem} found while reading one file, so the user sees them all at
 * once instead of fixing one per run.
 */
final class Problems {
  private final String file;
  private final List<ConfigProblem> found = new ArrayList<>();

  Problems(String file) {
    this.file = file;
  }

  /** Adds a problem; the same problem found twice (a node read by two checks) is kept once. */
  void add(int line, String path, String message) {
    ConfigProblem problem = new ConfigProblem(file, line, path, message);
    if (!found.contains(problem)) {
      found.add(problem);
    }
  }

  boolean isEmpty() {
    return found.isEmpty();
  }

  /** The problems in file order (stable for problems on the same line). */
  ConfigException exception() {
    List<ConfigProblem> sorted = new ArrayList<>(found);
    sorted.sort(Comparator.comparingInt(ConfigProblem::line));
    return new ConfigException(sorted);
  }
}
