package dev.switchboard.cli;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.SwitchboardConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code switchboard validate FILE}: every problem with file, line and key; exit 1 if any. */
@Command(name = "validate", description = "Check a configuration file and report every problem.")
final class ValidateCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", description = "the YAML configuration")
  Path file;

  @Override
  public Integer call() {
    try {
      SwitchboardConfig config = ConfigLoader.load(file);
      System.out.printf(
          "%s: OK (%d source(s), %d route(s), %d destination(s))%n",
          file, config.sources().size(), config.routes().size(), config.destinations().size());
      return 0;
    } catch (ConfigException e) {
      for (ConfigProblem problem : e.problems()) {
        System.err.println(problem);
      }
      System.err.printf("%s: %d problem(s)%n", file, e.problems().size());
      return 1;
    }
  }
}
