package dev.switchboard.config;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown by {@link ConfigLoader} with every problem found, never just the first. */
public class ConfigException extends Exception {
  private final List<ConfigProblem> problems;

  public ConfigException(List<ConfigProblem> problems) {
    super(
        problems.size()
            + " configuration problem(s):\n"
            + problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public List<ConfigProblem> problems() {
    return problems;
  }
}
